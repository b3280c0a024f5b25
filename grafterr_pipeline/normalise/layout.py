"""The keys a staged line may hold, and what the fast path's SQL derives from them.

A staged line is ``{"source", "event_kind", "occurred_at", "order"}`` with the order as the
contract describes it. From this one tree come:

* the structure ``json_transform_strict`` reads a line into (:func:`transform_spec`). Every value
  is kept as its JSON text, so the SQL sees whether it was a string, a number or anything else,
  as the Python reader does, and money keeps its decimal digits;
* the size the line has when it is compact JSON holding only these keys (:func:`size_sql`).
  The strict reader refuses a line that lacks a key, repeats one or has an object where a list
  belongs, but it ignores keys it does not know. A line exactly as long as its known keys and
  values need, with no escapes in it, has no other key and no blank between tokens, so nothing
  the Python reader would keep in ``extra_json`` is lost (see ``fastsql.py`` for the argument).

Leaves are named by how the Python reader reads them (``values.py``): ``text``, ``id``, ``int``,
``money`` and ``time``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "CUSTOMER",
    "ITEM",
    "LINE",
    "MODIFIER",
    "OPTIONAL",
    "ORDER",
    "PAYMENT",
    "object_size",
    "transform_spec",
    "value_size",
]

Tree = dict[str, Any]

MODIFIER: Tree = {"modifier_id": "id", "name": "text", "quantity": "int", "unit_price": "money"}
ITEM: Tree = {
    "line_id": "id",
    "product_id": "id",
    "name": "text",
    "category": "text",
    "quantity": "int",
    "unit_price": "money",
    "discount": "money",
    "tax": "money",
    "line_total": "money",
    "status": "text",
    "modifiers": [MODIFIER],
}
PAYMENT: Tree = {
    "payment_id": "id",
    "method": "text",
    "amount": "money",
    "tip": "money",
    "status": "text",
    "paid_at": "time",
}
CUSTOMER: Tree = {"customer_id": "id", "name": "text", "email": "text", "phone": "text"}
_TOTALS = ("subtotal", "discount", "service_charge", "tax", "tip", "total")
ORDER: Tree = {
    "order_id": "id",
    "order_number": "int",
    "store": {"store_id": "id", "name": "text", "timezone": "text"},
    "channel": "text",
    "order_type": "text",
    "status": "text",
    "created_at": "time",
    "updated_at": "time",
    "currency": "text",
    "covers": "int",
    "table_number": "text",
    "customer": CUSTOMER,
    "totals": dict.fromkeys(_TOTALS, "money"),
    "items": [ITEM],
    "payments": [PAYMENT],
}
LINE: Tree = {"source": "text", "event_kind": "text", "occurred_at": "time", "order": ORDER}

# Keys the contract lets Grafterr leave out rather than send as null ("The order object").
OPTIONAL = ("customer", "covers", "table_number")


def transform_spec(tree: Tree = LINE) -> str:
    """The ``json_transform`` structure of ``tree``: objects, lists, and JSON text leaves."""
    return json.dumps(_json_leaves(tree))


def _json_leaves(node: Any) -> Any:
    if isinstance(node, str):
        return "JSON"
    if isinstance(node, list):
        return [_json_leaves(node[0])]
    return {key: _json_leaves(value) for key, value in node.items()}


def object_size(expr: str, tree: Tree, *, skip: tuple[str, ...] = ()) -> str:
    """SQL for the compact-JSON size of the object at ``expr`` (not null) with ``tree``'s keys.

    Lists count only their brackets and commas: their elements are sized in their own rows.
    Keys in ``skip`` are left out, for the caller to add when they are present.
    """
    keys = [key for key in tree if key not in skip]
    fixed = 2 + (len(keys) - 1) + sum(len(key) + 3 for key in keys)  # {} , "key":
    parts = [str(fixed), *(value_size(f"{expr}.{_quote(k)}", tree[k]) for k in keys)]
    return "(" + " + ".join(parts) + ")"


def value_size(expr: str, node: Any) -> str:
    """SQL for the compact-JSON size of the value at ``expr``, ``null`` included."""
    if isinstance(node, str):
        return f"coalesce(strlen({expr}), 4)"
    if isinstance(node, list):
        return f"coalesce(2 + greatest(len({expr}) - 1, 0), 4)"
    return f"CASE WHEN {expr} IS NULL THEN 4 ELSE {object_size(expr, node)} END"


def _quote(key: str) -> str:
    return '"' + key.replace('"', '""') + '"'
