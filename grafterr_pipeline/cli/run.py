"""``grafterr-pipeline run``: materialise every asset for a range of business dates.

Consecutive dates run as one Dagster run over their partition range, as a backfill of the
assets' :data:`~grafterr_pipeline.defs.assets.BACKFILL_POLICY` would: up to a month of dates
per run, so the range is pulled once and Dagster starts one run, not one per date.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dagster import DagsterInstance, JobDefinition

from grafterr_pipeline.defs.assets import MAX_DATES_PER_RUN
from grafterr_pipeline.defs.partitions import range_tags
from grafterr_pipeline.errors import ConfigurationError, GrafterrError
from grafterr_pipeline.settings import Settings

__all__ = ["DayResult", "date_range", "materialise_dates", "run_range", "runs_of"]

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
    failed_checks: tuple[str, ...] = ()  # "<asset> <check>: <description>", one per failure

    def summary(self) -> str:
        """One line: the orders landed, or the run's error, then any failed check."""
        if not self.success:
            return f"FAILED (run {self.run_id[:8]}): {self.error}"
        line = f"ok, {self.orders} orders (run {self.run_id[:8]})"
        if self.failed_checks:
            line += f"; {len(self.failed_checks)} check(s) FAILED: " + "; ".join(self.failed_checks)
        return line


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


def _arrow_allocator() -> None:
    """Give pyarrow the system allocator unless ``ARROW_DEFAULT_MEMORY_POOL`` picks one.

    pyarrow's default pool (mimalloc) keeps the pages of each landed date's freed tables: over
    the peers bench's 5 dates the process peaked ~35 MiB higher with it than with the system
    allocator, which hands them back, at the same speed. This sets the pool of pyarrow's Python
    calls only; the command line also sets Arrow's C++ default before pyarrow is imported
    (:func:`grafterr_pipeline.cli.process.use_system_allocator`).
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def _orders_of(result: object, day: dt.date) -> int:
    for event in result.get_asset_materialization_events():  # type: ignore[attr-defined]
        materialization = event.materialization
        if materialization.asset_key.path == ["orders"] and (
            materialization.partition == day.isoformat()
        ):
            return int(materialization.metadata["rows"].value)
    return 0


def _failed_checks_of(result: object, day: dt.date) -> tuple[str, ...]:
    """The checks of ``day``'s partition that failed, each with its description (which names
    the orders). Checks of a whole asset, such as ``orders_are_fresh``, have no partition and
    are left to the UI: in a run of past dates they speak of the asset, not of the date.
    """
    failed = []
    for evaluation in result.get_asset_check_evaluations():  # type: ignore[attr-defined]
        if evaluation.partition == day.isoformat() and not evaluation.passed:
            asset = "/".join(evaluation.asset_key.path)
            failed.append(f"{asset} {evaluation.check_name}: {evaluation.description}")
    return tuple(sorted(failed))


def _failure_of(result: object) -> str:
    """The root cause of the first failed step, in one line; empty when nothing failed."""
    for event in result.all_events:  # type: ignore[attr-defined]
        if event.is_step_failure:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return " ".join(error.message.split())
    return ""


def runs_of(dates: list[dt.date], *, most: int = MAX_DATES_PER_RUN) -> list[list[dt.date]]:
    """``dates`` in runs of consecutive dates, at most ``most`` per run, oldest first."""
    runs: list[list[dt.date]] = []
    for day in sorted(set(dates)):
        last = runs[-1] if runs else None
        if last and len(last) < most and day - last[-1] == dt.timedelta(days=1):
            last.append(day)
        else:
            runs.append([day])
    return runs


def _partitions_of(job: JobDefinition, dates: list[dt.date]) -> dict[str, Any]:
    """The ``execute_in_process`` arguments that select ``dates``' partitions."""
    unknown = [d.isoformat() for d in dates if not job.partitions_def.has_partition_key(str(d))]
    if unknown:
        raise ConfigurationError(
            f"no partition for {', '.join(unknown)}: a business date has one from "
            "GRAFTERR_START_DATE until the last one whose cut-off has passed"
        )
    if len(dates) == 1:
        return {"partition_key": dates[0].isoformat()}
    return {"tags": range_tags(dates)}


def materialise_dates(
    dates: list[dt.date],
    *,
    instance: DagsterInstance | None = None,
    on_day: Callable[[DayResult], None] | None = None,
) -> list[DayResult]:
    """Run the job over ``dates``, through ``instance`` or the one in ``DAGSTER_HOME``.

    Consecutive dates share a run (see :func:`runs_of`); each date gets its own result, and
    a failed run fails each of its dates with the run's error.
    """
    if instance is None:
        _dagster_home()
        with DagsterInstance.get() as home:
            return materialise_dates(dates, instance=home, on_day=on_day)
    from grafterr_pipeline.definitions import build_definitions

    _arrow_allocator()
    job = build_definitions().resolve_job_def(JOB_NAME)
    results = []
    for run in runs_of(dates):
        result = job.execute_in_process(
            instance=instance, run_config=_QUIET, raise_on_error=False, **_partitions_of(job, run)
        )
        error = _failure_of(result)
        for day in run:
            outcome = DayResult(
                day,
                result.success,
                result.run_id,
                _orders_of(result, day),
                error,
                _failed_checks_of(result, day),
            )
            results.append(outcome)
            if on_day:
                on_day(outcome)
    return results


def _print_day(day: DayResult) -> None:
    print(f"{day.business_date}: {day.summary()}")


def run_range(*, start: str, end: str) -> int:
    """Materialise every asset for ``start``..``end``; 0 when every date landed.

    A failed asset check is printed with its date but does not fail the command, as a
    non-blocking check does not fail its Dagster run: the date's data landed, and the check
    names what to look at.
    """
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
