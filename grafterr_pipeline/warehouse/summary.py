"""The ``daily_sales`` summary: the view's rows kept as one Parquet file per month.

``daily_sales`` aggregates every order and refund of the dates it covers. Computed from the
base tables, a month of one store costs DuckDB a plan over every day file of two tables and a
scan of 62 of them (issue #7). The summary stores the very rows the view's SQL
(:data:`~grafterr_pipeline.warehouse.views.DAILY_SALES_SQL`) gives over a month's day
partitions, so the view reads one small file per month instead:

    <tables>/daily_sales/business_month=YYYY-MM/part-<id>.parquet

The base tables keep their layout and their per-day swap; the summary is derived, never a
second copy of an order. Its file is replaced like a partition (new name in a hidden folder,
fsync, one ``renameat2`` exchange of the month folder), so a reader sees a whole old or a
whole new month. :meth:`Warehouse.land` rebuilds the month of the date it lands and swaps it
in under the same exclusive swap lock as the date's partitions, so a statement run through
this package never sees a date's partitions and its summary disagree.

Each file records, in its Parquet key-value metadata, what it was built from: the file names
of every date's ``orders`` and ``payments`` partitions (never reused, so a name is a version)
and a hash of the SQL. :func:`repair` compares that with the partitions on disk and rebuilds
what differs: a month whose rebuild a crash cut short, a warehouse landed before summaries
existed, a change of the SQL. A rebuild reuses the recorded rows of the dates that still
match and recomputes only the others.

Local tables only: an object store has no atomic folder swap, so there ``daily_sales`` keeps
reading the base tables (see :func:`grafterr_pipeline.warehouse.views.analyst_views`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
from grafterr_pipeline.warehouse import files
from grafterr_pipeline.warehouse.files import fsync_dir, staging_name, swap_dir
from grafterr_pipeline.warehouse.location import glob_escape
from grafterr_pipeline.warehouse.parquet import read_file
from grafterr_pipeline.warehouse.views import DAILY_SALES_SQL

__all__ = [
    "SOURCE_TABLES",
    "SUMMARY_DIR",
    "MonthBuild",
    "build_lock",
    "commit_month",
    "month_of",
    "remove_leftovers",
    "repair",
    "stage_month",
    "stale_months",
    "summary_glob",
]

logger = logging.getLogger(__name__)

SUMMARY_DIR = "daily_sales"
SOURCE_TABLES = ("orders", "payments")
_METADATA_KEY = b"grafterr.daily_sales.sources"
_LOCK_FILE = ".summary.lock"
# Bumped with any change to how the file is built that the SQL hash does not see.
_FORMAT = 1
_SQL_HASH = hashlib.sha256(f"{_FORMAT}\n{DAILY_SALES_SQL}".encode()).hexdigest()
_ORDER = [(c, "ascending") for c in ("business_date", "store_id", "channel", "currency")]

# What a month was built from: date -> table -> the partition's file names.
Sources = dict[str, dict[str, list[str]]]


def month_of(business_date: dt.date) -> str:
    """The month key of ``business_date``: ``YYYY-MM``."""
    return business_date.strftime("%Y-%m")


def summary_glob(tables_dir: Path) -> str:
    """What the ``daily_sales`` view reads: every month's summary file."""
    return f"{glob_escape(str(tables_dir))}/{SUMMARY_DIR}/business_month=*/*.parquet"


def _month_dir(tables_dir: Path, month: str) -> Path:
    return tables_dir / SUMMARY_DIR / f"business_month={month}"


