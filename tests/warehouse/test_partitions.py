"""Partitions land sorted, with one schema, swapped whole; leftovers of a crash are undone."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from grafterr_pipeline.errors import ConfigurationError, WarehouseError
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import normalise_day
from grafterr_pipeline.normalise.schema import ORDERS
from grafterr_pipeline.warehouse import Location, Warehouse, files
from grafterr_pipeline.warehouse.files import atomic_write, remove_leftovers
from grafterr_pipeline.warehouse.parquet import ROW_GROUP_ROWS, read_file, write_partition
from tests.factories import make_order
from tests.processes import run_python
from tests.warehouse.helpers import DATES, OPTIONS, normalised, sandbox_orders

DAY = dt.date(2026, 11, 30)


def _land(warehouse: Warehouse, day: dt.date, *orders: dict) -> None:
    normalised_day = normalise_day(
        [Candidate(o) for o in orders], business_date=day, options=OPTIONS
    )
    warehouse.land(normalised_day)


def _order_on(day: dt.date, order_id: str, hour: int = 12, **changes: object) -> dict:
    created = dt.datetime.combine(day, dt.time(hour, 0), dt.UTC).isoformat()
    return make_order(order_id=order_id, created_at=created, updated_at=created, **changes)


def _count(warehouse: Warehouse, table: str = "orders") -> int:
    return warehouse.query(f"SELECT count(*) FROM {table}").rows[0][0]


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
    assert _count(warehouse, "order_items") == 10


def test_a_partition_is_one_new_file_sorted_by_created_at(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    day = DATES[0]
    tables = normalised(day, reversed(list(sandbox_orders(day).values())))

    warehouse.land(tables)
    first = warehouse.partition_files("order_items", day)
    warehouse.land(tables)
    second = warehouse.partition_files("order_items", day)
    meta = pq.ParquetFile(second[0]).metadata
    created = warehouse.read_partition("order_items", day).column("created_at").to_pylist()

    assert len(first) == len(second) == 1 and first != second
    assert created == sorted(created)
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert all(meta.row_group(g).num_rows <= ROW_GROUP_ROWS for g in range(meta.num_row_groups))
    assert meta.row_group(0).column(5).statistics.has_min_max  # created_at


def test_rerunning_a_date_gives_the_same_rows(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    day = DATES[0]
    orders = list(sandbox_orders(day).values())

    warehouse.land(normalised(day, orders))
    before = {t: warehouse.read_partition(t, day) for t in ("orders", "payments")}
    warehouse.land(normalised(day, reversed(orders)))

    assert all(warehouse.read_partition(t, day).equals(before[t]) for t in before)


def test_rerunning_a_date_replaces_it_instead_of_doubling(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)

    _land(warehouse, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    _land(warehouse, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    warehouse.refresh_views()

    assert _count(warehouse) == 2
    assert os.listdir(Path(warehouse.partition("orders", DAY)).parent) == [f"business_date={DAY}"]


def test_a_file_uri_lands_where_the_path_does(tmp_path: Path) -> None:
    by_path = Warehouse(tmp_path / "a", str(tmp_path / "tables"))
    by_uri = Warehouse(tmp_path / "b", (tmp_path / "tables").as_uri())

    _land(by_path, DAY, _order_on(DAY, "a"))
    _land(by_uri, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    by_path.refresh_views()
    by_uri.refresh_views()

    assert by_path.location == by_uri.location
    assert by_path.partition_files("orders", DAY) == by_uri.partition_files("orders", DAY)
    assert _count(by_path) == _count(by_uri) == 2


@pytest.mark.parametrize("as_uri", [True, False], ids=["file-uri", "path"])
@pytest.mark.parametrize(
    "folder", ["c d", "br[x]", "st*r?", "o'brien"], ids=["space", "brackets", "star", "quote"]
)
def test_odd_folder_names_land_and_read_back_as_spelled(
    tmp_path: Path, folder: str, as_uri: bool
) -> None:
    tables = tmp_path / folder
    warehouse = Warehouse(tmp_path / "root", tables.as_uri() if as_uri else str(tables))

    _land(warehouse, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    warehouse.refresh_views()

    assert warehouse.location.local_path == tables
    assert Path(warehouse.partition("orders", DAY)).parent.parent == tables
    assert _count(warehouse) == 2
    assert warehouse.query("SELECT sum(orders) FROM daily_sales").rows == [(2,)]


@pytest.mark.parametrize(
    ("uri", "glob"),
    [
        ("s3://bucket/grafterr/", "s3://bucket/grafterr/orders/business_date=*/*.parquet"),
        ("file:///srv/w", "/srv/w/orders/business_date=*/*.parquet"),
        ("/srv/w", "/srv/w/orders/business_date=*/*.parquet"),
    ],
    ids=["s3", "file-uri", "path"],
)
def test_the_warehouse_uri_tells_duckdb_where_to_read(uri: str, glob: str) -> None:
    location = Location.parse(uri)

    assert location.duckdb_glob("orders") == glob
    assert location.is_local == (not uri.startswith("s3"))


def test_an_unsupported_warehouse_uri_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="GRAFTERR_WAREHOUSE_URI='ftp://x/y'"):
        Location.parse("ftp://x/y")


@pytest.mark.parametrize("uri", ["gs://bucket/grafterr", "gcs://bucket/grafterr"])
def test_google_cloud_storage_is_refused_saying_why(uri: str) -> None:
    # DuckDB is only given an S3 credential_chain secret, so it could not read what was written.
    with pytest.raises(ConfigurationError, match=r"Google Cloud Storage is not supported.*s3://"):
        Location.parse(uri)


def test_failed_write_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "t" / "data.json"
    atomic_write(target, lambda p: p.write_bytes(b"old"))

    def crash(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(WarehouseError, match="No space left"):
        atomic_write(target, crash)

    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["data.json"]


def test_a_staged_leftover_is_never_read_and_the_next_land_removes_it(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    _land(warehouse, DAY, _order_on(DAY, "a"))
    live = Path(warehouse.partition("orders", DAY))
    leftover = live.with_name(f".{live.name}.abc{files.TEMP_SUFFIX}")
    leftover.mkdir()
    (leftover / "part-x-000.parquet").write_bytes(b"PAR1 half written")
    warehouse.refresh_views()

    assert _count(warehouse) == 1
    _land(warehouse, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    assert not leftover.exists()
    assert _count(warehouse) == 2


def test_a_crash_between_the_fallback_renames_puts_the_old_partition_back(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    _land(warehouse, DAY, _order_on(DAY, "a"))
    live = Path(warehouse.partition("orders", DAY))
    live.rename(live.with_name(f".{live.name}.abc{files.RETIRED_SUFFIX}"))
    staged = live.with_name(f".{live.name}.def{files.TEMP_SUFFIX}")
    staged.mkdir()

    assert remove_leftovers(tmp_path / "warehouse") == 2
    assert [p.name for p in live.parent.iterdir()] == [live.name]
    warehouse.refresh_views()
    assert _count(warehouse) == 1


def test_without_an_atomic_exchange_two_renames_still_replace_the_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_renameat2", lambda: None)  # as on a system without renameat2
    warehouse = Warehouse(tmp_path)

    _land(warehouse, DAY, _order_on(DAY, "a"))
    _land(warehouse, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    warehouse.refresh_views()

    assert _count(warehouse) == 2
    assert [p.name for p in Path(warehouse.partition("orders", DAY)).parent.iterdir()] == [
        f"business_date={DAY}"
    ]


def test_a_table_with_another_schema_is_refused(tmp_path: Path) -> None:
    wrong = pa.table({"order_id": ["a"]})

    with pytest.raises(WarehouseError, match="schema differs"):
        write_partition(Location.parse(tmp_path), "orders", DAY, wrong, schema=ORDERS)


def test_views_are_rewritten_only_when_their_definition_changes(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    _land(warehouse, DAY, _order_on(DAY, "a"))

    assert warehouse.refresh_views() is True
    assert warehouse.refresh_views() is False
    _land(warehouse, DAY, _order_on(DAY, "a"), _order_on(DAY, "b"))
    assert warehouse.refresh_views() is False


# Landing a date twice (the second land reads the month's summary back), refreshing the views
# and reading a partition back, in a process of its own.
_LANDS = """
import sys, tempfile
from pathlib import Path
from tests.warehouse.helpers import DATES, sandbox_day
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.warehouse.parquet import read_partition
with tempfile.TemporaryDirectory() as root:
    warehouse = Warehouse(Path(root))
    day = sandbox_day(DATES[0])
    warehouse.land(day)
    warehouse.land(day)
    warehouse.refresh_views()
    back = read_partition(warehouse.location, "orders", DATES[0])
    print(back.num_rows == day.tables["orders"].num_rows, "pyarrow.dataset" in sys.modules)
"""


def test_landing_and_reading_back_never_load_arrow_datasets() -> None:
    # pq.read_table would: Acero and Substrait then stay loaded, 7-45 MiB, for the process.
    assert run_python(_LANDS).stdout.split() == ["True", "False"]


def test_read_file_gives_what_read_table_gives(tmp_path: Path) -> None:
    table = pa.table({"order_id": ["a", "b"], "total": [1.5, 2.25]})
    path = tmp_path / "business_date=2026-11-24" / "part.parquet"
    path.parent.mkdir()
    pq.write_table(table, path)

    assert read_file(path).equals(pq.read_table(path), check_metadata=True)
    assert read_file(path).equals(table)
