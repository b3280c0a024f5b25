"""The fast path: staged JSON lines into the four tables with DuckDB, in bounded chunks.

The Python reference (:func:`grafterr_pipeline.normalise.day.normalise_day`) builds a dict per
order and reads it field by field; that costs more than DuckDB's whole JSON-to-Parquet run. Here
DuckDB reads the staged lines from an Arrow string array (``lines.py``), parses each line once
into the contract's structure (``layout.py``) and checks its values in SQL (``fastsql.py``);
Arrow checks what spans an order's lists (``listfacts.py``), combines the verdicts
(``proven.py``) and tabulates (``unnest.py``). A line the SQL cannot prove valid -- an unknown
field, money with three decimals, a naive timestamp -- goes to the Python reference, which
either accepts it or gives the reason it is quarantined; so both paths give the same tables, and
``tests/normalise/test_fast_path.py`` checks that they do.

Memory is bounded by the chunk: :func:`iter_chunks` yields each chunk's tables as soon as they
are made, for a writer that streams; :func:`normalise_staged` gathers a day and sorts it whole.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import available_timezones

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from grafterr_pipeline.normalise import fastsql
from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.normalise.fallback import KEYS_SCHEMA, Fallback, python_rows
from grafterr_pipeline.normalise.layout import (
    CUSTOMER,
    LINE,
    OPTIONAL,
    ORDER,
    canonical_pattern,
    transform_spec,
    varchar_spec,
)
from grafterr_pipeline.normalise.lines import (
    DEFAULT_CHUNK_BYTES,
    LineChunk,
    read_ahead,
    read_line_chunks,
)
from grafterr_pipeline.normalise.listfacts import with_list_facts
from grafterr_pipeline.normalise.orders import NormaliseOptions
from grafterr_pipeline.normalise.proven import business_dates, merge_keys, proven, unproven
from grafterr_pipeline.normalise.schema import QUARANTINE, TABLES
from grafterr_pipeline.normalise.unnest import child_tables

__all__ = [
    "PARALLEL_LINES",
    "ChunkTables",
    "FastNormaliser",
    "in_canonical_layout",
    "iter_chunks",
    "normalise_staged",
]

logger = logging.getLogger(__name__)

CAND = "_cand"
# The line without the keys the contract lets Grafterr leave out, which are read apart.
_SPEC = transform_spec({**LINE, "order": {k: v for k, v in ORDER.items() if k not in OPTIONAL}})
_CUSTOMER_SPEC = transform_spec(CUSTOMER)
_TEXT_SPEC = varchar_spec(LINE)
# A chunk of fewer lines is queried on one DuckDB thread (see iter_chunks): split in eight
# batches (LineChunk.table), each would be shorter than one of DuckDB's 2,048-row vectors.
PARALLEL_LINES = 8 * 2048
# Anchored at both ends; pyarrow's match_substring_regex searches.
_LAYOUT = rf"\A(?:{canonical_pattern()})\z"


@lru_cache(maxsize=1)
def _zones() -> pa.Table:
    """Zone names both Python's ``zoneinfo`` and DuckDB's ICU know; others go to Python.

    Business dates are worked out with ``zoneinfo`` alone (``proven.business_dates``): ICU's
    copy of the zone rules can be another tzdata release than the reference's.
    """
    with duckdb.connect() as con:
        icu = {row[0] for row in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    return pa.table({"name": sorted(available_timezones() & icu)})


@dataclass(frozen=True)
class ChunkTables:
    """One chunk's rows: the four tables with a ``_cand`` column (the staged line each row came
    from), the quarantine, and the keys of the latest version of each order seen in it."""

    tables: dict[str, pa.Table]
    quarantine: pa.Table
    best: pa.Table
    python_lines: int = 0


@dataclass(frozen=True)
class QueriedChunk:
    """A chunk after :meth:`FastNormaliser.query`: it needs no connection to become
    :class:`ChunkTables`, so :func:`iter_chunks` builds those beside the next chunk's query."""

    conv: pa.Table
    winners: pa.Table
    won: pa.ChunkedArray
    best: pa.Table
    fallback: Fallback

    def tables(self) -> ChunkTables:
        """The four tables of the chunk's winning rows, its quarantine and merge keys."""
        fallback = self.fallback
        tables = _sql_tables(self.conv, self.winners)
        python = {name: fallback.table(name, with_cand(TABLES[name])) for name in TABLES}
        tables = {name: _with_python(tables[name], python[name], self.won) for name in TABLES}
        return ChunkTables(tables, fallback.quarantine, self.best, fallback.lines)


