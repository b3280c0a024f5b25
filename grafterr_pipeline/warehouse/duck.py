"""The DuckDB database analysts open: ``<data root>/grafterr.duckdb``, views only.

DuckDB lets one process open a database file to write, or several to read, never both. So:

* readers (:class:`Reader`, the ``sql`` command, :func:`query`) work in an in-memory database
  and ``ATTACH`` the file read-only around each statement, then ``DETACH`` it: an analyst's
  prompt holds the file only while a statement runs, never between statements;
* the pipeline opens it to write only when the views' definitions (or the schemas under them)
  changed, for one short transaction, after preparing every statement;
* each side retries for a moment while the other holds the file, and a reader also retries a
  statement that raced a partition swap (a file it listed was gone when it opened it).

A :class:`Reader` keeps DuckDB's Parquet metadata cache on for its whole life, so a prompt
parses each file's footer once rather than on every statement. That is safe here because a
partition's file names are never reused (:mod:`grafterr_pipeline.warehouse.parquet`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.warehouse.location import Location
from grafterr_pipeline.warehouse.summary import summary_glob
from grafterr_pipeline.warehouse.swaplock import swap_lock
from grafterr_pipeline.warehouse.views import View, analyst_views, sql_literal, table_view

__all__ = [
    "DATABASE_FILE",
    "READ_RETRY",
    "WRITE_RETRY",
    "QueryResult",
    "Reader",
    "RetryPolicy",
    "query",
    "refresh_views",
    "view_definitions",
]

logger = logging.getLogger(__name__)

DATABASE_FILE = "grafterr.duckdb"
_ALIAS = "grafterr"
_META_TABLE = "_grafterr_views"
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying while the database is busy or a partition is being swapped."""

    patience: float = 10.0
    first_delay: float = 0.02
    max_delay: float = 0.5


READ_RETRY = RetryPolicy(patience=5.0)
WRITE_RETRY = RetryPolicy(patience=10.0)

# Messages of errors that go away on their own: another process holds the file lock, or a
# statement listed a partition's file just before a swap retired it.
_TRANSIENT = ("could not set lock", "cannot open file", "no files found", "no such file")


# A view is bound when it is created: with no file to read at all, nothing will change by
# waiting, so the refresh does not retry on it (it does retry a file swapped away mid-bind).
_WRITE_TRANSIENT = tuple(m for m in _TRANSIENT if m != "no files found")


def _transient(err: duckdb.Error, messages: Sequence[str] = _TRANSIENT) -> bool:
    return isinstance(err, duckdb.IOException) and any(m in str(err).lower() for m in messages)


def _retrying(
    action: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    transient: Sequence[str] = _TRANSIENT,
) -> T:
    deadline = time.monotonic() + policy.patience
    delay = policy.first_delay
    while True:
        try:
            return action()
        except duckdb.Error as err:
            if not _transient(err, transient) or time.monotonic() + delay > deadline:
                raise
            logger.debug("%s: %s; retrying in %.2fs", what, err, delay)
            time.sleep(delay)
            delay = min(delay * 2, policy.max_delay)


def _prepare_remote(con: duckdb.DuckDBPyConnection, location: Location | None) -> None:
    # DuckDB reads object stores through httpfs; the aws extension's credential_chain reads
    # the same AWS default chain (environment, ~/.aws, instance role) that pyarrow writes with.
    if location is None or location.is_local:
        return
    con.execute("LOAD httpfs")
    con.execute(
        "CREATE OR REPLACE TEMPORARY SECRET grafterr_store (TYPE s3, PROVIDER credential_chain)"
    )


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of a query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


class Reader:
    """A read-only session: the database file is attached only while a statement runs."""

    def __init__(
        self, database: Path, location: Location | None = None, *, policy: RetryPolicy = READ_RETRY
    ) -> None:
        if not database.exists():
            raise WarehouseError(
                f"{database} does not exist yet: run `grafterr-pipeline demo` or `run` first"
            )
        self.database = database
        self.policy = policy
        self._tables_dir = location.local_path if location and location.is_local else None
        self._con = duckdb.connect(":memory:")
        self._con.execute("SET parquet_metadata_cache = true")
        try:
            _prepare_remote(self._con, location)
            self._check_location(location)
        except BaseException:
            self._con.close()
            raise

    def _check_location(self, location: Location | None) -> None:
        """Refuse to read views made over other tables than ``location``'s.

        The swap lock lives beside the tables, so a reader pointed elsewhere would take a lock
        no writer holds and could see half a landed day (issue #7, D6).
        """
        recorded = _retrying(self._recorded_uri, what="open", policy=self.policy)
        if location is None or recorded is None or recorded == location.uri:
            return
        raise WarehouseError(
            f"the views in {self.database} read the tables at {recorded}, but this session "
            f"was given {location.uri}: set GRAFTERR_WAREHOUSE_URI={recorded} (the lock that "
            "keeps a query from seeing half a landed day lives beside the tables), or, if the "
            "tables were moved there, let the pipeline refresh the views (duckdb_views asset)"
        )

    def _recorded_uri(self) -> str | None:
        con = self._con
        con.execute(f"ATTACH ? AS {_ALIAS} (READ_ONLY)", [str(self.database)])
        try:
            row = con.execute(f"SELECT tables_uri FROM {_ALIAS}.{_META_TABLE}").fetchone()
        except (duckdb.CatalogException, duckdb.BinderException):
            return None  # no views yet, or made before the location was recorded
        finally:
            con.execute(f"DETACH {_ALIAS}")
        return row[0] if row else None

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        """Run ``sql`` binding ``params``; DuckDB's own error is raised if it is wrong."""
        return _retrying(lambda: self._once(sql, params), what="query", policy=self.policy)

    def _once(self, sql: str, params: Sequence[Any] | None) -> QueryResult:
        if self._tables_dir is None:
            return self._attached(sql, params)
        with swap_lock(self._tables_dir, exclusive=False):
            return self._attached(sql, params)

    def _attached(self, sql: str, params: Sequence[Any] | None) -> QueryResult:
        con = self._con
        con.execute(f"ATTACH ? AS {_ALIAS} (READ_ONLY)", [str(self.database)])
        try:
            con.execute(f"USE {_ALIAS}")
            cursor = con.execute(sql, params or [])
            if cursor is None:  # the text held no statement: blanks, comments, a lone ';'
                return QueryResult([], [])
            columns = [d[0] for d in cursor.description or []]
            return QueryResult(columns, cursor.fetchall())
        finally:
            con.execute("USE memory")
            con.execute(f"DETACH {_ALIAS}")

    def close(self) -> None:
        """Release the in-memory database."""
        self._con.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def query(
    database: Path,
    sql: str,
    params: Sequence[Any] | None = None,
    *,
    location: Location | None = None,
) -> QueryResult:
    """Run one read-only statement against the views."""
    with Reader(database, location) as reader:
        return reader.query(sql, params)


