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
_ZERO = Decimal("0.00")  # money keeps two decimals, zero included


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


def _by_currency(table: pa.Table, key: str, column: str) -> dict[str, Decimal]:
    """The exact sum of ``column`` per value of ``key`` (``unknown`` for a missing key)."""
    sums: dict[str, Decimal] = {}
    for name, amount in zip(table[key].to_pylist(), table[column].to_pylist(), strict=True):
        group = name or "unknown"
        sums[group] = sums.get(group, _ZERO) + (amount or _ZERO)
    return sums


def orders_metadata(orders: pa.Table, payments: pa.Table) -> dict[str, Any]:
    """Orders per channel, and gross revenue, refunds and net revenue per currency.

    Revenue counts completed and refunded orders, as the ``daily_sales`` view does; refunds are
    the refunded payments of those orders, in the order's currency. Money is never added across
    currencies nor turned into a float: ``revenue`` is a table of exact decimals, and
    ``gross_revenue_<CUR>_hundredths`` / ``net_revenue_<CUR>_hundredths`` are whole hundredths
    of the currency unit (the warehouse keeps two decimals), exact and plottable per currency.
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
    gross = _by_currency(kept, "currency", "total")
    currency_of = dict(zip(kept["order_id"].to_pylist(), kept["currency"].to_pylist(), strict=True))
    # A refund is in its order's currency; only the two columns needed are kept, so the
    # appended one cannot clash with a column of the payments table.
    refunded = refunded.select(["order_id", "amount"])
    refunded = refunded.append_column(
        "currency",
        pa.array([currency_of[o] for o in refunded["order_id"].to_pylist()], pa.string()),
    )
    refunds = _by_currency(refunded, "currency", "amount")
    lines = ["| currency | gross | refunds | net |", "|---|---|---|---|"]
    for currency in sorted(gross):
        spent, back = gross[currency], refunds.get(currency, _ZERO)
        lines.append(f"| {currency} | {spent} | {back} | {spent - back} |")
        metadata[f"gross_revenue_{currency}_hundredths"] = MetadataValue.int(_hundredths(spent))
        metadata[f"net_revenue_{currency}_hundredths"] = MetadataValue.int(
            _hundredths(spent - back)
        )
    metadata["revenue"] = MetadataValue.md("\n".join(lines))
    return metadata


def _hundredths(amount: Decimal) -> int:
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return int(scaled)
