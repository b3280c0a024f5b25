"""Fixtures of the warehouse tests: sandbox days landed once per session."""

from __future__ import annotations

import pytest

from grafterr_pipeline.warehouse import Warehouse
from tests.warehouse.helpers import DATES, sandbox_day


@pytest.fixture(scope="session")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """Two sandbox business dates landed, with the views created."""
    warehouse = Warehouse(tmp_path_factory.mktemp("data"))
    for day in DATES:
        warehouse.land(sandbox_day(day))
    warehouse.refresh_views()
    return warehouse
