"""Analysts query while the pipeline writes: no lock errors, no partial day, no stuck refresh."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pytest

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.warehouse import RetryPolicy, Warehouse
from grafterr_pipeline.warehouse.summary import stale_months
from tests.warehouse.helpers import (
    DATES,
    AnsweringProcess,
    normalised,
    sandbox_day,
    sandbox_orders,
)
from tests.warehouse.procs import save

REPO = Path(__file__).parents[2]
DAY = DATES[0]


@functools.cache
def _versions() -> tuple[NormalisedDay, NormalisedDay]:
    orders = list(sandbox_orders(DAY).values())
    return normalised(DAY, orders[:300]), sandbox_day(DAY)


def _answer(day: NormalisedDay) -> list:
    orders = day.tables["orders"]
    total = Decimal(str(pc.sum(orders.column("total")).as_py()))
    return [orders.num_rows, str(total), day.tables["order_items"].num_rows]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args], cwd=REPO, stdout=subprocess.PIPE, text=True, bufsize=1
    )


@contextmanager
def _holding(database: Path, *, read_only: bool, seconds: float) -> Iterator[None]:
    """Another process keeps ``database`` open for ``seconds``."""
    code = (
        "import duckdb, sys, time; "
        f"con = duckdb.connect({str(database)!r}, read_only={read_only}); "
        f"print('held', flush=True); time.sleep({seconds})"
    )
    holder = _spawn("-c", code)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield
    finally:
        holder.wait(timeout=30)


def _force_refresh(warehouse: Warehouse) -> None:
    """Make the next refresh write, as a changed view definition would."""
    with duckdb.connect(str(warehouse.database)) as con:
        con.execute("DROP TABLE _grafterr_views")


def test_a_reader_in_a_loop_never_errs_nor_sees_a_partial_day_while_it_is_rewritten(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    small, large = _versions()
    warehouse.land(small)
    warehouse.refresh_views()
    reader = AnsweringProcess(
        "-m", "tests.warehouse.procs", "reader", str(tmp_path), str(DAY), "2.5"
    )

    rewrites = 0
    while reader.poll() is None:
        warehouse.land(large if rewrites % 2 == 0 else small)
        rewrites += 1
    answers = reader.answers()

    assert rewrites >= 5 and len(answers) >= 5
    assert [a for a in answers if "error" in a] == []
    assert {tuple(a["row"]) for a in answers} <= {tuple(_answer(small)), tuple(_answer(large))}


def test_the_view_refresh_waits_while_an_analyst_holds_the_file(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.land(_versions()[0])
    warehouse.refresh_views()
    _force_refresh(warehouse)

    with _holding(warehouse.database, read_only=True, seconds=1.0):
        refreshed = warehouse.refresh_views()

    assert refreshed is True
    assert warehouse.query("SELECT count(*) FROM orders").rows == [(300,)]


def test_the_view_refresh_gives_up_with_a_clear_error_when_held_too_long(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.land(_versions()[0])
    warehouse.refresh_views()
    _force_refresh(warehouse)

    with (
        _holding(warehouse.database, read_only=True, seconds=1.0),
        pytest.raises(WarehouseError, match="another process holds it"),
    ):
        warehouse.refresh_views(policy=RetryPolicy(patience=0.3))


def test_refreshing_the_views_of_an_empty_warehouse_says_to_land_a_date_first(
    tmp_path: Path,
) -> None:
    warehouse = Warehouse(tmp_path)

    with pytest.raises(WarehouseError, match="no Parquet files under") as raised:
        warehouse.refresh_views(policy=RetryPolicy(patience=3.0))

    assert "another process" not in str(raised.value)
    assert "Land a date first" in str(raised.value)


def test_a_reader_waits_while_the_pipeline_holds_the_file(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path)
    warehouse.land(_versions()[0])
    warehouse.refresh_views()

    with _holding(warehouse.database, read_only=False, seconds=0.5):
        rows = warehouse.query("SELECT count(*) FROM orders").rows

    assert rows == [(300,)]


def test_two_processes_landing_one_date_at_once_both_succeed_and_never_mix_versions(
    tmp_path: Path,
) -> None:
    root = tmp_path / "data"
    warehouse = Warehouse(root)
    small, large = _versions()
    warehouse.land(small)
    warehouse.refresh_views()
    sources = []
    for name, version in (("small", small), ("large", large)):
        save(version, tmp_path / name)
        sources.append(str(tmp_path / name))
    reader = AnsweringProcess("-m", "tests.warehouse.procs", "reader", str(root), str(DAY), "4")

    landers = [
        _spawn("-m", "tests.warehouse.procs", "lander", str(root), str(DAY), source, "8")
        for source in sources
    ]
    outputs = [lander.communicate(timeout=120)[0] for lander in landers]
    answers = reader.answers()

    assert [lander.returncode for lander in landers] == [0, 0], outputs
    assert [o.count("landed") for o in outputs] == [8, 8]
    assert [a for a in answers if "error" in a] == []
    assert {tuple(a["row"]) for a in answers} <= {tuple(_answer(small)), tuple(_answer(large))}
    tables_dir = warehouse.location.local_path
    assert [p for p in tables_dir.glob("*/.business_*")] == []  # nothing left staged
    assert stale_months(tables_dir) == []
    partitions = [p for p in tables_dir.glob(f"*/business_date={DAY}")]
    assert partitions and all(len(list(p.glob("*.parquet"))) == 1 for p in partitions)
    versions = {
        p.name.removeprefix("part-").split("-")[0]
        for p in tables_dir.glob(f"*/business_date={DAY}/*.parquet")
    }
    assert len(versions) == 1  # every table holds the same land's version
