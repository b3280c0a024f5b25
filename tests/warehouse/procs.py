"""Processes the concurrency and crash tests start: a reader in a loop, a writer to kill.

Run as ``python -m tests.warehouse.procs reader|writer ...`` from the repository root.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import duckdb

from grafterr_pipeline.warehouse import Warehouse
from tests.warehouse.helpers import normalised, sandbox_orders

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


def writer(root: str, day: str, keep: str) -> None:
    """Land ``day`` with its first ``keep`` orders, over and over, until killed."""
    business_date = dt.date.fromisoformat(day)
    orders = list(sandbox_orders(business_date).values())[: int(keep)]
    tables = normalised(business_date, orders)
    warehouse = Warehouse(Path(root))
    while True:
        _say("landing")
        warehouse.land(tables)


if __name__ == "__main__":
    {"reader": reader, "writer": writer}[sys.argv[1]](*sys.argv[2:])
