"""Materialisation metadata: numbers the Dagster UI can plot, and short previews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dagster import MetadataValue

from grafterr_pipeline.warehouse import WrittenPartition

__all__ = ["markdown_preview", "orders_metadata", "partition_metadata"]

_PREVIEW_ROWS = 5


def partition_metadata(written: WrittenPartition) -> dict[str, Any]:
    """Rows, bytes and path of one landed partition."""
    return {
        "rows": MetadataValue.int(written.rows),
        "bytes": MetadataValue.int(written.bytes),
        "path": MetadataValue.path(str(written.path)),
    }


def markdown_preview(table: pa.Table, *, columns: list[str] | None = None) -> MetadataValue:
    """The first rows of ``table`` as a Markdown table."""
    head = table.select(columns or table.column_names[:8]).slice(0, _PREVIEW_ROWS)
    names = head.column_names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in head.to_pylist():
        cells = [str(row[n]).replace("|", "\\|") if row[n] is not None else "" for n in names]
        lines.append("| " + " | ".join(cells) + " |")
    return MetadataValue.md("\n".join(lines))


def orders_metadata(orders: pa.Table) -> dict[str, Any]:
    """Orders per channel and net revenue of a day's ``orders`` table."""
    metadata: dict[str, Any] = {}
    channels = pc.value_counts(orders["channel"]).to_pylist() if orders.num_rows else []
    for entry in channels:
        metadata[f"orders_{entry['values'] or 'unknown'}"] = MetadataValue.int(entry["counts"])
    revenue_statuses = pa.array(["completed", "refunded", "partially_refunded"])
    kept = orders.filter(pc.is_in(orders["status"], revenue_statuses))
    revenue = pc.sum(kept["total"]).as_py() if kept.num_rows else Decimal("0")
    metadata["gross_revenue"] = MetadataValue.float(float(revenue or 0))
    metadata["preview"] = markdown_preview(
        orders, columns=["order_id", "store_id", "channel", "status", "created_at", "total"]
    )
    return metadata
