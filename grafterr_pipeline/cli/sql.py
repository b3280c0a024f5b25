"""``grafterr-pipeline sql``: query the DuckDB views read-only, once or at a prompt."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import duckdb

from grafterr_pipeline.warehouse import QueryResult, Reader, Warehouse

__all__ = ["format_result", "run_sql"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def format_result(result: QueryResult, output: str, stream: TextIO) -> None:
    """Write ``result`` to ``stream`` as an aligned table, CSV or JSON lines."""
    if output == "csv":
        writer = csv.writer(stream)
        writer.writerow(result.columns)
        writer.writerows([[_cell(v) for v in row] for row in result.rows])
        return
    if output == "json":
        for row in result.rows:
            record = {c: _json_value(v) for c, v in zip(result.columns, row, strict=True)}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    cells = [[_cell(v) for v in row] for row in result.rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(result.columns)]
    stream.write("  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True)) + "\n")
    stream.write("  ".join("-" * w for w in widths) + "\n")
    for row in cells:
        stream.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + "\n")
    stream.write(f"({len(cells)} row{'s' if len(cells) != 1 else ''})\n")


def _warehouse(data_dir: str | None) -> Warehouse:
    root = Path(data_dir or os.environ.get("GRAFTERR_DATA_DIR") or "data")
    return Warehouse(root, os.environ.get("GRAFTERR_WAREHOUSE_URI") or None)


def _read_statement(reader: Reader, output: str) -> bool:
    """Read lines up to one ending in ``;`` and run them; ``False`` at end of input."""
    buffer = ""
    while True:
        try:
            line = input("...> " if buffer else "sql> ")
        except EOFError:
            print()
            return False
        buffer += line + "\n"
        if buffer.strip().endswith(";"):
            _run_one(reader, buffer, output)
            return True


def _prompt(warehouse: Warehouse, output: str) -> int:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    print(f"{warehouse.database} (read-only). End statements with ';'. Ctrl-D quits.")
    with warehouse.reader() as reader:
        while _read_statement(reader, output):
            pass
    return 0


def _run_one(reader: Reader, sql: str, output: str) -> bool:
    try:
        result = reader.query(sql)
    except duckdb.Error as err:
        print(f"error: {err}", file=sys.stderr)
        return False
    format_result(result, output, sys.stdout)
    return True


def run_sql(sql: str | None, *, output: str = "table", data_dir: str | None = None) -> int:
    """Run ``sql`` (or a prompt when it is ``None``); 1 when DuckDB rejects the query.

    The database is attached read-only for each statement only, so a prompt left open never
    keeps the pipeline from refreshing the views.
    """
    warehouse = _warehouse(data_dir)
    if sql is None:
        return _prompt(warehouse, output)
    with warehouse.reader() as reader:
        return 0 if _run_one(reader, sql, output) else 1
