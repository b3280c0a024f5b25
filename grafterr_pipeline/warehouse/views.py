"""The SQL surface analysts use: one view per table, and the analyst views built on them.

Table views read the Parquet partitions through a glob, so a partition swapped on disk is seen
by the next query without touching the database file. Each view carries a ``COMMENT``, and
each column one, from :mod:`grafterr_pipeline.warehouse.catalog`; ``docs/warehouse.md`` lists
the same text.

Revenue orders are those that finally brought money in: ``completed``, ``refunded`` or
``partially_refunded``. ``daily_sales`` counts as the sandbox's ground truth does
(``grafterr_pipeline.sandbox.truth``): open and cancelled orders count as orders and items but
add no revenue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from grafterr_pipeline.warehouse.catalog import COLUMNS, VIEW_COMMENTS

__all__ = [
    "ANALYST_VIEWS",
    "DAILY_SALES_SQL",
    "View",
    "analyst_views",
    "sql_literal",
    "summary_view",
    "table_view",
]


@dataclass(frozen=True)
class View:
    """A named view: its SELECT, the comment that documents it, and its columns' meaning."""

    name: str
    select: str
    comment: str
    columns: Mapping[str, str] = field(default_factory=dict)


def sql_literal(text: str) -> str:
    """Quote ``text`` as a SQL string literal.

    Only for what DuckDB cannot bind as a parameter (a view's body, ``COMMENT ON``), and only
    for text from settings or this package, never from the data.
    """
    return "'" + text.replace("'", "''") + "'"


def _read_parquet(glob: str) -> str:
    return (
        f"read_parquet({sql_literal(glob)}, hive_partitioning = true, "
        "hive_types = {'business_date': DATE})"
    )


_QUARANTINE = """
SELECT business_date, source, order_id,
       CASE WHEN json_valid(raw_json)
            THEN json_extract_string(raw_json, '$.store.store_id') END AS store_id,
       reason, quarantined_at, raw_json
FROM {source}
"""


def table_view(table: str, glob: str) -> View:
    """The view of ``table`` over the Parquet files matching ``glob``."""
    source = _read_parquet(glob)
    select = (
        _QUARANTINE.format(source=source) if table == "quarantine" else f"SELECT * FROM {source}"
    )
    return View(table, select, VIEW_COMMENTS[table], COLUMNS[table])


_REVENUE = "('completed', 'refunded', 'partially_refunded')"

# Refunds are joined on the whole key, store_id included, so a filter on a store or a date
# reaches the payments scan as well as the orders scan (and prunes its files).
DAILY_SALES_SQL = f"""
WITH refunds AS (
    SELECT business_date, store_id, order_id, sum(amount) AS refunded
    FROM payments WHERE status = 'refunded'
    GROUP BY business_date, store_id, order_id
),
classified AS (
    SELECT o.business_date, o.store_id, o.store_name, o.channel, o.currency, o.status,
           o.item_count, o.total, coalesce(r.refunded, 0) AS refunded,
           o.status IN {_REVENUE} AS is_revenue
    FROM orders AS o
    LEFT JOIN refunds AS r USING (business_date, store_id, order_id)
)
SELECT business_date, store_id, max(store_name) AS store_name, channel, currency,
       count(*) AS orders,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled_orders,
       count(*) FILTER (WHERE is_revenue) AS revenue_orders,
       coalesce(sum(item_count), 0) AS items,
       coalesce(sum(total) FILTER (WHERE is_revenue), 0)::DECIMAL(18, 2) AS gross_revenue,
       coalesce(sum(refunded) FILTER (WHERE is_revenue), 0)::DECIMAL(18, 2) AS refunds,
       coalesce(sum(total - refunded) FILTER (WHERE is_revenue), 0)::DECIMAL(18, 2)
           AS net_revenue,
       round(sum(total) FILTER (WHERE is_revenue)
             / nullif(count(*) FILTER (WHERE is_revenue), 0), 2)::DECIMAL(18, 2)
           AS average_order_value
FROM classified
GROUP BY business_date, store_id, channel, currency
"""

_PRODUCT_SALES = f"""
SELECT i.business_date, i.store_id, i.product_id, max(i.name) AS product_name,
       max(i.category) AS category, o.currency,
       count(DISTINCT i.order_id) AS orders,
       sum(i.quantity) AS quantity,
       coalesce(sum(i.line_total), 0)::DECIMAL(18, 2) AS revenue
FROM order_items AS i
JOIN orders AS o USING (business_date, store_id, order_id)
WHERE i.status IS DISTINCT FROM 'voided' AND o.status IN {_REVENUE}
GROUP BY i.business_date, i.store_id, i.product_id, o.currency
"""

_PAYMENTS_BY_METHOD = """
SELECT p.business_date, p.store_id, o.currency, p.method,
       count(*) FILTER (WHERE p.status = 'captured') AS captured_payments,
       coalesce(sum(p.amount) FILTER (WHERE p.status = 'captured'), 0)::DECIMAL(18, 2)
           AS captured,
       coalesce(sum(p.tip) FILTER (WHERE p.status = 'captured'), 0)::DECIMAL(18, 2) AS tips,
       count(*) FILTER (WHERE p.status = 'refunded') AS refund_payments,
       coalesce(sum(p.amount) FILTER (WHERE p.status = 'refunded'), 0)::DECIMAL(18, 2)
           AS refunded,
       count(*) FILTER (WHERE p.status = 'failed') AS failed_payments,
       (captured - refunded)::DECIMAL(18, 2) AS amount
FROM payments AS p
LEFT JOIN orders AS o USING (business_date, store_id, order_id)
GROUP BY p.business_date, p.store_id, o.currency, p.method
"""


def _analyst(name: str, select: str) -> View:
    return View(name, select, VIEW_COMMENTS[name], COLUMNS[name])


ANALYST_VIEWS: tuple[View, ...] = (
    _analyst("daily_sales", DAILY_SALES_SQL),
    _analyst("product_sales", _PRODUCT_SALES),
    _analyst("payments_by_method", _PAYMENTS_BY_METHOD),
)


def summary_view(glob: str) -> View:
    """``daily_sales`` read from its monthly summary files (see
    :mod:`grafterr_pipeline.warehouse.summary`): the same rows as :data:`DAILY_SALES_SQL`."""
    # Parquet has no 128-bit integer: sum(item_count) comes back as DECIMAL(38,0), cast back.
    select = (
        "SELECT * REPLACE (items::HUGEINT AS items) "
        f"FROM read_parquet({sql_literal(glob)}, hive_partitioning = false)"
    )
    return View("daily_sales", select, VIEW_COMMENTS["daily_sales"], COLUMNS["daily_sales"])


def analyst_views(summary_glob: str | None = None) -> tuple[View, ...]:
    """The analyst views over the table views, in creation order (``quarantine`` is a table
    view with the store added, see :func:`table_view`).

    With ``summary_glob`` (local tables), ``daily_sales`` reads the summary files it matches
    instead of aggregating ``orders`` and ``payments`` on every query.
    """
    if summary_glob is None:
        return ANALYST_VIEWS
    return tuple(
        summary_view(summary_glob) if v.name == "daily_sales" else v for v in ANALYST_VIEWS
    )
