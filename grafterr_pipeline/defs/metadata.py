"""Materialisation metadata: numbers the Dagster UI can plot, and short previews."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dagster import MetadataValue

from grafterr_pipeline.warehouse import WrittenPartition

__all__ = ["markdown_preview", "orders_metadata", "partition_metadata"]

# The columns a person wants to see first in each table's preview.
PREVIEW_COLUMNS: dict[str, list[str]] = {
    "orders": ["order_id", "store_id", "channel", "status", "created_at", "total"],
    "order_items": ["order_id", "line_id", "name", "quantity", "line_total", "status"],
    "order_item_modifiers": ["order_id", "line_id", "name", "quantity", "unit_price"],
    "payments": ["order_id", "payment_id", "method", "amount", "status"],
    "quarantine": ["source", "order_id", "reason"],
}

_PREVIEW_ROWS = 5


def partition_metadata(written: WrittenPartition, table: pa.Table) -> dict[str, Any]:
    """Rows, bytes, path and a preview of one landed partition."""
    return {
        "rows": MetadataValue.int(written.rows),
        "bytes": MetadataValue.int(written.bytes),
        "path": MetadataValue.path(str(written.path)),
        "preview": markdown_preview(table, columns=PREVIEW_COLUMNS.get(written.table)),
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


def _money(table: pa.Table, column: str) -> Decimal:
    total = pc.sum(table[column]).as_py() if table.num_rows else None
    return total or Decimal("0")


def orders_metadata(orders: pa.Table, payments: pa.Table) -> dict[str, Any]:
    """Orders per channel, gross and net revenue of a day's ``orders`` and ``payments``.

    Revenue counts completed and refunded orders, as the ``daily_sales`` view does; net revenue
    is gross less the refunded payments of those orders.
    """
    metadata: dict[str, Any] = {}
    channels = pc.value_counts(orders["channel"]).to_pylist() if orders.num_rows else []
    for entry in channels:
        metadata[f"orders_{entry['values'] or 'unknown'}"] = MetadataValue.int(entry["counts"])
    revenue_statuses = pa.array(["completed", "refunded", "partially_refunded"])
    kept = orders.filter(pc.is_in(orders["status"], revenue_statuses))
    refunded = payments.filter(
        pc.and_(
            pc.equal(payments["status"], "refunded"),
            pc.is_in(payments["order_id"], kept["order_id"]),
        )
    )
    gross, refunds = _money(kept, "total"), _money(refunded, "amount")
    metadata["gross_revenue"] = MetadataValue.float(float(gross))
    metadata["net_revenue"] = MetadataValue.float(float(gross - refunds))
    return metadata
