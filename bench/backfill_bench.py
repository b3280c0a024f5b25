"""A 30-day backfill in parallel runs against a tight rate limit (issue 8), R = 2/s.

Four `grafterr-pipeline run` processes, as the run queue of `dagster_home/dagster.yaml` would
start them, share one Dagster instance, one data root and so one rate budget. The sandbox
allows ``R`` requests per second. Reported: the requests all runs made, the least time ``R``
allows for them (requests / R), the wall time, their ratio (goal: the backfill takes no longer
than the rate limit requires, plus each run's fixed start-up), and 429s (goal: none).

Run alone with ``python -m bench.backfill_bench``.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dagster import AssetKey, DagsterInstance

from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, pipeline_environment

FIRST = dt.date(2026, 10, 1)
DAYS = 30
PROCESSES = 4
# Tight enough that the limit, not each run's fixed Dagster start-up, bounds the backfill.
RATE = 2.0
CONFIG = SandboxConfig(
    seed=3, scale=60, now=dt.datetime(2026, 11, 5, tzinfo=dt.UTC), rate_limit=RATE, burst=2
)


def _ranges() -> list[tuple[dt.date, dt.date]]:
    size = -(-DAYS // PROCESSES)
    return [
        (FIRST + dt.timedelta(days=s), FIRST + dt.timedelta(days=min(s + size, DAYS) - 1))
        for s in range(0, DAYS, size)
    ]


def _environment(home: Path, data: Path, base_url: str) -> dict[str, str]:
    told = pipeline_environment(CONFIG, base_url, data_dir=str(data))
    return {**os.environ, **told, "DAGSTER_HOME": str(home), "GRAFTERR_PII_SALT": "bench-salt"}


def _backfill(home: Path, data: Path) -> float:
    command = Path(sys.executable).parent / "grafterr-pipeline"
    with SandboxServer(CONFIG) as sandbox:
        env = _environment(home, data, sandbox.base_url)
        started = time.monotonic()
        runs = [
            subprocess.Popen(
                [command, "run", "--start", str(a), "--end", str(b)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for a, b in _ranges()
        ]  # fmt: skip
        codes = [run.wait(timeout=1800) for run in runs]
        elapsed = time.monotonic() - started
    if any(codes):
        raise SystemExit(f"backfill runs failed with exit codes {codes}")
    return elapsed


def _totals(home: Path) -> tuple[int, int, int]:
    with DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(AssetKey("raw_orders"), limit=1000).records
    metadata = [r.asset_materialization.metadata for r in records]
    requests = sum(m["requests"].value for m in metadata)
    throttled = sum(m["throttled_429"].value for m in metadata)
    return len(metadata), requests, throttled


def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        home, data = Path(scratch, "home"), Path(scratch, "data")
        home.mkdir()
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        DagsterInstance.from_config(str(home)).dispose()
        elapsed = _backfill(home, data)
        dates, requests, throttled = _totals(home)
    floor = requests / RATE
    print(f"backfill: {dates} business dates, {PROCESSES} runs in parallel, R={RATE:g}/s")
    print("requests  floor s (requests/R)  wall s  wall/floor  429s")
    print(f"{requests:8d}  {floor:19.1f}  {elapsed:6.1f}  {elapsed / floor:10.2f}  {throttled:4d}")
    return 0


if __name__ == "__main__":
    main()