@dataclass
class FastNormaliser:
    """A DuckDB connection set up to normalise chunks of one business date's staged lines.

    ``threads`` is DuckDB's thread count; ``None`` leaves DuckDB's default (one per core).
    """

    business_date: dt.date
    options: NormaliseOptions
    now: dt.datetime
    threads: int | None = None

    def __post_init__(self) -> None:
        self.con = duckdb.connect(config={"threads": self.threads} if self.threads else {})
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(fastsql.MACROS)

    def use_default_threads(self) -> None:
        """Have DuckDB run the next queries on its default number of threads."""
        if self.threads is not None:
            self.con.execute("RESET threads")
            self.threads = None

    def close(self) -> None:
        """Release the connection."""
        self.con.close()

    def chunk(self, chunk: LineChunk, canonical: pa.BooleanArray | None = None) -> ChunkTables:
        """Validate, merge and tabulate one chunk; ``canonical`` is
        :func:`in_canonical_layout` of it, when it was found already."""
        return self.query(chunk, canonical).tables()

    def query(self, chunk: LineChunk, canonical: pa.BooleanArray | None = None) -> QueriedChunk:
        """The part of :meth:`chunk` that needs the connection: the rows, which of them are
        proven valid, the Python reference's reading of the others, and the merge."""
        con = self.con
        if canonical is None:
            canonical = in_canonical_layout(chunk)
        con.register("lines", chunk.table(canonical=canonical))
        conv = self._rows(every_line=pc.all(canonical, skip_nulls=False).as_py() is True)
        good = proven(conv, _zones()["name"], chunk.lines, chunk.first)
        dates = business_dates(good["created_at"], good["store_timezone"], self.options.cutoff)
        keys = merge_keys(good, dates)
        fallback = self._fallback(chunk, keys)
        best = self._best(keys, fallback.keys)
        won = best.filter(pc.equal(best["business_date"], self.business_date))
        by_sql = won.filter(pc.is_in(won["cand"], keys["cand"])) if fallback.key_rows else won
        return QueriedChunk(
            conv, by_sql.select(["cand", "business_date"]), won["cand"], best, fallback
        )

    def _best(self, keys: pa.Table, python_keys: pa.Table) -> pa.Table:
        """The latest valid version of each order among the SQL's and the Python reader's
        (``fastsql.BEST``), ordered by line; usually every order has one, and that is all."""
        if not python_keys.num_rows and pc.count_distinct(keys["order_id"]).as_py() == len(keys):
            return keys
        self.con.register("keys", pa.concat_tables([keys, python_keys]))
        self.con.execute(fastsql.BEST)
        self.con.unregister("keys")
        return self.con.sql("SELECT * FROM best ORDER BY cand").to_arrow_table().cast(KEYS_SCHEMA)

    def _rows(self, *, every_line: bool) -> pa.Table:
        """``fastsql.CONV`` of the chunk's lines, with ``CONV_OTHER``'s unless ``every_line``
        is in the canonical layout, and the facts of their lists (``listfacts.py``)."""
        params = {"pii": self.options.pii, "salt": self.options.pii_salt}
        rows = self.con.sql(fastsql.CONV, params={**params, "text_spec": _TEXT_SPEC})
        conv = rows.to_arrow_table()
        if not every_line:
            specs = {"spec": _SPEC, "customer_spec": _CUSTOMER_SPEC}
            other = self.con.sql(fastsql.CONV_OTHER, params={**params, **specs}).to_arrow_table()
            conv = pa.concat_tables([conv, other.cast(conv.schema)])
        return with_list_facts(conv)

    def _fallback(self, chunk: LineChunk, keys: pa.Table) -> Fallback:
        """The Python reference's reading of the lines of ``chunk`` no row of ``keys`` proves."""
        flagged = unproven(keys, len(chunk.lines), chunk.first)
        # as bytes: Arrow does not check the file's text is UTF-8, and the reader must not fail
        lines = chunk.lines.take(pa.array(flagged - chunk.first)).cast(pa.binary()).to_pylist()
        return python_rows(
            zip(flagged.tolist(), lines, strict=True),
            business_date=self.business_date,
            options=self.options,
            now=self.now,
        )


def in_canonical_layout(chunk: LineChunk) -> pa.BooleanArray:
    """Whether each line of ``chunk`` is in the canonical layout (``layout.canonical_pattern``).

    The pattern runs in Arrow rather than in DuckDB: the same RE2 costs about 40% less there
    (0.25 against 0.41 CPU seconds for 46,000 lines), and :func:`iter_chunks` runs it in the
    reading thread, beside DuckDB's work on the chunk before.

    A line must be UTF-8 too: RE2 matches the pattern over a surrogate's bytes or a code point
    beyond Unicode, on which DuckDB's reader of canonical lines, which has no ``try``, fails.
    The whole chunk is checked at once (about 15 ms per 100 MB); lines only when that fails.
    """
    canonical = pc.match_substring_regex(chunk.lines, _LAYOUT)
    try:
        chunk.lines.validate(full=True)
    except pa.ArrowInvalid:
        return pc.and_(canonical, pa.array([_is_utf8(b) for b in chunk.lines.cast(pa.binary())]))
    return canonical


def _is_utf8(line: pa.BinaryScalar) -> bool:
    try:
        line.as_py().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _with_python(sql: pa.Table, python: pa.Table, won: pa.ChunkedArray) -> pa.Table:
    """The SQL's rows and those of the Python reference's lines that won the merge."""
    python = python.filter(pc.is_in(python[CAND], won))  # losers and other dates
    return pa.concat_tables([sql, python]) if python.num_rows else sql


