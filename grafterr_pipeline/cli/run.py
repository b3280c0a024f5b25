"""``grafterr-pipeline run``: materialise every asset for a range of business dates."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from dagster import DagsterInstance

from grafterr_pipeline.errors import ConfigurationError, GrafterrError
from grafterr_pipeline.settings import Settings

__all__ = ["DayResult", "date_range", "materialise_dates", "run_range"]

logger = logging.getLogger(__name__)

JOB_NAME = "grafterr_orders_job"
# Dagster's own console logger repeats every event, and a failure's whole traceback twice; the
# pipeline's loggers say what matters and a failed date prints its root error in one line.
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class DayResult:
    """How one business date's run went."""

    business_date: dt.date
    success: bool
    run_id: str
    orders: int
    error: str = ""


def date_range(start: str, end: str) -> list[dt.date]:
    """Every date from ``start`` to ``end``, both included."""
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as err:
        raise ConfigurationError(f"--start/--end must be dates as YYYY-MM-DD: {err}") from err
    if last < first:
        raise ConfigurationError(f"--end {end} is before --start {start}")
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _dagster_home() -> None:
    if not os.environ.get("DAGSTER_HOME"):
        home = os.path.abspath("dagster_home")
        os.makedirs(home, exist_ok=True)
        os.environ["DAGSTER_HOME"] = home


def _orders_of(result: object) -> int:
    for event in result.get_asset_materialization_events():  # type: ignore[attr-defined]
        materialization = event.materialization
        if materialization.asset_key.path == ["orders"]:
            return int(materialization.metadata["rows"].value)
    return 0


def _failure_of(result: object) -> str:
    """The root cause of the first failed step, in one line; empty when nothing failed."""
    for event in result.all_events:  # type: ignore[attr-defined]
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return " ".join(error.message.split())
    return ""


def materialise_dates(
    dates: list[dt.date],
    *,
    instance: DagsterInstance | None = None,
    on_day: Callable[[DayResult], None] | None = None,
) -> list[DayResult]:
    """Run the job once per date, through ``instance`` or the one in ``DAGSTER_HOME``."""
    if instance is None:
        _dagster_home()
        with DagsterInstance.get() as home:
            return materialise_dates(dates, instance=home, on_day=on_day)
    from grafterr_pipeline.definitions import build_definitions

    job = build_definitions().resolve_job_def(JOB_NAME)
    results = []
    for day in dates:
        result = job.execute_in_process(
            partition_key=day.isoformat(),
            instance=instance,
            run_config=_QUIET,
            raise_on_error=False,
        )
        outcome = DayResult(
            day, result.success, result.run_id, _orders_of(result), _failure_of(result)
        )
        results.append(outcome)
        if on_day:
            on_day(outcome)
    return results


def _print_day(day: DayResult) -> None:
    if day.success:
        print(f"{day.business_date}: ok, {day.orders} orders (run {day.run_id[:8]})")
    else:
        print(f"{day.business_date}: FAILED (run {day.run_id[:8]}): {day.error}")


def run_range(*, start: str, end: str) -> int:
    """Materialise every asset for ``start``..``end``; 0 when every date succeeded."""
    dates = date_range(start, end)
    Settings.from_env()  # fail now, naming the variable, rather than inside the first run
    results = materialise_dates(dates, on_day=_print_day)
    failed = [r.business_date.isoformat() for r in results if not r.success]
    if failed:
        raise GrafterrError(
            f"{len(failed)} business date(s) failed: {', '.join(failed)}; "
            "open `make ui` to see each run's error"
        )
    return 0