def view_definitions(location: Location, tables: Mapping[str, pa.Schema]) -> list[View]:
    """Every view, table views first, over the tables at ``location``."""
    summary = summary_glob(location.local_path) if location.is_local else None
    return [*(table_view(t, location.duckdb_glob(t)) for t in tables), *analyst_views(summary)]


def _fingerprint(views: Sequence[View], tables: Mapping[str, pa.Schema]) -> str:
    # The schemas count too: a view's columns are fixed when it is created.
    parts = [f"{v.name}\n{v.select}\n{v.comment}\n{sorted(v.columns.items())}" for v in views]
    parts += [f"{name}\n{schema}" for name, schema in tables.items()]
    parts.append(f"{_META_TABLE}: fingerprint, tables_uri")  # what the table records
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _statements(views: Sequence[View], fingerprint: str, uri: str) -> list[str]:
    statements = []
    for view in views:
        name = '"' + view.name.replace('"', '""') + '"'
        statements.append(f"CREATE OR REPLACE VIEW {name} AS {view.select}")
        statements.append(f"COMMENT ON VIEW {name} IS {sql_literal(view.comment)}")
        statements += [
            f'COMMENT ON COLUMN {name}."{column}" IS {sql_literal(text)}'
            for column, text in view.columns.items()
        ]
    statements.append(
        f"CREATE OR REPLACE TABLE {_META_TABLE} (fingerprint VARCHAR, tables_uri VARCHAR)"
    )
    statements.append(
        f"INSERT INTO {_META_TABLE} VALUES ({sql_literal(fingerprint)}, {sql_literal(uri)})"
    )
    return statements


def _stored_fingerprint(database: Path) -> str | None:
    if not database.exists():
        return None
    try:
        # No location: the refresh itself must work on a database whose tables moved (a copied
        # data root), and this reads no Parquet, so neither the check nor the swap lock apply.
        result = query(database, f"SELECT fingerprint FROM {_META_TABLE}")
    except duckdb.CatalogException:
        return None
    return result.rows[0][0] if result.rows else None


def _write(database: Path, location: Location, statements: Sequence[str]) -> None:
    con = duckdb.connect(str(database), read_only=False)
    try:
        _prepare_remote(con, location)
        con.execute("BEGIN")
        for statement in statements:
            con.execute(statement)
        con.execute("COMMIT")
    finally:
        con.close()


def refresh_views(
    database: Path,
    location: Location,
    tables: Mapping[str, pa.Schema],
    *,
    policy: RetryPolicy = WRITE_RETRY,
) -> bool:
    """Create or replace the views when their definitions changed; return whether they did.

    Raises :class:`WarehouseError` when another process keeps the file past ``policy``.
    """
    views = view_definitions(location, tables)
    fingerprint = _fingerprint(views, tables)
    if _stored_fingerprint(database) == fingerprint:
        return False
    statements = _statements(views, fingerprint, location.uri)
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        _retrying(
            lambda: _write(database, location, statements),
            what="refresh",
            policy=policy,
            transient=_WRITE_TRANSIENT,
        )
    except duckdb.IOException as err:
        if "no files found" in str(err).lower():
            raise WarehouseError(
                f"could not create the views in {database}: no Parquet files under "
                f"{location.uri} yet. Land a date first (`grafterr-pipeline run` or `demo`), "
                f"then refresh the views. {err}"
            ) from err
        raise WarehouseError(
            f"could not refresh the views in {database}: another process holds it (an "
            f"analyst's `duckdb {database.name}` session?). The Parquet partitions are landed "
            f"and visible through the current views; rerun duckdb_views once it closes. {err}"
        ) from err
    logger.info("refreshed %d DuckDB views in %s", len(views), database)
    return True
