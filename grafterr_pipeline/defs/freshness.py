"""The freshness check on ``orders`` and the hourly schedule that evaluates it."""

import datetime as dt

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    MetadataValue,
    ScheduleDefinition,
    asset_check,
    define_asset_job,
)

from grafterr_pipeline.freshness import DEFAULT_MAX_AGE, freshness

__all__ = ["build_freshness_check", "build_freshness_schedule"]


def build_freshness_check(*, timezone: str, cutoff: dt.time) -> AssetChecksDefinition:
    """A check that fails when the newest landed business date completed over 30 h ago."""
    limit = DEFAULT_MAX_AGE.total_seconds() / 3600

    @asset_check(
        asset=AssetKey("orders"),
        name="orders_are_fresh",
        description=(
            f"Fails when the newest business date in the warehouse completed more than "
            f"{limit:g} hours ago (its cut-off on the {timezone} clock), e.g. when the daily "
            "schedule has not run."
        ),
    )
    def orders_are_fresh(context: AssetCheckExecutionContext) -> AssetCheckResult:
        partitions = context.instance.get_materialized_partitions(AssetKey("orders"))
        verdict = freshness(
            (dt.date.fromisoformat(key) for key in partitions),
            now=dt.datetime.now(dt.UTC),
            timezone=timezone,
            cutoff=cutoff,
        )
        age_hours = verdict.age.total_seconds() / 3600 if verdict.age else -1.0
        return AssetCheckResult(
            passed=verdict.fresh,
            description=verdict.describe(),
            metadata={
                "latest_business_date": str(verdict.latest or ""),
                "age_hours": MetadataValue.float(round(age_hours, 2)),
                "max_age_hours": MetadataValue.float(limit),
            },
        )

    return orders_are_fresh


def build_freshness_schedule(check: AssetChecksDefinition) -> ScheduleDefinition:
    """Evaluate ``check`` every hour."""
    job = define_asset_job(
        "grafterr_freshness_job",
        selection=AssetSelection.checks(check),
        description="Evaluates whether the warehouse's newest business date is recent enough.",
    )
    return ScheduleDefinition(
        name="hourly_freshness_check",
        job=job,
        cron_schedule="17 * * * *",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Hourly: checks that the newest business date landed is under 30 hours old.",
        tags={"layer": "warehouse"},
    )
