"""Orders into the warehouse's four tables, with a quarantine for what breaks the contract."""

from __future__ import annotations

from grafterr_pipeline.normalise.day import NormalisedDay, normalise_day
from grafterr_pipeline.normalise.orders import NormaliseOptions, OrderRows, order_rows
from grafterr_pipeline.normalise.schema import QUARANTINE, TABLES, WAREHOUSE_TABLES
from grafterr_pipeline.normalise.values import dumps, loads

__all__ = [
    "QUARANTINE",
    "TABLES",
    "WAREHOUSE_TABLES",
    "NormaliseOptions",
    "NormalisedDay",
    "OrderRows",
    "dumps",
    "loads",
    "normalise_day",
    "order_rows",
]
