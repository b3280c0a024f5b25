"""The winning orders, one row each with their lines and payments as lists, into four tables.

DuckDB hands the fast path one Arrow table of orders whose ``items`` and ``payments`` columns
are lists of rows (``items[].modifiers`` too). Flattening a list column and repeating the
parent's keys for each child (``list_flatten``, ``list_parent_indices``, ``take``) is cheaper
in Arrow than four unnesting queries with a join each in DuckDB.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["child_tables"]

# Each child table's columns, in the contract's order: a field of the child's own row, or
# ``^name``, a column of the order (for modifiers: ``^^name`` of the order, ``^name`` of the
# line), or ``None`` for a column the fast path leaves null (``extra_json``).
_ITEMS = [
    "^order_id", "^business_date", "line_id", "n", "^store_id", "^created_at", "product_id",
    "name", "category", "quantity", "unit_price", "discount", "tax", "line_total", "status",
    "modifier_count", None, "^_cand",
]  # fmt: skip
_MODIFIERS = [
    "^^order_id", "^^business_date", "^line_id", "k", "modifier_id", "^^created_at", "name",
    "quantity", "unit_price", None, "^^_cand",
]  # fmt: skip
_PAYMENTS = [
    "^order_id", "^business_date", "payment_id", "^store_id", "^created_at", "method",
    "amount", "tip", "status", "paid_at", None, "^_cand",
]  # fmt: skip

_PARENT_KEYS = sorted(
    {spec.lstrip("^") for spec in _ITEMS + _PAYMENTS + _MODIFIERS if spec and spec[0] == "^"}
    - {"line_id"}
)


def child_tables(orders: pa.Table, schemas: dict[str, pa.Schema]) -> dict[str, pa.Table]:
    """The child tables of ``orders`` (with ``items`` and ``payments`` list columns), with the
    names and types of ``schemas``."""
    items, item_order = _flatten(orders["items"].combine_chunks())
    modifiers, modifier_item = _flatten(items.field("modifiers"))
    payments, payment_order = _flatten(orders["payments"].combine_chunks())
    # Only the keys children repeat are taken: taking whole rows would copy their lists too.
    keys = orders.select(_PARENT_KEYS)
    modifier_levels = [
        keys.take(item_order.take(modifier_item)),
        pa.table({"line_id": items.field("line_id")}).take(modifier_item),
        modifiers,
    ]
    return {
        "order_items": _table(_ITEMS, [keys.take(item_order), items], schemas["order_items"]),
        "order_item_modifiers": _table(
            _MODIFIERS, modifier_levels, schemas["order_item_modifiers"]
        ),
        "payments": _table(_PAYMENTS, [keys.take(payment_order), payments], schemas["payments"]),
    }


def _flatten(lists: pa.ListArray) -> tuple[pa.StructArray, pa.Array]:
    """The elements of ``lists`` and, for each, the index of the row it came from."""
    return pc.list_flatten(lists), pc.list_parent_indices(lists)


def _table(columns: list[str | None], levels: list, schema: pa.Schema) -> pa.Table:
    """``columns`` taken from ``levels`` (the order, ..., the row's own element), per row."""
    rows = len(levels[-1])
    arrays = [
        _column(spec, levels, rows).cast(field.type)
        for spec, field in zip(columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _column(spec: str | None, levels: list, rows: int) -> pa.Array:
    if spec is None:
        return pa.nulls(rows, pa.string())
    up = len(spec) - len(spec.lstrip("^"))
    source = levels[-1 - up]
    name = spec[up:]
    if isinstance(source, pa.Table):
        return source[name].combine_chunks()
    return source.field(name)
