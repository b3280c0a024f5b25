"""Daily partitions by business date.

A partition ``YYYY-MM-DD`` spans that date's cut-off to the next in the business's home zone,
so it exists only once the day's trading is over (``end_offset`` 0). A run covers one date, or
a range of them when launched as a backfill or by ``grafterr-pipeline run``.
"""

from __future__ import annotations

import datetime as dt

from dagster import AssetCheckExecutionContext, AssetExecutionContext, DailyPartitionsDefinition

__all__ = ["business_date_partitions", "partition_date", "partition_dates", "range_tags"]

# The run tags that make a run cover a range of partitions, as a single-run backfill's do.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def business_date_partitions(
    *, start_date: str, timezone: str, cutoff: dt.time
) -> DailyPartitionsDefinition:
    """Daily partitions from ``start_date``, each closing at ``cutoff`` in ``timezone``."""
    return DailyPartitionsDefinition(
        start_date=start_date,
        timezone=timezone,
        hour_offset=cutoff.hour,
        minute_offset=cutoff.minute,
        fmt="%Y-%m-%d",
    )


def partition_date(partition_key: str) -> dt.date:
    """The business date of a partition key."""
    return dt.date.fromisoformat(partition_key)


def partition_dates(context: AssetExecutionContext | AssetCheckExecutionContext) -> list[dt.date]:
    """The business dates a run materialises: its one partition, or each of its range."""
    return [partition_date(key) for key in context.partition_keys]


def range_tags(dates: list[dt.date]) -> dict[str, str]:
    """The run tags of a run over every partition from the first to the last of ``dates``."""
    return {RANGE_START_TAG: min(dates).isoformat(), RANGE_END_TAG: max(dates).isoformat()}
