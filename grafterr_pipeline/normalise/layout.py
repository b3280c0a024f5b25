"""The keys a staged line may hold, and what the fast path's SQL derives from them.

A staged line is ``{"source", "event_kind", "occurred_at", "order"}`` with the order as the
contract describes it. From this one tree come:

* :func:`canonical_pattern`, a regular expression only a line in the canonical layout matches
  (compact, keys in the contract's order, no escapes, each value of a form the Python reader
  accepts), and :func:`varchar_spec`, the structure such a line is read into as text;
* :func:`transform_spec`, the structure ``json_transform_strict`` reads any other line into.
  Every value is kept as its JSON text, so the SQL sees whether it was a string, a number or
  anything else, as the Python reader does, and money keeps its decimal digits;
* :func:`object_size`, the size such a line has as compact JSON holding only these keys. The
  strict reader refuses a line that lacks a key, repeats one or has an object where a list
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
    "canonical_pattern",
    "object_size",
    "transform_spec",
    "value_size",
    "varchar_spec",
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


# The canonical layout, as merge_orders writes Grafterr's orders: compact, keys in the
# contract's order, no escapes. A line matching it needs none of the size and kind checks.
_TEXT = r'[^"\\\x00-\x1f]'
_LEAVES = {
    "text": rf'null|"{_TEXT}*"',
    # an id starts with a visible character; its length is checked in SQL
    # numbers as JSON writes them, without leading zeros (the line goes to DuckDB's JSON
    # reader unguarded, which fails on them: the Python reader quarantines such a line)
    "id": rf'null|"[!#-\[\]-~]{_TEXT}*"|-?(?:0|[1-9][0-9]*)',
    "int": r"null|-?(?:0|[1-9][0-9]{0,17})",
    # a number with a fraction has at most 15 digits, so its float is exact
    "money": r'null|"-?[0-9]{1,16}(?:\.[0-9]{1,2})?"|-?(?:0|[1-9][0-9]{0,12})(?:\.[0-9]{1,2})?',
    "time": (
        r'null|"(?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]'
        r'(?:\.[0-9]{1,6})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"'
    ),
    # what the hash reads: empty, or visible ASCII without blanks at either end
    "email": r'null|""|"[!#-\[\]-~](?:[ !#-\[\]-~]*[!#-\[\]-~])?"',
}


def canonical_pattern() -> str:
    """A regular expression a staged line matches only in the canonical layout, with every
    value of the form the Python reader accepts (ranges and calendars are left to SQL)."""
    tree = {**LINE, "order": {**ORDER, "customer": {**CUSTOMER, "email": "email"}}}
    return _pattern(tree, top=True) + r"\n?"


def _pattern(node: Any, *, top: bool = False, optional: tuple[str, ...] = ()) -> str:
    if isinstance(node, str):
        return f"(?:{_LEAVES[node]})"
    if isinstance(node, list):
        element = _pattern(node[0])
        return rf"(?:null|\[(?:{element}(?:,{element})*)?\])"
    parts = []
    for n, (key, value) in enumerate(node.items()):
        inner = _pattern(value, optional=OPTIONAL if key == "order" else ())
        pair = f'"{key}":{inner}'
        parts.append(f"(?:,{pair})?" if key in optional else ("," if n else "") + pair)
    body = r"\{" + "".join(parts) + r"\}"
    return body if top else f"(?:null|{body})"


def varchar_spec(tree: Tree = LINE) -> str:
    """The ``json_transform`` structure of ``tree`` with every leaf read as text."""
    return json.dumps(_leaves_as(tree, "VARCHAR"))


def _leaves_as(node: Any, kind: str) -> Any:
    if isinstance(node, str):
        return kind
    if isinstance(node, list):
        return [_leaves_as(node[0], kind)]
    return {key: _leaves_as(value, kind) for key, value in node.items()}
