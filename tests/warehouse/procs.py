"""Processes the concurrency and crash tests start: readers in a loop, a writer to kill.

Run as ``python -m tests.warehouse.procs <name of a function below> ...`` from the repository
root.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.warehouse import Warehouse

READ_SQL = (
    "SELECT (SELECT count(*) FROM orders WHERE business_date = $1), "
    "(SELECT sum(total) FROM orders WHERE business_date = $1)::VARCHAR, "
    "(SELECT count(*) FROM order_items WHERE business_date = $1)"
)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def reader(root: str, day: str, seconds: str) -> None:
    """Query one day in a loop; print one JSON line per answer or error."""
    warehouse = Warehouse(Path(root))
    deadline = time.monotonic() + float(seconds)
    _say("ready")
    while time.monotonic() < deadline:
        try:
            row = warehouse.query(READ_SQL, [dt.date.fromisoformat(day)]).rows[0]
            _say(json.dumps({"row": list(row)}))
        except duckdb.Error as err:
            _say(json.dumps({"error": str(err)}))


# The month's daily_sales next to the orders it summarises, in one statement.
SALES_SQL = (
    "SELECT (SELECT sum(orders) FROM daily_sales), "
    "(SELECT sum(net_revenue) FROM daily_sales)::VARCHAR, "
    "(SELECT count(DISTINCT business_date) FROM daily_sales), "
    "(SELECT count(*) FROM orders)"
)


def sales_reader(root: str, seconds: str) -> None:
    """Query the whole of daily_sales in a loop; print one JSON line per answer or error."""
    warehouse = Warehouse(Path(root))
    deadline = time.monotonic() + float(seconds)
    _say("ready")
    while time.monotonic() < deadline:
        try:
            _say(json.dumps({"row": list(warehouse.query(SALES_SQL).rows[0])}))
        except duckdb.Error as err:
            _say(json.dumps({"error": str(err)}))


def bare_sales_reader(root: str, seconds: str) -> None:
    """The same loop as a bare DuckDB client: the database file opened read-only, no lock."""
    con = duckdb.connect(str(Path(root) / "grafterr.duckdb"), read_only=True)
    deadline = time.monotonic() + float(seconds)
    _say("ready")
    while time.monotonic() < deadline:
        try:
            row = con.execute("SELECT sum(orders), sum(net_revenue)::VARCHAR FROM daily_sales")
            _say(json.dumps({"row": list(row.fetchone() or ())}))
        except duckdb.Error as err:
            _say(json.dumps({"error": str(err)}))


def writer(root: str, day: str, source: str) -> None:
    """Land ``day`` with the tables saved under ``source``, over and over, until killed."""
    tables = {p.stem: pq.read_table(p) for p in Path(source).glob("*.parquet")}
    quarantine = tables.pop("quarantine")
    landing = NormalisedDay(dt.date.fromisoformat(day), tables, quarantine)
    warehouse = Warehouse(Path(root))
    while True:
        _say("landing")
        warehouse.land(landing)


def lander(root: str, day: str, source: str, times: str) -> None:
    """Land ``day`` from ``source`` ``times`` times; print "landed" each time, or the error."""
    tables = {p.stem: pq.read_table(p) for p in Path(source).glob("*.parquet")}
    quarantine = tables.pop("quarantine")
    landing = NormalisedDay(dt.date.fromisoformat(day), tables, quarantine)
    warehouse = Warehouse(Path(root))
    _say("ready")
    for _ in range(int(times)):
        try:
            warehouse.land(landing)
        except Exception as err:  # the test reads what went wrong
            _say(json.dumps({"error": f"{type(err).__name__}: {err}"}))
            sys.exit(1)
        _say("landed")


def save(day: NormalisedDay, folder: Path) -> None:
    """Keep ``day``'s tables where :func:`writer` reads them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in {**day.tables, "quarantine": day.quarantine}.items():
        pq.write_table(table, folder / f"{name}.parquet")


if __name__ == "__main__":
    procs = {"reader": reader, "sales_reader": sales_reader, "writer": writer}
    procs["bare_sales_reader"] = bare_sales_reader
    procs["lander"] = lander
    procs[sys.argv[1]](*sys.argv[2:])
