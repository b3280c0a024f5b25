"""``grafterr-pipeline demo``: the whole pipeline against a local sandbox, start to finish."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.cli.run import DayResult, materialise_dates
from grafterr_pipeline.cli.sql import format_result
from grafterr_pipeline.errors import GrafterrError
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, pipeline_environment
from grafterr_pipeline.warehouse import QueryResult, Warehouse

__all__ = ["DEMO_SUMMARY_SQL", "demo_summary", "last_business_dates", "run_demo"]

logger = logging.getLogger(__name__)

DEMO_RATE_LIMIT = 20.0

DEMO_SUMMARY_SQL = """
SELECT business_date, channel, currency, sum(orders) AS orders, sum(items) AS items,
       sum(gross_revenue) AS gross_revenue, sum(refunds) AS refunds,
       sum(net_revenue) AS net_revenue
FROM daily_sales
WHERE business_date BETWEEN ? AND ?
GROUP BY ALL
ORDER BY business_date, channel, currency
"""


def last_business_dates(days: int, *, timezone: str, cutoff: dt.time) -> list[dt.date]:
    """The ``days`` most recent business dates that have closed, oldest first."""
    today = business_date_of(dt.datetime.now(dt.UTC), timezone, cutoff)
    return [today - dt.timedelta(days=back) for back in range(days, 0, -1)]


def demo_summary(warehouse: Warehouse, dates: list[dt.date]) -> QueryResult:
    """Orders and revenue of ``dates`` only: the data root may hold days from earlier runs."""
    return warehouse.query(DEMO_SUMMARY_SQL, [min(dates), max(dates)])


def _point_at_sandbox(server: SandboxServer, config: SandboxConfig, data_dir: Path) -> None:
    # The demo is the one place that sets the environment: it owns the sandbox it started,
    # and the sandbox's credentials are public fixtures, not secrets.
    os.environ.update(pipeline_environment(config, server.base_url, data_dir=str(data_dir)))
    os.environ.setdefault("GRAFTERR_PII_SALT", "local-demo-salt")


def _print_day(day: DayResult) -> None:
    print(f"  {day.business_date}: {day.summary()}", flush=True)


def run_demo(*, days: int = 7, seed: int = 7, data_dir: str | None = None) -> int:
    """Run the demo; 0 on success."""
    root = Path(data_dir or os.environ.get("GRAFTERR_DATA_DIR") or "data").resolve()
    timezone = os.environ.get("GRAFTERR_TIMEZONE") or "Europe/London"
    dates = last_business_dates(days, timezone=timezone, cutoff=dt.time(4, 0))
    # The sandbox enforces a rate limit, as Grafterr does, and the client is told it.
    config = SandboxConfig(seed=seed, rate_limit=DEMO_RATE_LIMIT, burst=10)
    started = time.monotonic()
    with SandboxServer(config) as server:
        _point_at_sandbox(server, config, root)
        print(f"materialising {len(dates)} business dates: {dates[0]} .. {dates[-1]}", flush=True)
        results = materialise_dates(dates, on_day=_print_day)
    failed = [r for r in results if not r.success]
    if failed:
        raise GrafterrError(
            f"{len(failed)} business date(s) failed; run `make ui` to see each run's error"
        )
    warehouse = Warehouse(root)
    print("\norders and revenue per business date, channel and currency (from daily_sales):")
    format_result(demo_summary(warehouse, dates), "table", sys.stdout)
    print(f"\nDuckDB database: {warehouse.database}")
    print('query it with: .venv/bin/grafterr-pipeline sql "SELECT * FROM daily_sales LIMIT 5"')
    print(f"done in {time.monotonic() - started:.1f}s; see the runs with `make ui`")
    return 0
