"""Damaged files: a summary is rebuilt from the base tables, a damaged day blocks only itself."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.warehouse.summary import SUMMARY_DIR, stale_months
from grafterr_pipeline.warehouse.views import DAILY_SALES_SQL
from tests.warehouse.helpers import DATES, sandbox_day

MONTH = "business_month=2026-11"


def _summary(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query("SELECT * FROM daily_sales ORDER BY ALL").rows


def _over_base_tables(warehouse: Warehouse) -> list[tuple]:
    return warehouse.query(f"SELECT * FROM ({DAILY_SALES_SQL}) ORDER BY ALL").rows


def _only_file(folder: Path) -> Path:
    (path,) = folder.glob("*.parquet")
    return path


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a parquet file at all")


def _damage_pages(path: Path) -> None:
    """Overwrite the data pages and keep the footer (and its row counts) intact."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little") + 8
    data[4 : len(data) - footer] = b"\xff" * (len(data) - footer - 4)
    path.write_bytes(bytes(data))


@pytest.fixture
def two_days(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path)
    for day in DATES:
        warehouse.land(sandbox_day(day))
    warehouse.refresh_views()
    return warehouse


@pytest.mark.parametrize(
    "damage",
    [_truncate, _garbage, _damage_pages],
    ids=["truncated", "garbage", "pages-damaged-footer-intact"],
)
def test_a_damaged_summary_is_stale_and_refresh_views_rebuilds_it_from_the_base_tables(
    two_days: Warehouse, damage: Callable[[Path], None]
) -> None:
    tables_dir = two_days.location.local_path
    damage(_only_file(tables_dir / SUMMARY_DIR / MONTH))

    stale = stale_months(tables_dir)
    two_days.refresh_views()

    assert stale == ["2026-11"]
    assert stale_months(tables_dir) == []
    assert _summary(two_days) == _over_base_tables(two_days)


@pytest.mark.parametrize(
    "damage", [_truncate, _damage_pages], ids=["truncated", "pages-damaged-footer-intact"]
)
def test_a_land_over_a_damaged_summary_recomputes_every_date_instead_of_copying_them(
    two_days: Warehouse, damage: Callable[[Path], None]
) -> None:
    tables_dir = two_days.location.local_path
    damage(_only_file(tables_dir / SUMMARY_DIR / MONTH))

    two_days.land(sandbox_day(DATES[1]))

    assert stale_months(tables_dir) == []
    assert _summary(two_days) == _over_base_tables(two_days)
    assert {r[0] for r in _summary(two_days)} == set(DATES)


def test_a_land_does_not_fail_because_another_dates_partition_is_unreadable(
    two_days: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    tables_dir = two_days.location.local_path
    expected = [r for r in _summary(two_days) if r[0] == DATES[1]]
    shutil.rmtree(tables_dir / SUMMARY_DIR)  # the month must be recomputed whole
    broken = _only_file(tables_dir / "orders" / f"business_date={DATES[0]}")
    _truncate(broken)

    with caplog.at_level(logging.WARNING):
        two_days.land(sandbox_day(DATES[1]))
    with pytest.raises(WarehouseError, match=str(DATES[0])) as refreshed:
        two_days.refresh_views()

    assert str(broken) in caplog.text
    assert "cannot be read" in str(refreshed.value)
    assert stale_months(tables_dir) == ["2026-11"]
    assert _summary(two_days) == expected


def test_a_date_landed_again_after_damage_brings_the_month_back(two_days: Warehouse) -> None:
    tables_dir = two_days.location.local_path
    shutil.rmtree(tables_dir / SUMMARY_DIR)
    _truncate(_only_file(tables_dir / "orders" / f"business_date={DATES[0]}"))
    two_days.land(sandbox_day(DATES[1]))

    two_days.land(sandbox_day(DATES[0]))
    two_days.refresh_views()

    assert stale_months(tables_dir) == []
    assert _summary(two_days) == _over_base_tables(two_days)


def test_with_two_damaged_dates_the_landed_date_alone_is_summarised(
    two_days: Warehouse,
) -> None:
    tables_dir = two_days.location.local_path
    day = dt.date(2026, 11, 26)
    shutil.rmtree(tables_dir / SUMMARY_DIR)
    _truncate(_only_file(tables_dir / "orders" / f"business_date={DATES[0]}"))
    _truncate(_only_file(tables_dir / "payments" / f"business_date={DATES[1]}"))

    two_days.land(sandbox_day(day))

    assert {r[0] for r in _summary(two_days)} == {day}
