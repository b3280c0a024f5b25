"""The DuckDB database analysts open: ``<root>/grafterr.duckdb``.

The pipeline holds the write lock only to (re)create views, and only when their definitions
changed; a query elsewhere opens the file read-only. DuckDB lets one process write or several
read, so each side retries briefly while the other holds the file.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.warehouse.views import TABLE_COMMENTS, View, analyst_views, table_view_sql

__all__ = [
    "DATABASE_FILE",
    "QueryResult",
    "connect",
    "query",
    "refresh_views",
    "view_definitions",
]

logger = logging.getLogger(__name__)

DATABASE_FILE = "grafterr.duckdb"
_META_TABLE = "_grafterr_views"
T = TypeVar("T")


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_definitions(warehouse: Path, tables: Iterable[str]) -> list[View]:
    """Every view, table views first, for the warehouse at ``warehouse``."""
    root = warehouse.resolve()
    table_views = [
        View(t, table_view_sql(f"{root}/{t}/business_date=*/*.parquet"), TABLE_COMMENTS[t])
        for t in tables
    ]
    return [*table_views, *analyst_views()]


def _fingerprint(views: Sequence[View]) -> str:
    text = "\n".join(f"{v.name}\n{v.select}\n{v.comment}" for v in views)
    return hashlib.sha256(text.encode()).hexdigest()


def _with_lock_retry(action: Callable[[], T], *, what: str, patience: float = 10.0) -> T:
    deadline = time.monotonic() + patience
    delay = 0.05
    while True:
        try:
            return action()
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                raise WarehouseError(f"{what}: {err}") from err
            logger.debug("%s: database busy, retrying in %.2fs", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def connect(database: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open ``database``, waiting briefly while another process holds its lock."""
    if read_only and not database.exists():
        raise WarehouseError(
            f"{database} does not exist yet: run `grafterr-pipeline demo` or `run` first"
        )
    return _with_lock_retry(
        lambda: duckdb.connect(str(database), read_only=read_only), what=f"open {database}"
    )


def refresh_views(database: Path, warehouse: Path, tables: Iterable[str]) -> bool:
    """Create or replace the views when their definitions changed; return whether they did."""
    views = view_definitions(warehouse, tables)
    fingerprint = _fingerprint(views)
    if database.exists() and _stored_fingerprint(database) == fingerprint:
        return False
    database.parent.mkdir(parents=True, exist_ok=True)
    with connect(database, read_only=False) as con:
        con.execute("BEGIN")
        for view in views:
            name = _quote_identifier(view.name)
            con.execute(f"CREATE OR REPLACE VIEW {name} AS {view.select}")
            con.execute(f"COMMENT ON VIEW {name} IS {_literal(view.comment)}")
        con.execute(f"CREATE OR REPLACE TABLE {_META_TABLE} (fingerprint VARCHAR)")
        con.execute(f"INSERT INTO {_META_TABLE} VALUES (?)", [fingerprint])
        con.execute("COMMIT")
    logger.info("refreshed %d DuckDB views in %s", len(views), database)
    return True


def _stored_fingerprint(database: Path) -> str | None:
    with connect(database, read_only=True) as con:
        try:
            row = con.execute(f"SELECT fingerprint FROM {_META_TABLE}").fetchone()
        except duckdb.CatalogException:
            return None
    return row[0] if row else None


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def query(database: Path, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
    """Run ``sql`` on a read-only connection; DuckDB's own errors propagate unchanged."""
    with connect(database, read_only=True) as con:
        cursor = con.execute(sql, params or [])
        columns = [d[0] for d in cursor.description or []]
        return QueryResult(columns, cursor.fetchall())
