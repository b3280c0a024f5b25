"""Partitions land atomically with one schema, and DuckDB's views read them all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, normalise_day
from grafterr_pipeline.normalise.schema import ORDERS
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.warehouse.files import atomic_write, remove_leftovers
from grafterr_pipeline.warehouse.parquet import write_partition
from tests.factories import make_order

OPTIONS = NormaliseOptions(pii="drop")


def _land(warehouse: Warehouse, day: dt.date, *orders: dict) -> None:
    normalised = normalise_day([Candidate(o) for o in orders], business_date=day, options=OPTIONS)
    warehouse.land(normalised)


def _order_on(day: dt.date, order_id: str, **changes: object) -> dict:
    created = dt.datetime.combine(day, dt.time(12, 0), dt.UTC).isoformat()
    return make_order(order_id=order_id, created_at=created, updated_at=created, **changes)


def test_a_week_with_empty_and_null_days_reads_with_one_schema(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    days = [dt.date(2026, 11, 23) + dt.timedelta(days=n) for n in range(7)]
    for n, day in enumerate(days):
        if n == 2:
            _land(warehouse, day)  # an empty day
        elif n == 4:
            _land(warehouse, day, _order_on(day, f"o{n}", customer=None, covers=None, items=[]))
        else:
            _land(warehouse, day, _order_on(day, f"o{n}"))

    warehouse.refresh_views()
    result = warehouse.query(
        "SELECT business_date, count(*) FROM orders GROUP BY ALL ORDER BY business_date"
    )
    types = dict((r[0], r[1]) for r in warehouse.query("DESCRIBE SELECT * FROM orders").rows)

    assert [r[0] for r in result.rows] == [d for n, d in enumerate(days) if n != 2]
    assert types["business_date"] == "DATE"
    assert types["total"] == "DECIMAL(18,2)"
    assert types["covers"] == "INTEGER"
    assert warehouse.query("SELECT count(*) FROM order_items").rows[0][0] == 10


def test_rerunning_a_date_replaces_it_instead_of_doubling(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    day = dt.date(2026, 11, 30)

    _land(warehouse, day, _order_on(day, "a"), _order_on(day, "b"))
    _land(warehouse, day, _order_on(day, "a"), _order_on(day, "b"))
    warehouse.refresh_views()

    assert warehouse.query("SELECT count(*) FROM orders").rows[0][0] == 2


def test_failed_write_leaves_the_previous_partition_whole(tmp_path: Path) -> None:
    target = tmp_path / "t" / "data.parquet"
    atomic_write(target, lambda p: p.write_bytes(b"old"))

    def crash(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(WarehouseError, match="No space left"):
        atomic_write(target, crash)

    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["data.parquet"]


def test_leftovers_of_a_crashed_write_are_cleaned_and_never_read(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    day = dt.date(2026, 11, 30)
    _land(warehouse, day, _order_on(day, "a"))
    leftover = warehouse.partition("orders", day).parent / ".data.parquet.abc.partial"
    leftover.write_bytes(b"PAR1 half written")
    warehouse.refresh_views()

    assert warehouse.query("SELECT count(*) FROM orders").rows[0][0] == 1
    assert remove_leftovers(warehouse.tables_dir) == 1
    assert not leftover.exists()


def test_a_table_with_another_schema_is_refused(tmp_path: Path) -> None:
    wrong = pa.table({"order_id": ["a"]})

    with pytest.raises(WarehouseError, match="schema differs"):
        write_partition(tmp_path, "orders", dt.date(2026, 11, 30), wrong, schema=ORDERS)


def test_views_are_rewritten_only_when_their_definition_changes(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    day = dt.date(2026, 11, 30)
    _land(warehouse, day, _order_on(day, "a"))

    assert warehouse.refresh_views() is True
    assert warehouse.refresh_views() is False
