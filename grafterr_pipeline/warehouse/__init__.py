"""The warehouse: raw pulls, Parquet partitions and the DuckDB views over them."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
from grafterr_pipeline.warehouse.duck import DATABASE_FILE, QueryResult, query, refresh_views
from grafterr_pipeline.warehouse.files import remove_leftovers
from grafterr_pipeline.warehouse.parquet import WrittenPartition, partition_path, write_partition
from grafterr_pipeline.warehouse.raw import read_raw_manifest, read_raw_orders, write_raw_pull

__all__ = [
    "QueryResult",
    "Warehouse",
    "WrittenPartition",
    "partition_path",
    "read_raw_manifest",
    "read_raw_orders",
    "write_raw_pull",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Warehouse:
    """The data root: ``raw/``, ``warehouse/`` and ``grafterr.duckdb`` beneath it."""

    root: Path

    @property
    def tables_dir(self) -> Path:
        """Where the Parquet tables live."""
        return self.root / "warehouse"

    @property
    def database(self) -> Path:
        """The DuckDB file analysts open."""
        return self.root / DATABASE_FILE

    def land(self, day: NormalisedDay) -> list[WrittenPartition]:
        """Replace every table's partition of ``day.business_date``, quarantine included."""
        # Only this date's folders: other dates may be mid-write in other runs right now.
        for name in WAREHOUSE_TABLES:
            remove_leftovers(self.partition(name, day.business_date).parent)
        data = {**day.tables, "quarantine": day.quarantine}
        written = [
            write_partition(self.tables_dir, name, day.business_date, data[name], schema=schema)
            for name, schema in WAREHOUSE_TABLES.items()
        ]
        logger.info(
            "%s: landed %s",
            day.business_date,
            ", ".join(f"{w.table}={w.rows}" for w in written),
        )
        return written

    def refresh_views(self) -> bool:
        """Create or update the DuckDB views; a no-op when nothing changed."""
        return refresh_views(self.database, self.tables_dir, WAREHOUSE_TABLES)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        """Run ``sql`` read-only against the views, binding ``params``."""
        return query(self.database, sql, params)

    def partition(self, table: str, business_date: dt.date) -> Path:
        """The Parquet file of ``table`` for ``business_date``."""
        return partition_path(self.tables_dir, table, business_date)
