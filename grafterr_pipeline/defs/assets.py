"""The pipeline's assets, one per step, all partitioned by business date.

``raw_orders`` -> ``merged_orders`` -> the warehouse tables -> ``duckdb_views``. Every asset
stores its own output under the data root and reports counts as metadata, so the UI shows
what each partition held without opening a file.

A run may cover a range of dates (:data:`BACKFILL_POLICY`): each asset then does its step for
every date of the range, and reports each date's figures on that date's partition. The range
is pulled as one (see :mod:`grafterr_pipeline.pulls`), so each order is read once.
"""

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    BetaWarning,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
    multi_asset,
)

from grafterr_pipeline.defs.metadata import orders_metadata, partition_metadata
from grafterr_pipeline.defs.partitions import partition_dates
from grafterr_pipeline.defs.resources import GrafterrResource
from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
from grafterr_pipeline.steps import (
    LandedDay,
    MergeReport,
    land_tables,
    merge_with_webhooks,
    pull_raw_dates,
    stage_webhook_deltas,
    warehouse_of,
)
from grafterr_pipeline.webhooks.reconcile import sources_metadata

__all__ = ["API_POOL", "BACKFILL_POLICY", "MAX_DATES_PER_RUN", "build_assets", "inbox_kind"]

# Assets that call Grafterr share this Dagster concurrency pool; dagster.yaml sets its limit.
API_POOL = "grafterr_api"
# Dagster 1.13 calls backfill_policy beta and warns at every definitions load, flooding the
# demo's output; runs over a range are covered by tests/defs/test_ranges.py.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)
# A backfill runs up to a month of dates per run: one run start, one pull of the range, one
# view refresh, instead of one of each per date; a failed run costs at most a month's redo.
MAX_DATES_PER_RUN = 31
BACKFILL_POLICY = BackfillPolicy.multi_run(max_partitions_per_run=MAX_DATES_PER_RUN)
_OWNERS = ["team:data-platform"]

_TABLE_DESCRIPTIONS = {
    "orders": "One row per order of the business date, in its latest known version.",
    "order_items": "One row per order line (voided lines included, status 'voided').",
    "order_item_modifiers": "One row per modifier on an order line.",
    "payments": "One row per payment of an order: captured, refunded or failed.",
    "quarantine": "One row per order version that broke the contract, with its reason.",
}


def inbox_kind(inbox_url: str | None) -> str:
    """The Dagster kind of the webhook inbox ``GRAFTERR_INBOX_URL`` names: the SQLite file
    unless it is a PostgreSQL URL (a malformed one is refused when the inbox is opened)."""
    scheme = urlsplit((inbox_url or "").strip()).scheme.lower()
    return "postgres" if scheme in ("postgres", "postgresql") else "sqlite"


