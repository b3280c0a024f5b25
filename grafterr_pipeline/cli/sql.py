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

__all__ = ["format_result", "run_sql", "statements"]


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


def statements(sql: str) -> list[str]:
    """Each statement in ``sql``, in order; none for blanks, comments or a lone ``;``.

    DuckDB's own parser splits them, so a ``;`` inside a string or a comment is no boundary; a
    syntax error anywhere raises DuckDB's ``ParserException`` before anything runs.
    """
    with duckdb.connect() as con:
        return [statement.query for statement in con.extract_statements(sql)]


def _run_script(reader: Reader, sql: str, output: str) -> bool | None:
    """Run every statement in ``sql`` and print each result set in order.

    Stops at the first statement DuckDB rejects (``False``), as ``duckdb -bail`` does: what
    follows a failed statement often depends on it. ``None`` when there was nothing to run.
    """
    try:
        texts = statements(sql)
    except duckdb.Error as err:
        print(f"error: {err}", file=sys.stderr)
        return False
    printed = False
    for text in texts:
        try:
            result = reader.query(text)
        except duckdb.Error as err:
            print(f"error: {err}", file=sys.stderr)
            return False
        if not result.columns:
            continue
        if printed and output == "table":
            sys.stdout.write("\n")
        format_result(result, output, sys.stdout)
        printed = True
    return True if texts else None


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
            _run_script(reader, buffer, output)
            return True


def _prompt(warehouse: Warehouse, output: str) -> int:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    print(f"{warehouse.database} (read-only). End statements with ';'. Ctrl-D quits.")
    with warehouse.reader() as reader:
        while _read_statement(reader, output):
            pass
    return 0


def _script(warehouse: Warehouse, source: TextIO, output: str) -> int:
    # Standard input is a file or a pipe: no banner or prompt pollutes the answer, the last
    # statement needs no ';', and a failure shows in the exit status.
    with warehouse.reader() as reader:
        return 1 if _run_script(reader, source.read(), output) is False else 0


def run_sql(sql: str | None, *, output: str = "table", data_dir: str | None = None) -> int:
    """Run ``sql``, or what standard input holds; 1 when DuckDB rejects a statement.

    Without ``sql``, a terminal gets an interactive prompt and anything else (a pipe, a file)
    is read to its end and run as one script. Each statement's result set is printed in turn;
    the first statement DuckDB rejects stops the rest. The database is attached read-only for
    each statement only, so a prompt left open never keeps the pipeline from refreshing the
    views.
    """
    warehouse = _warehouse(data_dir)
    if sql is None:
        if sys.stdin.isatty():
            return _prompt(warehouse, output)
        return _script(warehouse, sys.stdin, output)
    with warehouse.reader() as reader:
        ran = _run_script(reader, sql, output)
    if ran is None:
        print("nothing to run: the query holds no SQL statement", file=sys.stderr)
    return 1 if ran is False else 0