def _sql_tables(conv: pa.Table, winners: pa.Table) -> dict[str, pa.Table]:
    """The four tables of the winning rows of ``conv`` (``fastsql.CONV``'s result): those of
    the lines ``winners`` holds (``cand``) with their ``business_date``."""
    won = pc.is_in(conv["cand"], winners["cand"])
    rows = conv if pc.all(won).as_py() else conv.filter(won)  # copying lists costs
    own = [name for name in TABLES["orders"].names if name != "business_date"]
    columns = {name: rows[name] for name in own} | {
        "business_date": winners["business_date"].take(pc.index_in(rows["cand"], winners["cand"])),
        CAND: rows["cand"],
        "items": rows["items"],
        "payments": rows["payments"],
    }
    orders = pa.table(columns)
    schemas = {name: with_cand(schema) for name, schema in TABLES.items()}
    tables = child_tables(orders, schemas)
    tables["orders"] = conform(orders.drop_columns(["items", "payments"]), schemas["orders"])
    return tables


def with_cand(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the ``_cand`` column the fast path carries until the merge is final."""
    return schema.append(pa.field(CAND, pa.int64(), nullable=False))


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table``'s columns cast to ``schema``'s types, with its nullability and metadata."""
    columns = [table[f.name].cast(f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def iter_chunks(
    paths: Iterable[Path],
    *,
    business_date: dt.date,
    options: NormaliseOptions,
    now: dt.datetime | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    threads: int | None = None,
) -> Iterator[ChunkTables]:
    """Yield the tables of each chunk of the staged lines in ``paths`` as it is done.

    Versions of one order are merged within a chunk; :func:`normalise_staged` also merges
    across chunks. Staged files hold one valid version per order already (``merge_orders``).

    With ``threads`` left ``None``, chunks are queried on one DuckDB thread until one has
    :data:`PARALLEL_LINES` lines or more, and on DuckDB's default from then on: a chunk's
    eight Arrow batches are then too short to be worth a second thread, whose own memory (its
    allocator arena and buffers, ~5 MiB) was most of what a small date's landing added.
    """
    normaliser = FastNormaliser(
        business_date, options, now or dt.datetime.now(dt.UTC), threads or 1
    )
    try:
        chunks = read_line_chunks(paths, chunk_bytes=chunk_bytes)
        judged = ((chunk, in_canonical_layout(chunk)) for chunk in chunks)
        # Arrow builds chunk N's tables in a worker thread while DuckDB (which lets go of the
        # GIL) queries chunk N+1: at most one queried chunk waits beside the one being read.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-tables") as pool:
            pending: Future[ChunkTables] | None = None
            for chunk, canonical in read_ahead(judged):
                if threads is None and len(chunk.lines) >= PARALLEL_LINES:
                    normaliser.use_default_threads()
                queried = normaliser.query(chunk, canonical)
                if pending is not None:
                    yield pending.result()
                pending = pool.submit(queried.tables)
            if pending is not None:
                yield pending.result()
    finally:
        normaliser.close()


def normalise_staged(
    paths: Iterable[Path],
    *,
    business_date: dt.date,
    options: NormaliseOptions,
    now: dt.datetime | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> NormalisedDay:
    """The tables of one business date from its staged lines: the fast twin of
    :func:`~grafterr_pipeline.normalise.day.normalise_day`, with identical results."""
    chunks = list(
        iter_chunks(
            paths, business_date=business_date, options=options, now=now, chunk_bytes=chunk_bytes
        )
    )
    keep = _global_winners([c.best for c in chunks])
    tables = {
        name: _finish([c.tables[name] for c in chunks], schema, keep)
        for name, schema in TABLES.items()
    }
    quarantine = pa.concat_tables([QUARANTINE.empty_table(), *(c.quarantine for c in chunks)])
    python_lines = sum(c.python_lines for c in chunks)
    if quarantine.num_rows:
        logger.warning("%s: %d order version(s) quarantined", business_date, quarantine.num_rows)
    logger.info("%s: %d staged line(s) needed the Python reader", business_date, python_lines)
    return NormalisedDay(business_date, tables, quarantine)


def _global_winners(best: list[pa.Table]) -> pa.Array | None:
    """The lines that win across chunks, or ``None`` when no order spans two chunks."""
    keys = pa.concat_tables([KEYS_SCHEMA.empty_table(), *best])
    if pc.count_distinct(keys["order_id"]).as_py() == keys.num_rows:
        return None
    with duckdb.connect() as con:
        con.register("keys", keys)
        con.execute(fastsql.BEST)
        return con.sql("SELECT cand FROM best").to_arrow_table()["cand"]


def _finish(parts: list[pa.Table], schema: pa.Schema, keep: pa.Array | None) -> pa.Table:
    table = pa.concat_tables([with_cand(schema).empty_table(), *parts])
    if keep is not None:
        table = table.filter(pc.is_in(table[CAND], keep))
    table = table.sort_by([("created_at", "ascending"), ("order_id", "ascending")])
    return conform(table.drop_columns([CAND]), schema)
