"""Hive-partitioned Parquet: ``<root>/warehouse/<table>/business_date=YYYY-MM-DD/data.parquet``.

One file per partition per table, zstd-compressed, rows sorted by ``created_at``, replaced
atomically (see :mod:`grafterr_pipeline.warehouse.files`). An empty day is still written, as
a file with no rows and the table's full schema, so every partition reads with one schema.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from grafterr_pipeline.errors import WarehouseError
from grafterr_pipeline.warehouse.files import atomic_write

__all__ = [
    "PARTITION_FILE",
    "ROW_GROUP_SIZE",
    "WrittenPartition",
    "partition_path",
    "read_partition",
    "write_partition",
]

logger = logging.getLogger(__name__)

PARTITION_FILE = "data.parquet"
# A day of a large group is tens of thousands of lines: row groups of this size keep several
# groups per file, so min/max statistics on created_at let DuckDB skip most of a day.
ROW_GROUP_SIZE = 16_384


@dataclass(frozen=True)
class WrittenPartition:
    """Where a table's partition landed, and its size."""

    table: str
    path: Path
    rows: int
    bytes: int


def partition_path(warehouse: Path, table: str, business_date: dt.date) -> Path:
    """The Parquet file of ``table`` for ``business_date``."""
    return warehouse / table / f"business_date={business_date.isoformat()}" / PARTITION_FILE


def write_partition(
    warehouse: Path, table: str, business_date: dt.date, data: pa.Table, *, schema: pa.Schema
) -> WrittenPartition:
    """Replace ``table``'s partition for ``business_date`` with ``data``, atomically."""
    if not data.schema.equals(schema):
        raise WarehouseError(
            f"{table} for {business_date}: schema differs from the contract's; "
            f"got {data.schema}, expected {schema}"
        )
    final = partition_path(warehouse, table, business_date)

    def write(temp: Path) -> None:
        pq.write_table(
            data,
            temp,
            compression="zstd",
            row_group_size=ROW_GROUP_SIZE,
            write_statistics=True,
        )

    size = atomic_write(final, write)
    return WrittenPartition(table=table, path=final, rows=data.num_rows, bytes=size)


def read_partition(warehouse: Path, table: str, business_date: dt.date) -> pa.Table:
    """Read one partition back (used by checks and tests)."""
    return pq.read_table(partition_path(warehouse, table, business_date))
