"""Fixtures of the warehouse tests: sandbox days landed once per module."""

from __future__ import annotations

import pytest

from grafterr_pipeline.warehouse import Warehouse
from tests.warehouse.helpers import DATES, normalised, sandbox_orders


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Two sandbox business dates landed, with the views created."""
    warehouse = Warehouse(tmp_path_factory.mktemp("data"))
    for day in DATES:
        warehouse.land(normalised(day, sandbox_orders(day).values()))
    warehouse.refresh_views()
    return warehouse
