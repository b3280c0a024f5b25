"""Analyst views over a year of partitioned Parquet against the same data in native tables.

Builds a year of sandbox business dates (about 2000 orders a day across the stores) with the
pipeline's own normalisation and :meth:`Warehouse.land`, once, under ``bench/out/`` (kept for
later runs, resumed if interrupted; delete it to rebuild). Building takes a few minutes on two
cores (149 s for 832,144 orders in a fresh clone's ``make bench``). Then, in the same process,
times each query on:

* ``parquet``: ``grafterr.duckdb`` attached read-only, its views reading the Parquet glob;
* ``native``: the same rows loaded into DuckDB tables (sorted by date), with the same analyst
  view SQL on top.

``daily_sales`` in ``grafterr.duckdb`` reads its monthly summary files
(:mod:`grafterr_pipeline.warehouse.summary`), which hold the rows of the view's SQL; the native
side runs that SQL over its native ``orders`` and ``payments``, as any DuckDB user without the
summary would. So the bench also times the same SQL over the Parquet base tables (the rows
marked "SQL over base tables"), which is what the view cost before the summary.

Goals (issue 7): a month of ``daily_sales`` for one store under 0.1 s and within 2x of native;
``EXPLAIN ANALYZE`` of a one-day query reads only that day's files.

Run alone with ``python -m bench.warehouse_bench [--days N] [--runs N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, normalise_day
from grafterr_pipeline.normalise.schema import TABLES
from grafterr_pipeline.sandbox import SandboxConfig, ground_truth
from grafterr_pipeline.warehouse import Warehouse, summary
from grafterr_pipeline.warehouse.summary import SUMMARY_DIR
from grafterr_pipeline.warehouse.views import ANALYST_VIEWS, DAILY_SALES_SQL

FIRST = dt.date(2025, 1, 1)
SCALE = 190  # orders per store per average weekday: about 2000 a day over the stores
CONFIG = SandboxConfig(seed=11, scale=SCALE, now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
OUT = Path(__file__).parent / "out" / f"warehouse-seed{CONFIG.seed}-scale{SCALE}"
CHUNK = 15  # dates per worker task; a fresh worker per task bounds the sandbox's memory
STORE = "st_001"
# The month and the day the queries read when the build covers them (a year from FIRST).
MONTH = (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
DAY = dt.date(2025, 6, 17)
Window = tuple[tuple[dt.date, dt.date], dt.date]
MONTH_QUERY = "daily_sales, 1 store, 1 month"


def window(days: int) -> Window:
    """The month and the day to query in a build of ``days`` dates from :data:`FIRST`.

    :data:`MONTH` and :data:`DAY` when the build covers them, else the last whole month it
    covers and the same day of it. A build without a whole month is refused: timing queries
    over dates never landed measures nothing.
    """
    last = FIRST + dt.timedelta(days=days - 1)
    if last >= MONTH[1]:
        return MONTH, DAY
    next_day = last + dt.timedelta(days=1)
    end = last if next_day.day == 1 else last.replace(day=1) - dt.timedelta(days=1)
    if end < FIRST:
        raise SystemExit(
            f"--days {days} builds {FIRST}..{last}, not one whole month: the month queries "
            "would read dates never landed. Use --days 31 or more."
        )
    start = end.replace(day=1)
    return (start, end), start + (DAY - MONTH[0])


def queries(month: tuple[dt.date, dt.date], day: dt.date) -> dict[str, tuple[str, list[object]]]:
    """The timed queries: one store over ``month``, every store on ``day``, the whole year."""
    return {
        MONTH_QUERY: (
            "SELECT * FROM daily_sales WHERE store_id = ? AND business_date BETWEEN ? AND ?",
            [STORE, *month],
        ),
        "SQL over base tables, 1 store, 1 month": (
            f"SELECT * FROM ({DAILY_SALES_SQL}) "
            "WHERE store_id = ? AND business_date BETWEEN ? AND ?",
            [STORE, *month],
        ),
        "daily_sales, all stores, 1 day": (
            "SELECT * FROM daily_sales WHERE business_date = ?",
            [day],
        ),
        "product_sales, 1 store, 1 month": (
            "SELECT * FROM product_sales WHERE store_id = ? AND business_date BETWEEN ? AND ?",
            [STORE, *month],
        ),
        "payments_by_method, 1 store, 1 month": (
            "SELECT * FROM payments_by_method WHERE store_id = ? AND business_date BETWEEN ? AND ?",
            [STORE, *month],
        ),
        "daily_sales, whole year by month": (
            "SELECT date_trunc('month', business_date) AS m, currency, sum(orders), "
            "sum(net_revenue) FROM daily_sales GROUP BY ALL ORDER BY ALL",
            [],
        ),
    }


def _land_dates(root: str, first: dt.date, count: int) -> int:
    warehouse = Warehouse(Path(root))
    options = NormaliseOptions(pii="drop")
    orders = 0
    for n in range(count):
        day = first + dt.timedelta(days=n)
        if warehouse.partition_files("quarantine", day):  # swapped in last: the day is whole
            continue  # landed by an earlier, interrupted build
        truth = ground_truth(CONFIG, day)
        candidates = [Candidate(dict(o)) for o in truth.orders.values()]
        warehouse.land(normalise_day(candidates, business_date=day, options=options))
        orders += len(candidates)
    return orders


def build(days: int) -> Path:
    """Land ``days`` sandbox dates under :data:`OUT` unless a previous run did.

    The views and the ``daily_sales`` summary are refreshed either way, so a build made by an
    older version gets what this one reads (its first refresh builds the missing summaries).
    """
    marker = OUT / f"built-{days}"
    if marker.exists():
        started = time.monotonic()
        rebuilt = Warehouse(OUT).refresh_summaries()
        Warehouse(OUT).refresh_views()
        if rebuilt:
            print(f"rebuilt {rebuilt} summary month(s) in {time.monotonic() - started:.1f}s")
        return OUT
    started = time.monotonic()
    chunks = [(FIRST + dt.timedelta(days=s), min(CHUNK, days - s)) for s in range(0, days, CHUNK)]
    with ProcessPoolExecutor(max_workers=2, max_tasks_per_child=1) as pool:
        futures = [pool.submit(_land_dates, str(OUT), first, n) for first, n in chunks]
        orders = sum(f.result() for f in futures)
    Warehouse(OUT).refresh_views()
    marker.write_text(f"{orders}\n")
    print(f"built {days} dates, {orders} orders in {time.monotonic() - started:.0f}s")
    return OUT


def _parquet_connection(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("ATTACH ? AS grafterr (READ_ONLY)", [str(root / "grafterr.duckdb")])
    con.execute("USE grafterr")
    return con


def _native_connection(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for table in TABLES:
        glob = str(root / "warehouse" / table / "business_date=*" / "*.parquet")
        con.execute(
            f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet(?, hive_partitioning = true, '
            "hive_types = {'business_date': DATE}) ORDER BY business_date, created_at",
            [glob],
        )
    for view in ANALYST_VIEWS:
        con.execute(f'CREATE VIEW "{view.name}" AS {view.select}')
    return con


def _median(con: duckdb.DuckDBPyConnection, sql: str, params: list[object], runs: int) -> float:
    con.execute(sql, params).fetchall()  # warm: first open of files and catalog
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        con.execute(sql, params).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _files_read(con: duckdb.DuckDBPyConnection, view: str, day: dt.date) -> str:
    plan = con.execute(
        f"EXPLAIN ANALYZE SELECT * FROM {view} WHERE business_date = ?", [day]
    ).fetchall()[0][1]
    scanning = re.findall(r"Scanning Files: (\d+/\d+)", plan)
    read = re.findall(r"Total Files Read: (\d+)", plan)
    days = sorted(set(re.findall(r"business_date=(\d{4}-\d{2}-\d{2})", plan)))
    summary = f"{SUMMARY_DIR}/business_month=" in plan
    return f"files scanned {scanning}, files read {read}, dates in file names {days}" + (
        ", reads the daily_sales summary glob" if summary else ""
    )


def _cli_path(root: Path, runs: int, query: tuple[str, list[object]]) -> float:
    """The month query as ``grafterr-pipeline sql`` runs it: attach, query, detach."""
    warehouse = Warehouse(root)
    sql, params = query
    with warehouse.reader() as reader:
        reader.query(sql, params)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            reader.query(sql, params)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _timed(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _as_new_versions(tables: Path, days: list[dt.date], into: Path) -> dict[str, dict]:
    """Copies of the dates' orders and payments files under new names: what a land stages."""
    landing: dict[str, dict] = {}
    for day in days:
        for table in summary.SOURCE_TABLES:
            folder = into / table / day.isoformat()
            folder.mkdir(parents=True)
            files = sorted((tables / table / f"business_date={day.isoformat()}").glob("*.parquet"))
            landing.setdefault(day.isoformat(), {})[table] = [
                Path(shutil.copy(f, folder / f"new-{f.name}")) for f in files
            ]
    return landing