@contextlib.contextmanager
def build_lock(tables_dir: Path) -> Iterator[None]:
    """Serialise summary builds, so two lands of one month cannot each drop the other's date.

    Taken before the swap lock and never while holding it; readers never take it.
    """
    tables_dir.mkdir(parents=True, exist_ok=True)
    with open(tables_dir / _LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _partition_names(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.name.endswith(".parquet") and e.is_file())


def _live_sources(tables_dir: Path, month: str | None = None) -> dict[str, Sources]:
    """The partitions on disk, by month: date -> table -> file names."""
    months: dict[str, Sources] = {}
    prefix = f"business_date={month or ''}"
    for table in SOURCE_TABLES:
        folder = tables_dir / table
        if not folder.is_dir():
            continue
        for entry in sorted(p for p in folder.iterdir() if p.name.startswith(prefix)):
            day = entry.name.removeprefix("business_date=")
            dates = months.setdefault(day[:7], {})
            dates.setdefault(day, {t: [] for t in SOURCE_TABLES})[table] = _partition_names(entry)
    return months


@dataclass(frozen=True)
class _Recorded:
    """A month's live summary: its file, SQL hash, recorded sources and rows (all read)."""

    path: Path | None = None
    sql_hash: str | None = None
    sources: Sources = field(default_factory=dict)
    rows: pa.Table | None = None


def _recorded(tables_dir: Path, month: str) -> _Recorded:
    """The month's live summary, read whole; an unreadable one records nothing (stale).

    The file is small (a month of rows per store, channel and currency), so it is read in full
    rather than trusting an intact footer over damaged pages: a summary is derived data, and
    one that cannot be read is rebuilt from the base tables, never copied from.
    """
    folder = _month_dir(tables_dir, month)
    names = _partition_names(folder) if folder.is_dir() else []
    if len(names) != 1:
        return _Recorded()
    path = folder / names[0]
    try:
        rows = read_file(path)
    except (pa.ArrowException, OSError) as err:
        logger.warning("daily_sales summary %s is unreadable (%s); rebuilding it", path, err)
        return _Recorded(path)
    metadata = rows.schema.metadata or {}
    if _METADATA_KEY not in metadata:
        return _Recorded(path)
    record = json.loads(metadata[_METADATA_KEY])
    return _Recorded(path, record["sql"], record["dates"], rows)


def _compute(sources: Mapping[str, Mapping[str, list[Path]]]) -> pa.Table:
    """``daily_sales`` rows of the given dates, by the view's own SQL over their files."""
    # A database of its own, closed when done (~12 ms to open): one kept for the process
    # held ~5 MiB through every later date's normalisation, at the run's peak of memory.
    con = duckdb.connect(":memory:")
    try:
        for table in SOURCE_TABLES:
            files = [str(f) for tables in sources.values() for f in tables[table]]
            if files:
                relation = con.read_parquet(files, hive_partitioning=False)
            else:
                relation = con.from_arrow(WAREHOUSE_TABLES[table].empty_table())
            relation.create_view(table)
        return con.sql(DAILY_SALES_SQL).to_arrow_table()
    finally:
        con.close()


@dataclass(frozen=True)
class MonthBuild:
    """A month's new summary, durable in a hidden folder (``staged`` is ``None``: no dates
    left), and the dates left out because their partitions cannot be read."""

    month: str
    final: Path
    staged: Path | None
    recomputed: int
    broken: tuple[str, ...] = ()


def _source_paths(
    tables_dir: Path, month: str, landing: Mapping[str, Mapping[str, list[Path]]]
) -> dict[str, dict[str, list[Path]]]:
    live = _live_sources(tables_dir, month).get(month, {})
    paths = {
        day: {t: [tables_dir / t / f"business_date={day}" / n for n in names[t]] for t in names}
        for day, names in live.items()
    }
    paths.update(
        {day: {t: list(files[t]) for t in SOURCE_TABLES} for day, files in landing.items()}
    )
    return paths


def stage_month(
    tables_dir: Path,
    month: str,
    *,
    landing: Mapping[str, Mapping[str, list[Path]]] | None = None,
) -> MonthBuild | None:
    """Build ``month``'s summary beside the live one; ``None`` when the live one is current.

    ``landing`` gives the files of dates about to be swapped in (date -> table -> staged
    paths); they count as the dates' new versions. Call under :func:`build_lock`, which also
    makes any hidden folder of the month a leftover of a crashed build, removed here.

    A date that must be recomputed but whose live partition cannot be read is left out of the
    build (and of what it records, so the month stays stale) with a WARNING, and named in
    :attr:`MonthBuild.broken`: one damaged day never blocks the month. An unreadable landing
    file, or a failure no single file explains, raises :class:`WarehouseError`.
    """
    remove_leftovers(tables_dir, month)
    paths = _source_paths(tables_dir, month, landing or {})
    wanted = {
        day: {t: sorted(p.name for p in files[t]) for t in SOURCE_TABLES}
        for day, files in paths.items()
    }
    old = _recorded(tables_dir, month)
    current = old.rows is not None and old.sql_hash == _SQL_HASH
    kept = {d for d, names in wanted.items() if current and old.sources.get(d) == names}
    if current and kept == set(wanted) == set(old.sources):
        return None
    final = _month_dir(tables_dir, month)
    if not wanted:
        return MonthBuild(month, final, None, 0)
    redo = {d: files for d, files in paths.items() if d not in kept}
    rows, broken = _compute_readable(month, redo, landing=set(landing or {}))
    if kept and old.rows is not None:
        recorded = old.rows.cast(rows.schema)
        mask = pc.is_in(recorded["business_date"], pa.array(sorted(kept)).cast(pa.date32()))
        rows = pa.concat_tables([recorded.filter(mask), rows])
    dates = {d: names for d, names in wanted.items() if d not in broken}
    record = json.dumps({"sql": _SQL_HASH, "dates": dates}, sort_keys=True)
    rows = rows.sort_by(_ORDER).replace_schema_metadata({_METADATA_KEY: record.encode()})
    staged = _write_staged(final, rows)
    return MonthBuild(month, final, staged, len(redo) - len(broken), tuple(sorted(broken)))


def _unreadable(files: list[Path]) -> list[Path]:
    bad = []
    for path in files:
        try:
            read_file(path)
        except (pa.ArrowException, OSError):
            bad.append(path)
    return bad


def _compute_readable(
    month: str, redo: Mapping[str, Mapping[str, list[Path]]], *, landing: set[str]
) -> tuple[pa.Table, dict[str, list[Path]]]:
    """:func:`_compute` over ``redo``, leaving out dates with an unreadable file (not landing)."""
    try:
        return _compute(redo), {}
    except duckdb.Error as err:
        # Only now, on failure, is every file read whole to find the damaged ones.
        broken = {d: bad for d, tables in redo.items() if (bad := _unreadable(_flat(tables)))}
        if not broken or landing & set(broken):
            raise WarehouseError(
                f"could not compute the daily_sales summary of {month} from "
                f"{', '.join(str(p) for b in broken.values() for p in b) or 'its partitions'}: "
                f"{err}"
            ) from err
    logger.warning(
        "daily_sales %s: left out %s, whose partition files cannot be read (%s); the month "
        "stays stale until the date is landed again",
        month,
        ", ".join(sorted(broken)),
        ", ".join(str(p) for b in broken.values() for p in b),
    )
    rest = {d: tables for d, tables in redo.items() if d not in broken}
    try:
        return _compute(rest), broken
    except duckdb.Error as err:
        raise WarehouseError(
            f"could not compute the daily_sales summary of {month}: {err}"
        ) from err


def _flat(tables: Mapping[str, list[Path]]) -> list[Path]:
    return [path for files in tables.values() for path in files]


def _write_staged(final: Path, rows: pa.Table) -> Path:
    staged = staging_name(final)
    try:
        staged.mkdir(parents=True)
        path = staged / f"part-{uuid.uuid4().hex}.parquet"
        with open(path, "wb") as handle:
            pq.write_table(rows, handle, compression="zstd", write_statistics=True)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(staged)
    except OSError as err:
        raise WarehouseError(
            f"could not write the daily_sales summary {final}: {err.strerror or err}; the "
            "previous one is unchanged (check free space and permissions, then rerun the date "
            "or refresh the views)"
        ) from err
    return staged


def commit_month(build: MonthBuild) -> None:
    """Swap a staged month in (or remove a month without dates). Call under the swap lock."""
    if build.staged is not None:
        build.final.parent.mkdir(parents=True, exist_ok=True)
        swap_dir(build.staged, build.final)
    elif build.final.exists():
        shutil.rmtree(build.final)
        fsync_dir(build.final.parent)
    logger.debug("daily_sales %s: %d date(s) recomputed", build.month, build.recomputed)


def stale_months(tables_dir: Path) -> list[str]:
    """Months whose summary is missing, unreadable or differs from the partitions."""
    live = _live_sources(tables_dir)
    folder = tables_dir / SUMMARY_DIR
    summarised = {
        p.name.removeprefix("business_month=")
        for p in (folder.iterdir() if folder.is_dir() else [])
        if p.name.startswith("business_month=")
    }
    stale = []
    for month in sorted(set(live) | summarised):
        recorded = _recorded(tables_dir, month)
        if recorded.sql_hash != _SQL_HASH or recorded.sources != live.get(month, {}):
            stale.append(month)
    return stale


def remove_leftovers(tables_dir: Path, month: str | None = None) -> int:
    """Remove what crashed builds of ``month`` (or of every month) left; return how many.

    Call under :func:`build_lock` when ``month`` is given; without it the lock is taken here.
    """
    if month is not None:
        return files.remove_leftovers(tables_dir, live=f"business_month={month}")
    if not tables_dir.is_dir():
        return 0
    with build_lock(tables_dir):
        return files.remove_leftovers(tables_dir, live="business_month=")


def repair(tables_dir: Path, swap_lock: contextlib.AbstractContextManager[None]) -> int:
    """Rebuild every stale month; return how many. ``swap_lock`` is the exclusive swap lock.

    Every month that can be rebuilt is; then a :class:`WarehouseError` names the dates whose
    partitions could not be read, if any.
    """
    with build_lock(tables_dir):
        files.remove_leftovers(tables_dir, live="business_month=")
        builds = [stage_month(tables_dir, month) for month in stale_months(tables_dir)]
        builds = [b for b in builds if b is not None]
        if builds:
            with swap_lock:
                for build in builds:
                    commit_month(build)
    if builds:
        logger.info("daily_sales summary: rebuilt %d month(s)", len(builds))
    broken = [d for b in builds for d in b.broken]
    if broken:
        raise WarehouseError(
            f"daily_sales leaves out {', '.join(broken)}: their partitions under {tables_dir} "
            "cannot be read (see the WARNING naming the files); land those dates again"
        )
    return len(builds)
