"""grafterr_pipeline: Grafterr orders into partitioned Parquet and DuckDB, run by Dagster.

The library modules (settings, client, sandbox, normalisation, warehouse, webhooks) never
import Dagster; :mod:`grafterr_pipeline.defs` composes them into assets.
"""

from __future__ import annotations

import logging

from grafterr_pipeline.businessdate import business_date_of, pull_window
from grafterr_pipeline.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    GrafterrError,
    IncompletePullError,
    InvalidOrderError,
    MalformedResponseError,
    RequestRejectedError,
    RetriesExhaustedError,
    WarehouseError,
)
from grafterr_pipeline.settings import ApiNames, Secret, Settings, Timeouts

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "ApiNames",
    "AuthenticationError",
    "ConfigurationError",
    "GrafterrError",
    "IncompletePullError",
    "InvalidOrderError",
    "MalformedResponseError",
    "RequestRejectedError",
    "RetriesExhaustedError",
    "Secret",
    "Settings",
    "Timeouts",
    "WarehouseError",
    "__version__",
    "business_date_of",
    "pull_window",
]

# A library stays quiet unless the application configures logging.
logging.getLogger(__name__).addHandler(logging.NullHandler())
