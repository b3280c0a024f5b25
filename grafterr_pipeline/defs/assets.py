"""The pipeline's assets, one per step, all partitioned by business date.

``raw_orders`` -> ``merged_orders`` -> the warehouse tables -> ``duckdb_views``. Every asset
stores its own output under the data root and reports counts as metadata, so the UI shows
what each partition held without opening a file.
"""

from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
    multi_asset,
)

from grafterr_pipeline.defs.metadata import orders_metadata, partition_metadata
from grafterr_pipeline.defs.partitions import partition_date
from grafterr_pipeline.defs.resources import GrafterrResource
from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
from grafterr_pipeline.steps import land_tables, merge_orders, pull_raw, warehouse_of

__all__ = ["API_POOL", "build_assets"]

# Assets that call Grafterr share this Dagster concurrency pool; dagster.yaml sets its limit.
API_POOL = "grafterr_api"
_OWNERS = ["team:data-platform"]

_TABLE_DESCRIPTIONS = {
    "orders": "One row per order of the business date, in its latest known version.",
    "order_items": "One row per order line (voided lines included, status 'voided').",
    "order_item_modifiers": "One row per modifier on an order line.",
    "payments": "One row per payment of an order: captured, refunded or failed.",
    "quarantine": "One row per order version that broke the contract, with its reason.",
}


def build_assets(partitions: PartitionsDefinition) -> list:
    """The assets, over ``partitions``."""

    @asset(
        partitions_def=partitions,
        group_name="ingest",
        owners=_OWNERS,
        kinds={"python", "api"},
        pool=API_POOL,
        tags={"layer": "ingest"},
    )
    def raw_orders(context: AssetExecutionContext, grafterr: GrafterrResource) -> MaterializeResult:
        """One line per API page of the business date's pull window, as Grafterr sent it,
        gzipped under `data/raw/`; its metadata holds the client's request, retry and 429
        counts."""
        settings = grafterr.settings()
        business_date = partition_date(context.partition_key)
        with grafterr.client() as client:
            summary = pull_raw(settings, client, business_date)
        start, end = summary.window
        return MaterializeResult(
            metadata={
                **{k: v for k, v in summary.stats.as_metadata().items()},
                "window_from": start.isoformat(),
                "window_to": end.isoformat(),
                "bytes": MetadataValue.int(summary.bytes),
                "path": MetadataValue.path(str(summary.path)),
            }
        )

    @asset(
        partitions_def=partitions,
        deps=[raw_orders],
        group_name="ingest",
        owners=_OWNERS,
        kinds={"python"},
        tags={"layer": "ingest"},
    )
    def merged_orders(
        context: AssetExecutionContext, grafterr: GrafterrResource
    ) -> MaterializeResult:
        """One row per `order_id` of the business date: its latest version from the raw pull
        and the webhook deltas, staged under `data/staging/`."""
        settings = grafterr.settings()
        merged = merge_orders(settings, partition_date(context.partition_key))
        return MaterializeResult(
            metadata={
                "orders": MetadataValue.int(len(merged.winners)),
                "unreadable": MetadataValue.int(len(merged.unreadable)),
                "duplicates_dropped": MetadataValue.int(merged.duplicates),
                **{f"known_from_{k}": MetadataValue.int(v) for k, v in merged.sources.items()},
            }
        )

    @multi_asset(
        partitions_def=partitions,
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
        landed = land_tables(grafterr.settings(), partition_date(context.partition_key))
        tables = {**landed.day.tables, "quarantine": landed.day.quarantine}
        for written in landed.written:
            metadata = partition_metadata(written, tables[written.table])
            if written.table == "orders":
                metadata.update(orders_metadata(tables["orders"], tables["payments"]))
            yield MaterializeResult(asset_key=AssetKey(written.table), metadata=metadata)

    @asset(
        partitions_def=partitions,
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
        result = warehouse.query(
            "SELECT count(*) FROM orders WHERE business_date = ?",
            [partition_date(context.partition_key)],
        )
        return MaterializeResult(
            metadata={
                "database": MetadataValue.path(str(warehouse.database)),
                "views_refreshed": changed,
                "orders_visible": MetadataValue.int(result.rows[0][0]),
            }
        )

    return [raw_orders, merged_orders, warehouse_tables, duckdb_views]