def _stage_and_drop(tables: Path, month: str, landing: dict[str, dict]) -> None:
    build = summary.stage_month(tables, month, landing=landing)
    assert build is not None and build.staged is not None
    shutil.rmtree(build.staged)  # never swapped in: the live summary is left as it is


def upkeep(root: Path, runs: int, chosen: Window) -> None:
    """What keeping the summary costs the pipeline: per land, per month rebuilt, per refresh."""
    tables = root / "warehouse"
    (first, last), day = chosen
    month = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    with tempfile.TemporaryDirectory() as temp, summary.build_lock(tables):
        one = _as_new_versions(tables, [day], Path(temp) / "one")
        every = _as_new_versions(tables, month, Path(temp) / "every")
        key = summary.month_of(day)
        per_land = _timed(lambda: _stage_and_drop(tables, key, one), runs)
        per_month = _timed(lambda: _stage_and_drop(tables, key, every), max(3, runs // 4))
        check = _timed(lambda: summary.stale_months(tables), runs)
    print(
        f"summary upkeep (medians): a land's month rebuild (1 date recomputed) "
        f"{per_land * 1000:.1f}ms; a whole month recomputed {per_month * 1000:.1f}ms; "
        f"the staleness check of every month at refresh {check * 1000:.1f}ms"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.warehouse_bench")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args(argv)
    chosen = window(args.days)
    (first, last), day = chosen
    timed = queries(*chosen)
    root = build(args.days)
    parquet, native = _parquet_connection(root), _native_connection(root)
    orders = native.execute("SELECT count(*), count(DISTINCT business_date) FROM orders").fetchone()
    print(f"{orders[0]} orders over {orders[1]} business dates; medians of {args.runs} runs")
    print(f"queries read the month {first}..{last} and the day {day}")
    print(f"{'query':40} {'parquet':>10} {'native':>10} {'ratio':>6}")
    for name, (sql, params) in timed.items():
        p, n = _median(parquet, sql, params, args.runs), _median(native, sql, params, args.runs)
        print(f"{name:40} {p * 1000:8.1f}ms {n * 1000:8.1f}ms {p / n:6.2f}")
    via_sql = _cli_path(root, args.runs, timed[MONTH_QUERY])
    print(f"{'same month, via sql (attach per stmt)':40} {via_sql * 1000:8.1f}ms")
    months = len(list((root / "warehouse" / SUMMARY_DIR).glob("business_month=*")))
    print(f"daily_sales reads its summary: {months} monthly Parquet files")
    for view in ("payments_by_method", "product_sales", "daily_sales"):
        print(f"EXPLAIN ANALYZE one day of {view} ({day}): {_files_read(parquet, view, day)}")
    upkeep(root, args.runs, chosen)


if __name__ == "__main__":
    main()
