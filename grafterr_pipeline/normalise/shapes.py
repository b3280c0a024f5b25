"""Which JSON shapes the fast path may handle in SQL, and which go to the Python reference.

DuckDB's ``json_structure`` summarises a staged line as its keys and the JSON type of every
value, with array elements merged and incompatible types merged to ``"JSON"``. A day has few
distinct shapes, so each is judged once here: a shape is *plain* when every key is one the
contract names and every value has a type the SQL handles exactly as
:func:`grafterr_pipeline.normalise.orders.order_rows` does. Anything else (unknown fields,
numbers where text belongs, objects where a list belongs) is left to the Python reference,
which is slower but is the definition of right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ShapeVerdict", "judge_shape", "line_spec"]

_ID = frozenset({"VARCHAR", "UBIGINT", "BIGINT", "NULL"})
_INT = frozenset({"UBIGINT", "BIGINT", "NULL"})
_TEXT = frozenset({"VARCHAR", "NULL"})
# Money may come as a JSON number; DOUBLE marks a non-integral one, which DuckDB read through a
# float, so such lines are checked for numbers a float cannot hold exactly (see fast.py).
_MONEY = frozenset({"VARCHAR", "UBIGINT", "BIGINT", "DOUBLE", "NULL"})
_ANY = frozenset()  # read by nobody (personal data the privacy mode drops): any type passes

Spec = dict[str, Any]

_MODIFIER: Spec = {"modifier_id": _ID, "name": _TEXT, "quantity": _INT, "unit_price": _MONEY}
_LINE: Spec = {
    "line_id": _ID,
    "product_id": _ID,
    "name": _TEXT,
    "category": _TEXT,
    "quantity": _INT,
    "unit_price": _MONEY,
    "discount": _MONEY,
    "tax": _MONEY,
    "line_total": _MONEY,
    "status": _TEXT,
    "modifiers": [_MODIFIER],
}
_PAYMENT: Spec = {
    "payment_id": _ID,
    "method": _TEXT,
    "amount": _MONEY,
    "tip": _MONEY,
    "status": _TEXT,
    "paid_at": _TEXT,
}
_TOTALS: Spec = {k: _MONEY for k in ("subtotal", "discount", "service_charge", "tax", "tip")}


def _order(keep_pii: bool) -> Spec:
    personal = _TEXT if keep_pii else _ANY
    return {
        "order_id": _ID,
        "order_number": _INT,
        "store": {"store_id": _ID, "name": _TEXT, "timezone": _TEXT},
        "channel": _TEXT,
        "order_type": _TEXT,
        "status": _TEXT,
        "created_at": _TEXT,
        "updated_at": _TEXT,
        "currency": _TEXT,
        "covers": _INT,
        "table_number": _TEXT,
        "customer": {"customer_id": _ID, "name": personal, "email": _TEXT, "phone": personal},
        "totals": {**_TOTALS, "total": _MONEY},
        "items": [_LINE],
        "payments": [_PAYMENT],
    }


def _line(keep_pii: bool) -> Spec:
    return {"source": _TEXT, "event_kind": _TEXT, "occurred_at": _TEXT, "order": _order(keep_pii)}


@dataclass(frozen=True)
class ShapeVerdict:
    """``plain``: the SQL handles lines of this shape; ``floats``: some money is a JSON number
    with a fraction, so the line's text must be checked for digits a float cannot hold."""

    plain: bool
    floats: bool


def judge_shape(shape: str | None, *, keep_pii: bool) -> ShapeVerdict:
    """Judge one ``json_structure`` result; ``None`` (not JSON at all) is never plain."""
    if shape is None:
        return ShapeVerdict(plain=False, floats=False)
    found: list[bool] = []
    plain = _fits(json.loads(shape), _line(keep_pii), found, top=True)
    return ShapeVerdict(plain=plain, floats=any(found))


def _fits(shape: Any, spec: Any, floats: list[bool], *, top: bool = False) -> bool:
    if isinstance(spec, frozenset):
        if spec is _MONEY and shape == "DOUBLE":
            floats.append(True)
        return not spec or (isinstance(shape, str) and shape in spec)
    if isinstance(spec, list):
        # An empty list and a list of nulls both read ["NULL"]; the SQL tells them apart.
        if shape == "NULL" or shape == ["NULL"]:
            return True
        return isinstance(shape, list) and _fits(shape[0], spec[0], floats)
    if shape == "NULL" and not top:
        return True
    if not isinstance(shape, dict) or not set(shape) <= set(spec):
        return False
    return all(_fits(value, spec[key], floats) for key, value in shape.items())


def line_spec(*, keep_pii: bool = True) -> str:
    """The ``json_transform`` structure of a staged line: every value read as text."""
    return json.dumps(_as_varchar(_line(keep_pii)))


def _as_varchar(spec: Any) -> Any:
    if isinstance(spec, frozenset):
        return "VARCHAR"
    if isinstance(spec, list):
        return [_as_varchar(spec[0])]
    return {key: _as_varchar(value) for key, value in spec.items()}
