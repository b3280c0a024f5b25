"""The SQL surface analysts use: one view per table, and the analyst views built on them.

Each view carries a ``COMMENT``; ``docs/warehouse.md`` lists their columns. Table views read the
Parquet partitions through a glob, so a partition replaced on disk is seen by the next query
without touching the database file.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ANALYST_VIEWS", "TABLE_COMMENTS", "View", "analyst_views", "table_view_sql"]


@dataclass(frozen=True)
class View:
    """A named view: its SELECT and the comment that documents it."""

    name: str
    select: str
    comment: str


TABLE_COMMENTS: dict[str, str] = {
    "orders": "One row per order (its latest version) by business date.",
    "order_items": "One row per order line; voided lines included with status 'voided'.",
    "order_item_modifiers": "One row per modifier on an order line.",
    "payments": "One row per payment of an order, captured, refunded or failed.",
    "quarantine": "One row per order version that broke the contract, with the reason.",
}


def _literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal (paths come from settings, not from SQL)."""
    return "'" + text.replace("'", "''") + "'"


def table_view_sql(glob: str) -> str:
    """The SELECT of a table view over the Parquet files matching ``glob``."""
    return (
        f"SELECT * FROM read_parquet({_literal(glob)}, hive_partitioning = true, "
        "hive_types = {'business_date': DATE})"
    )


# Revenue orders are those that finally brought money in: completed, refunded or partially
# refunded; open and cancelled orders count as orders but add no revenue.
_DAILY_SALES = """
WITH refunds AS (
    SELECT order_id, business_date, sum(amount) AS refunded
    FROM payments WHERE status = 'refunded' GROUP BY ALL
),
classified AS (
    SELECT o.*, o.status IN ('completed', 'refunded', 'partially_refunded') AS is_revenue,
           coalesce(r.refunded, 0) AS refunded
    FROM orders AS o LEFT JOIN refunds AS r USING (order_id, business_date)
)
SELECT business_date, store_id, channel, currency,
       count(*) AS orders,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled_orders,
       sum(item_count) AS items,
       coalesce(sum(total) FILTER (WHERE is_revenue), 0)::DECIMAL(18, 2) AS gross_revenue,
       coalesce(sum(refunded) FILTER (WHERE is_revenue), 0)::DECIMAL(18, 2) AS refunds,
       coalesce(sum(total - refunded) FILTER (WHERE is_revenue), 0)::DECIMAL(18, 2)
           AS net_revenue,
       round(sum(total) FILTER (WHERE is_revenue) / nullif(count(*) FILTER (WHERE is_revenue), 0),
             2)::DECIMAL(18, 2) AS average_order_value
FROM classified
GROUP BY ALL
"""

_PRODUCT_SALES = """
SELECT business_date, store_id, product_id, name AS product_name, category,
       sum(quantity) AS quantity, sum(line_total) AS revenue
FROM order_items WHERE status <> 'voided'
GROUP BY ALL
"""

_PAYMENTS_BY_METHOD = """
SELECT business_date, store_id, method, status, count(*) AS payments, sum(amount) AS amount
FROM payments
GROUP BY ALL
"""

ANALYST_VIEWS: tuple[View, ...] = (
    View(
        "daily_sales",
        _DAILY_SALES,
        "Per business date, store, channel and currency: orders (cancelled ones counted "
        "apart), items of active lines, gross revenue, refunds and net revenue of completed "
        "or refunded orders, and their average value.",
    ),
    View(
        "product_sales",
        _PRODUCT_SALES,
        "Per business date, store and product: quantity sold and revenue of non-voided lines.",
    ),
    View(
        "payments_by_method",
        _PAYMENTS_BY_METHOD,
        "Per business date, store, payment method and status: payments and amount.",
    ),
)


def analyst_views() -> tuple[View, ...]:
    """The analyst views, in creation order."""
    return ANALYST_VIEWS