def build_assets(partitions: PartitionsDefinition, *, inbox_kind: str = "sqlite") -> list:
    """The assets, over ``partitions``; ``webhook_deltas`` is labelled with ``inbox_kind``."""

    @asset(
        partitions_def=partitions,
        backfill_policy=BACKFILL_POLICY,
        group_name="ingest",
        owners=_OWNERS,
        kinds={"python", "api"},
        pool=API_POOL,
        tags={"layer": "ingest"},
    )
    def raw_orders(context: AssetExecutionContext, grafterr: GrafterrResource) -> MaterializeResult:
        """One line per API page of the business date's pull window, as Grafterr sent it,
        gzipped under `data/raw/`. Its metadata holds the client's figures (requests, retries,
        429s, pages, orders) for the part of the pull between `stats_from` and `stats_to`:
        the whole window for a date run alone; in a range, the date's own slice, from its
        window start to the next date's (the last date's runs to its window end), so the
        figures add up over the range without counting a request twice. `orders` there is
        what that slice returned, not the orders of the date's window."""
        settings = grafterr.settings()
        with grafterr.client() as client:
            summaries = pull_raw_dates(settings, client, partition_dates(context))
        for summary in summaries:
            start, end = summary.window
            metadata = {
                **summary.stats.as_metadata(),
                "window_from": start.isoformat(),
                "window_to": end.isoformat(),
                "stats_from": summary.stats_window[0].isoformat(),
                "stats_to": summary.stats_window[1].isoformat(),
                "bytes": MetadataValue.int(summary.bytes),
                "path": MetadataValue.path(str(summary.path)),
            }
            context.add_asset_metadata(metadata, partition_key=summary.business_date.isoformat())
        return MaterializeResult()

    @asset(
        partitions_def=partitions,
        backfill_policy=BACKFILL_POLICY,
        group_name="ingest",
        owners=_OWNERS,
        kinds={"python", inbox_kind},
        tags={"layer": "ingest"},
    )
    def webhook_deltas(
        context: AssetExecutionContext, grafterr: GrafterrResource
    ) -> MaterializeResult:
        """Webhook events of the business date, copied from the inbox to ``data/staging/``:
        one line per ``event_id`` (stored once however often delivered) and per quarantined
        delivery, each with its raw body."""
        settings = grafterr.settings()
        for day in partition_dates(context):
            staged = stage_webhook_deltas(settings, day)
            context.add_asset_metadata(staged.as_metadata(), partition_key=day.isoformat())
        return MaterializeResult()

    @asset(
        partitions_def=partitions,
        backfill_policy=BACKFILL_POLICY,
        deps=[raw_orders, webhook_deltas],
        group_name="ingest",
        owners=_OWNERS,
        kinds={"python"},
        tags={"layer": "ingest"},
    )
    def merged_orders(
        context: AssetExecutionContext, grafterr: GrafterrResource
    ) -> MaterializeResult:
        """The versions of the business date's orders from the raw pull and the webhook
        deltas, staged under `data/staging/` for landing, which keeps the latest valid one per
        `order_id`; `orders` counts those whose newest version has the date."""
        settings = grafterr.settings()
        for day in partition_dates(context):
            metadata = _merge_metadata(context, merge_with_webhooks(settings, day))
            context.add_asset_metadata(metadata, partition_key=day.isoformat())
        return MaterializeResult()

    @multi_asset(
        partitions_def=partitions,
        backfill_policy=BACKFILL_POLICY,
        group_name="warehouse",
        can_subset=False,
        specs=[
            AssetSpec(
                name,
                description=_TABLE_DESCRIPTIONS[name],
                group_name="warehouse",
                owners=_OWNERS,
                kinds={"parquet"},
                tags={"layer": "warehouse"},
                deps=[merged_orders],
            )
            for name in WAREHOUSE_TABLES
        ],
    )
    def warehouse_tables(
        context: AssetExecutionContext, grafterr: GrafterrResource
    ) -> Iterator[MaterializeResult]:
        """Normalise the merged orders and land each table's Parquet partition atomically."""
        settings = grafterr.settings()
        for day in partition_dates(context):
            for table, metadata in _landed_metadata(land_tables(settings, day)).items():
                context.add_asset_metadata(
                    metadata, asset_key=AssetKey(table), partition_key=day.isoformat()
                )
        for table in WAREHOUSE_TABLES:
            yield MaterializeResult(asset_key=AssetKey(table))

    @asset(
        partitions_def=partitions,
        backfill_policy=BACKFILL_POLICY,
        deps=[AssetKey(name) for name in WAREHOUSE_TABLES],
        group_name="warehouse",
        owners=_OWNERS,
        kinds={"duckdb"},
        tags={"layer": "warehouse"},
    )
    def duckdb_views(
        context: AssetExecutionContext, grafterr: GrafterrResource
    ) -> MaterializeResult:
        """The DuckDB database analysts query: one view per table over the Parquet partitions,
        plus the analyst views; refreshed only when their definitions change."""
        warehouse = warehouse_of(grafterr.settings())
        changed = warehouse.refresh_views()
        dates = partition_dates(context)
        visible = dict(
            warehouse.query(
                "SELECT business_date, count(*) FROM orders "
                "WHERE business_date BETWEEN ? AND ? GROUP BY business_date",
                [dates[0], dates[-1]],
            ).rows
        )
        for day in dates:
            context.add_asset_metadata(
                {"orders_visible": MetadataValue.int(visible.get(day, 0))},
                partition_key=day.isoformat(),
            )
        return MaterializeResult(
            metadata={
                "database": MetadataValue.path(str(warehouse.database)),
                "views_refreshed": changed,
            }
        )

    return [raw_orders, webhook_deltas, merged_orders, warehouse_tables, duckdb_views]


def _merge_metadata(context: AssetExecutionContext, report: MergeReport) -> dict[str, Any]:
    merged = report.merged
    if report.sources.missing_from_pull:
        context.log.warning(
            "%s: orders known only from webhooks are missing from the pull: %s",
            merged.business_date,
            ", ".join(report.sources.missing_from_pull),
        )
    return {
        "orders": MetadataValue.int(merged.orders),
        "staged_versions": MetadataValue.int(len(merged.lines)),
        "unreadable": MetadataValue.int(merged.unkeyed),
        "superseded_versions": MetadataValue.int(merged.superseded),
        **sources_metadata(merged.sources),
        **report.sources.as_metadata(),
    }


def _landed_metadata(landed: LandedDay) -> dict[str, dict[str, Any]]:
    """Each landed table's metadata: rows, bytes, path, preview; money totals for orders."""
    tables = {**landed.day.tables, "quarantine": landed.day.quarantine}
    found = {}
    for written in landed.written:
        metadata = partition_metadata(written, tables[written.table])
        if written.table == "orders":
            metadata.update(orders_metadata(tables["orders"], tables["payments"]))
        found[written.table] = metadata
    return found
