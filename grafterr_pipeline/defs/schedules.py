"""The daily schedule: yesterday plus a look-back, because Grafterr carries late refunds.

It fires an hour after the cut-off in the home zone (05:00 with the defaults) and asks for
the business date that just closed and the ``lookback_days`` before it, as one run over their
partition range (their pull windows overlap, so the range is pulled once; see
:mod:`grafterr_pipeline.pulls`), with a run key, so a tick evaluated twice does not run twice.
"""

import datetime as dt

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    schedule,
)

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.defs.partitions import range_tags

__all__ = ["build_daily_schedule", "business_dates_for_tick"]


def business_dates_for_tick(
    tick: dt.datetime, *, timezone: str, cutoff: dt.time, lookback_days: int
) -> list[dt.date]:
    """The business dates a tick at ``tick`` should (re)build, newest first."""
    today = business_date_of(tick, timezone, cutoff)
    return [today - dt.timedelta(days=back) for back in range(1, lookback_days + 2)]


def build_daily_schedule(
    job: object,
    *,
    timezone: str,
    cutoff: dt.time,
    lookback_days: int,
) -> ScheduleDefinition:
    """A schedule an hour after ``cutoff`` that runs ``job`` for the recent business dates."""
    fire = (dt.datetime.combine(dt.date(2000, 1, 1), cutoff) + dt.timedelta(hours=1)).time()

    @schedule(
        name="daily_grafterr_orders",
        job=job,
        cron_schedule=f"{fire.minute} {fire.hour} * * *",
        execution_timezone=timezone,
        default_status=DefaultScheduleStatus.RUNNING,
        description=(
            f"Daily at {fire:%H:%M} {timezone}: rebuilds, in one run, the business date that just "
            f"closed and the {lookback_days} before it, which late refunds and cancellations may "
            "change."
        ),
        tags={"layer": "ingest"},
    )
    def daily_grafterr_orders(context: ScheduleEvaluationContext):
        tick = context.scheduled_execution_time
        dates = business_dates_for_tick(
            tick, timezone=timezone, cutoff=cutoff, lookback_days=lookback_days
        )
        return RunRequest(
            run_key=f"{min(dates)}..{max(dates)}@{tick:%Y-%m-%d}", tags=range_tags(dates)
        )

    return daily_grafterr_orders
