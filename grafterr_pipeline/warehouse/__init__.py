"""The warehouse: raw pulls, Parquet partitions and the DuckDB views over them."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.normalise.schema import WAREHOUSE_TABLES
from grafterr_pipeline.warehouse import summary
from grafterr_pipeline.warehouse.duck import (
    DATABASE_FILE,
    WRITE_RETRY,
    QueryResult,
    Reader,
    RetryPolicy,
    query,
    refresh_views,
)
from grafterr_pipeline.warehouse.files import remove_leftovers
from grafterr_pipeline.warehouse.location import Location
from grafterr_pipeline.warehouse.parquet import (
    StagedPartition,
    WrittenPartition,
    commit_partition,
    partition_dir,
    partition_files,
    read_partition,
    stage_partition,
    write_partition,
)
from grafterr_pipeline.warehouse.raw import read_raw_manifest, read_raw_orders, write_raw_pull
from grafterr_pipeline.warehouse.swaplock import partition_lock, swap_lock

__all__ = [
    "Location",
    "QueryResult",
    "Reader",
    "RetryPolicy",
    "Warehouse",
    "WrittenPartition",
    "read_raw_manifest",
    "read_raw_orders",
    "write_raw_pull",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Warehouse:
    """The data root (``raw/``, ``staging/``, ``grafterr.duckdb``) and where the tables live.

    ``tables_uri`` defaults to ``<root>/warehouse``; it may be a ``file://`` URI or an object
    store (``s3://bucket/prefix``), see :mod:`grafterr_pipeline.warehouse.location`.
    """

    root: Path
    tables_uri: str | None = None

    @property
    def location(self) -> Location:
        """Where the Parquet tables live."""
        return Location.parse(self.tables_uri or self.root / "warehouse")

    @property
    def database(self) -> Path:
        """The DuckDB file analysts open."""
        return self.root / DATABASE_FILE

    def land(self, day: NormalisedDay) -> list[WrittenPartition]:
        """Replace every table's partition of ``day.business_date``, quarantine included.

        Locally every table is staged (written and fsynced) before any is swapped in, and the
        swaps run under the exclusive swap lock (:mod:`~grafterr_pipeline.warehouse.swaplock`),
        so a statement run through this package sees one version of the day in every table.
        The month's ``daily_sales`` summary is rebuilt from the staged files and swapped in
        under the same lock (:mod:`~grafterr_pipeline.warehouse.summary`).
        """
        location, date = self.location, day.business_date
        data = {**day.tables, "quarantine": day.quarantine}
        version = uuid.uuid4().hex
        if location.is_local:
            partition = f"business_date={date.isoformat()}"
            # Held from cleaning to swap: a second land of the date waits for this one instead
            # of deleting its staged folders as leftovers.
            with partition_lock(location.local_path, partition):
                remove_leftovers(location.local_path, live=partition)
                staged = [
                    stage_partition(
                        location, name, date, data[name], schema=schema, version=version
                    )
                    for name, schema in WAREHOUSE_TABLES.items()
                ]
                written = _commit_with_summary(location.local_path, date, staged)
        else:
            written = [
                write_partition(location, name, date, data[name], schema=schema, version=version)
                for name, schema in WAREHOUSE_TABLES.items()
            ]
        logger.info("%s: landed %s", date, ", ".join(f"{w.table}={w.rows}" for w in written))
        return written

    def refresh_summaries(self) -> int:
        """Rebuild the ``daily_sales`` months that are missing or stale; return how many.

        A month is stale when the partitions it was built from are not the live ones (a crash
        between a date's swap and its month's, or a warehouse landed before summaries).
        """
        location = self.location
        if not location.is_local or not location.local_path.is_dir():
            return 0
        tables_dir = location.local_path
        return summary.repair(tables_dir, swap_lock(tables_dir, exclusive=True))

    def remove_leftovers(self) -> int:
        """Undo what interrupted writes of any date or summary month left (local tables only).

        Leftovers of a date or month whose land or build is running are left to it.
        """
        location = self.location
        if not location.is_local:
            return 0
        tables_dir = location.local_path
        return remove_leftovers(tables_dir) + summary.remove_leftovers(tables_dir)

    def refresh_views(self, *, policy: RetryPolicy = WRITE_RETRY) -> bool:
        """Bring the ``daily_sales`` summary up to date, then create or update the DuckDB views
        (a no-op when their definitions did not change); return whether the views changed.

        The summary comes first, so a view switched to read it never misses a landed date.
        A month left stale by an unreadable partition does not hold the views back: they are
        refreshed, then the :class:`WarehouseError` naming the partition is raised.
        """
        try:
            self.refresh_summaries()
        except WarehouseError:
            refresh_views(self.database, self.location, WAREHOUSE_TABLES, policy=policy)
            raise
        return refresh_views(self.database, self.location, WAREHOUSE_TABLES, policy=policy)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> QueryResult:
        """Run ``sql`` read-only against the views, binding ``params``."""
        return query(self.database, sql, params, location=self.location)

    def reader(self) -> Reader:
        """A read-only session for several statements (the ``sql`` prompt)."""
        return Reader(self.database, self.location)

    def partition(self, table: str, business_date: dt.date) -> str:
        """The folder of ``table``'s partition for ``business_date``."""
        return partition_dir(self.location, table, business_date)

    def partition_files(self, table: str, business_date: dt.date) -> list[str]:
        """The Parquet files of ``table``'s partition for ``business_date``."""
        return partition_files(self.location, table, business_date)

    def read_partition(self, table: str, business_date: dt.date) -> pa.Table:
        """One partition, read back with pyarrow."""
        return read_partition(self.location, table, business_date)


def _commit_with_summary(
    tables_dir: Path, date: dt.date, staged: Sequence[StagedPartition]
) -> list[WrittenPartition]:
    """Swap a date's staged partitions in together with its month's rebuilt summary."""
    landing = {
        s.table: [Path(s.staged) / Path(f).name for f in s.files]
        for s in staged
        if s.table in summary.SOURCE_TABLES
    }
    with summary.build_lock(tables_dir):
        month = summary.stage_month(
            tables_dir, summary.month_of(date), landing={date.isoformat(): landing}
        )
        with swap_lock(tables_dir, exclusive=True):
            written = [commit_partition(s) for s in staged]
            if month is not None:
                summary.commit_month(month)
    return written
