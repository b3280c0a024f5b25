"""Audits of a landed partition: quarantined orders, repeated order ids, broken arithmetic.

Each audit returns the offending orders with what is wrong, so an asset check can fail naming
them. The arithmetic is the sandbox's, as ``sandbox/money.py`` states it::

    line_total = quantity × (unit_price + Σ modifier.quantity × modifier.unit_price) − discount
    subtotal   = Σ line_total of the lines that are not voided
    total      = subtotal − discount + service_charge + tip
    Σ captured − Σ refunded payments = total        for a completed order

each within one penny, for rounding. Money that is null is not checked: the contract lets
optional fields be missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from grafterr_pipeline.warehouse.location import Location
from grafterr_pipeline.warehouse.parquet import partition_dir

__all__ = ["Finding", "arithmetic_breaks", "quarantined_orders", "repeated_order_ids"]

TOLERANCE = "0.01"


@dataclass(frozen=True)
class Finding:
    """One order that fails an audit, and why."""

    order_id: str | None
    problem: str


Tables = Location | Path | str


def _literal(path: str) -> str:
    """``path`` as a SQL string literal (a view's definition cannot take a parameter)."""
    return "'" + path.replace("'", "''") + "'"


def _partition(tables: Tables, table: str, business_date: dt.date) -> str:
    """A glob of the Parquet files of ``table``'s partition, wherever the tables live."""
    location = tables if isinstance(tables, Location) else Location.parse(tables)
    return f"{partition_dir(location, table, business_date)}/*.parquet"


def _query(sql: str, files: dict[str, str]) -> list[Finding]:
    with duckdb.connect() as con:
        for name, path in files.items():
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_literal(path)})")
        return [Finding(order_id, problem) for order_id, problem in con.execute(sql).fetchall()]


def quarantined_orders(warehouse: Tables, business_date: dt.date) -> list[Finding]:
    """The orders the partition's quarantine holds, with their reasons."""
    path = _partition(warehouse, "quarantine", business_date)
    sql = "SELECT order_id, reason FROM quarantine ORDER BY order_id NULLS FIRST, reason"
    return _query(sql, {"quarantine": path})


def repeated_order_ids(warehouse: Tables, business_date: dt.date) -> list[Finding]:
    """Order ids that appear more than once in the partition's ``orders``."""
    sql = (
        "SELECT order_id, 'appears ' || count(*) || ' times' FROM orders "
        "GROUP BY order_id HAVING count(*) > 1 ORDER BY order_id"
    )
    return _query(sql, {"orders": _partition(warehouse, "orders", business_date)})


_ARITHMETIC = f"""
WITH extras AS (
    SELECT order_id, line_id, sum(quantity * unit_price) AS extra
    FROM modifiers GROUP BY ALL
), lines AS (
    SELECT i.order_id, i.line_id, i.status, i.line_total,
           i.quantity * (i.unit_price + coalesce(e.extra, 0)) - i.discount AS expected
    FROM items AS i LEFT JOIN extras AS e USING (order_id, line_id)
), sums AS (
    SELECT order_id, coalesce(sum(line_total) FILTER (WHERE status IS DISTINCT FROM 'voided'), 0)
           AS lines_total
    FROM lines GROUP BY order_id
), paid AS (
    SELECT order_id,
           coalesce(sum(amount) FILTER (WHERE status = 'captured'), 0)
           - coalesce(sum(amount) FILTER (WHERE status = 'refunded'), 0) AS net
    FROM payments GROUP BY order_id
)
SELECT order_id, 'line ' || line_id || ': line_total ' || line_total || ' but quantity, prices '
       || 'and discount give ' || expected
FROM lines WHERE abs(line_total - expected) > {TOLERANCE}
UNION ALL
SELECT o.order_id, 'subtotal ' || o.subtotal || ' but its lines add up to '
       || coalesce(s.lines_total, 0)
FROM orders AS o LEFT JOIN sums AS s USING (order_id)
WHERE abs(o.subtotal - coalesce(s.lines_total, 0)) > {TOLERANCE}
UNION ALL
SELECT order_id, 'total ' || total || ' but subtotal - discount + service_charge + tip is '
       || (subtotal - discount + service_charge + tip)
FROM orders WHERE abs(total - (subtotal - discount + service_charge + tip)) > {TOLERANCE}
UNION ALL
SELECT o.order_id, 'completed with total ' || o.total || ' but captured - refunded payments '
       || 'come to ' || coalesce(p.net, 0)
FROM orders AS o LEFT JOIN paid AS p USING (order_id)
WHERE o.status = 'completed' AND abs(o.total - coalesce(p.net, 0)) > {TOLERANCE}
ORDER BY 1, 2
"""


def arithmetic_breaks(warehouse: Tables, business_date: dt.date) -> list[Finding]:
    """Orders whose lines, totals or payments break the sandbox's arithmetic by over 1p."""
    files = {
        view: _partition(warehouse, table, business_date)
        for view, table in (
            ("orders", "orders"),
            ("items", "order_items"),
            ("modifiers", "order_item_modifiers"),
            ("payments", "payments"),
        )
    }
    return _query(_ARITHMETIC, files)
