"""Normalise and write a million sandbox orders; compare with pandas and with DuckDB alone.

Three contenders read the same staged JSON-lines file (one candidate order per line, as
``merge_orders`` stores it) and write Parquet, each in its own process so that its peak memory
(``VmHWM``) is its own:

``fast``
    the pipeline's fast path (``normalise.fast.iter_chunks``), streaming the four tables and
    the quarantine to Parquet (zstd, statistics and dictionaries as the warehouse writes; row
    groups as DuckDB's COPY cuts them, see :data:`ROW_GROUP_ROWS`), each chunk written in a thread
    while the next is normalised;
``pandas``
    ``json.loads`` per line, ``pandas.json_normalize`` and ``DataFrame.to_parquet``, in chunks
    of 50,000 lines (one file each) so that it finishes at all;
``duckdb``
    DuckDB reading the JSON and writing Parquet itself: ``COPY (SELECT * FROM read_json(...))``.

The input is made once from the sandbox's orders of one business date, repeated with new order
ids up to ``GRAFTERR_BENCH_ORDERS`` (default 1,000,000), and kept under
``GRAFTERR_BENCH_DIR`` (default: a folder in the system's temporary directory).
``GRAFTERR_BENCH_ROUNDS`` (default 1) runs ``fast`` and ``duckdb`` that many times, in turn,
and reports the median of each: on a shared machine one run mostly measures the neighbours.
``pandas`` runs once; it is the slowest by far.
Goals (normalisation issue): at least 5 times pandas, within 2 times of DuckDB, under 2 GiB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DEFAULT_ORDERS = 1_000_000
POOL_DATE = dt.date(2026, 11, 18)
POOL_SCALE = 400
PANDAS_CHUNK = 50_000
MEMORY_GOAL = 2 * 1024**3
# DuckDB's COPY TO parquet default, so both contenders' files are cut alike. The warehouse's own
# ROW_GROUP_ROWS (8192) is sized for a day's partition (~2,000 orders: one group per table);
# applied to a million orders streamed into one file it made a group per 8,192 rows, each with
# its own dictionaries and statistics: twice the bytes and about a third more writing CPU than
# groups of this size, for a layout no warehouse file has.
ROW_GROUP_ROWS = 122_880
_FORMAT_VERSION = 1


def _bench_dir() -> Path:
    default = Path(tempfile.gettempdir()) / "grafterr-bench"
    return Path(os.environ.get("GRAFTERR_BENCH_DIR") or default)


def _pool() -> list[bytes]:
    """Staged lines of one sandbox business date, as merge_orders writes them."""
    from grafterr_pipeline.normalise import dumps
    from grafterr_pipeline.sandbox import SandboxConfig, ground_truth

    now = dt.datetime.combine(POOL_DATE + dt.timedelta(days=7), dt.time(), dt.UTC)
    truth = ground_truth(SandboxConfig(seed=7, scale=POOL_SCALE, now=now), POOL_DATE)
    record = {"source": "api", "event_kind": None, "occurred_at": None}
    return [dumps({**record, "order": order}).encode() for order in truth.orders.values()]


def make_input(orders: int) -> Path:
    """The staged file of ``orders`` lines, made once and kept."""
    path = _bench_dir() / f"staged-v{_FORMAT_VERSION}-{orders}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    pool = _pool()
    temp = path.with_suffix(".partial")
    with open(temp, "wb") as out:
        for n in range(orders):
            line = pool[n % len(pool)]
            copy = n // len(pool)
            if copy:
                line = line.replace(b'"order_id":"ord_', b'"order_id":"ord_%d_' % copy, 1)
            out.write(line + b"\n")
    temp.replace(path)
    return path


def run_fast(source: Path, out: Path) -> None:
    """The pipeline's fast path, streamed to one Parquet file per table.

    Each chunk is written in a background thread while the next one is normalised (pyarrow's
    writer and DuckDB both release the GIL), as DuckDB's own COPY overlaps its reading and
    writing.
    """
    import pyarrow.parquet as pq

    from grafterr_pipeline.normalise import NormaliseOptions
    from grafterr_pipeline.normalise.fast import CAND, ChunkTables, iter_chunks
    from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
    from grafterr_pipeline.warehouse.parquet import dictionary_columns

    options = NormaliseOptions(pii="hash", pii_salt="bench-salt")
    writers = {
        name: pq.ParquetWriter(
            out / f"{name}.parquet",
            schema,
            compression="zstd",
            write_statistics=True,
            use_dictionary=dictionary_columns(schema),
        )
        for name, schema in WAREHOUSE_TABLES.items()
    }

    def write(chunk: ChunkTables) -> None:
        for name, table in chunk.tables.items():
            writers[name].write_table(table.drop_columns([CAND]), row_group_size=ROW_GROUP_ROWS)
        writers["quarantine"].write_table(chunk.quarantine)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for chunk in iter_chunks([source], business_date=POOL_DATE, options=options):
            if pending is not None:
                pending.result()
            pending = pool.submit(write, chunk)
        if pending is not None:
            pending.result()
    for writer in writers.values():
        writer.close()


def run_pandas(source: Path, out: Path) -> None:
    """json.loads, pandas.json_normalize, DataFrame.to_parquet; in chunks."""
    import pandas as pd

    def flush(orders: list[dict], part: int) -> None:
        frame = pd.json_normalize(orders)
        frame.to_parquet(out / f"orders-{part:04d}.parquet", compression="zstd", index=False)

    batch: list[dict] = []
    part = 0
    with open(source, "rb") as lines:
        for line in lines:
            batch.append(json.loads(line)["order"])
            if len(batch) == PANDAS_CHUNK:
                flush(batch, part)
                batch, part = [], part + 1
    if batch:
        flush(batch, part)


def run_duckdb(source: Path, out: Path) -> None:
    """DuckDB reads the JSON and writes Parquet itself."""
    import duckdb

    target = str(out / "orders.parquet").replace("'", "''")  # COPY TO takes no parameter
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM read_json(?)) TO '{target}' (FORMAT parquet, COMPRESSION zstd)",
            [str(source)],
        )


CONTENDERS = {"fast": run_fast, "pandas": run_pandas, "duckdb": run_duckdb}


def _child(name: str, source: Path, out: Path) -> None:
    started = time.perf_counter()
    CONTENDERS[name](source, out)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_bytes": own_peak_bytes()}))


def own_peak_bytes() -> int:
    """This process's peak resident memory since it started its program.

    Not ``ru_maxrss``: Linux starts a spawned process's at its parent's peak, so in ``make
    bench``, after the earlier parts grew the harness, every contender read the same 1.8 GB.
    ``VmHWM`` is the high-water mark of this program's own memory; ``ru_maxrss`` stands in
    where there is no ``/proc``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _measure(name: str, source: Path) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=_bench_dir()))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench.normalise_bench", "--child", name, str(source), str(out)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["parquet_bytes"] = sum(f.stat().st_size for f in out.iterdir())
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each figure over ``runs``; the peak memory is the largest."""
    result = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    result["peak_bytes"] = max(run["peak_bytes"] for run in runs)
    return result


def _run_all(source: Path, rounds: int) -> dict[str, dict[str, float]]:
    runs: dict[str, list[dict[str, float]]] = {"fast": [], "duckdb": []}
    for _ in range(rounds):
        for name, done in runs.items():
            done.append(_measure(name, source))
    results = {name: _median(done) for name, done in runs.items()}
    results["pandas"] = _measure("pandas", source)
    return results


def main(argv: list[str] | None = None) -> int:
    """Make the input, run the three contenders in turn and print the comparison."""
    orders = int(os.environ.get("GRAFTERR_BENCH_ORDERS") or DEFAULT_ORDERS)
    rounds = max(1, int(os.environ.get("GRAFTERR_BENCH_ROUNDS") or 1))
    source = make_input(orders)
    size = source.stat().st_size
    print(f"input: {orders:,} staged orders, {size / 1024**2:,.0f} MiB of JSON lines ({source})")
    print(f"load average before: {os.getloadavg()[0]:.2f}; fast and duckdb: median of {rounds}")
    results = _run_all(source, rounds)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    # CPU seconds are shown too: on a shared machine wall time mostly measures the neighbours.
    print(
        f"{'contender':<10}{'seconds':>9}{'orders/s':>10}{'cpu s':>8}{'orders/cpu s':>14}"
        f"{'peak MiB':>10}{'parquet MiB':>13}"
    )
    for name, result in results.items():
        print(
            f"{name:<10}{result['seconds']:>9.1f}{orders / result['seconds']:>10,.0f}"
            f"{result['cpu_seconds']:>8.1f}{orders / result['cpu_seconds']:>14,.0f}"
            f"{result['peak_bytes'] / 1024**2:>10,.0f}{result['parquet_bytes'] / 1024**2:>13,.1f}"
        )
    fast, pandas, duck = (results[n]["seconds"] for n in ("fast", "pandas", "duckdb"))
    peak = results["fast"]["peak_bytes"]
    print(f"fast vs pandas: {pandas / fast:.1f}x faster (goal >= 5x)")
    print(f"fast vs duckdb: {fast / duck:.2f}x its time (goal <= 2x)")
    print(f"fast peak memory: {peak / 1024**3:.2f} GiB (goal < 2 GiB): {peak < MEMORY_GOAL}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit(main(sys.argv[1:]))
