"""One order, as the contract describes it, into rows of the four warehouse tables.

:func:`order_rows` either returns every row the order yields or raises
:class:`InvalidOrderError` with a reason, so a bad order is quarantined whole and the rest of the
day still loads. Fields the contract does not name are kept, as JSON text, in each table's
``extra_json`` column rather than dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.errors import InvalidOrderError
from grafterr_pipeline.normalise.values import (
    MAX_INT,
    MAX_INT32,
    dumps,
    read_id,
    read_int,
    read_money,
    read_text,
    read_timestamp,
)

__all__ = ["NormaliseOptions", "OrderRows", "order_rows"]

Row = dict[str, Any]

_ORDER_KEYS = frozenset(
    [
        "order_id",
        "order_number",
        "store",
        "channel",
        "order_type",
        "status",
        "created_at",
        "updated_at",
        "currency",
        "covers",
        "table_number",
        "customer",
        "totals",
        "items",
        "payments",
    ]
)
_STORE_KEYS = frozenset({"store_id", "name", "timezone"})
_CUSTOMER_KEYS = frozenset({"customer_id", "name", "email", "phone"})
_TOTAL_KEYS = ("subtotal", "discount", "service_charge", "tax", "tip", "total")
_LINE_KEYS = frozenset(
    [
        "line_id",
        "product_id",
        "name",
        "category",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "line_total",
        "status",
        "modifiers",
    ]
)
_MODIFIER_KEYS = frozenset({"modifier_id", "name", "quantity", "unit_price"})
_PAYMENT_KEYS = frozenset({"payment_id", "method", "amount", "tip", "status", "paid_at"})


@dataclass(frozen=True)
class NormaliseOptions:
    """How orders are normalised: the business-day cut-off and the privacy policy.

    ``pii`` is ``"hash"`` (keep ``customer_id`` and a salted SHA-256 of the lower-cased email),
    ``"keep"`` (name, email and phone too) or ``"drop"`` (only ``customer_id``).
    """

    cutoff: dt.time = dt.time(4, 0)
    pii: str = "hash"
    pii_salt: str = ""

    def __repr__(self) -> str:
        return f"NormaliseOptions(cutoff={self.cutoff}, pii={self.pii!r})"


@dataclass(frozen=True)
class OrderRows:
    """The rows one valid order yields, keyed by table name."""

    order_id: str
    business_date: dt.date
    updated_at: dt.datetime
    tables: dict[str, list[Row]]


def _object(value: object, field: str, *, required: bool = True) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidOrderError(f"{field}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidOrderError(f"{field}: expected a list, got {type(value).__name__}")
    return value


def _extra(obj: Mapping[str, Any], known: frozenset[str]) -> str | None:
    extra = {key: value for key, value in obj.items() if key not in known}
    return dumps(extra) if extra else None


def _business_date(created_at: dt.datetime, tz_name: str, cutoff: dt.time) -> dt.date:
    try:
        return business_date_of(created_at, tz_name, cutoff)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidOrderError(f"store.timezone: {tz_name!r} is not an IANA time zone") from err


def order_rows(order: object, *, source: str, options: NormaliseOptions) -> OrderRows:
    """Validate one order and return its rows; raises :class:`InvalidOrderError`."""
    order = _object(order, "order")
    order_id = read_id(order.get("order_id"), "order_id")
    try:
        return _order_rows(order, order_id, source, options)
    except InvalidOrderError as err:
        raise InvalidOrderError(err.reason, order_id=order_id) from err


def _order_rows(
    order: Mapping[str, Any], order_id: str, source: str, options: NormaliseOptions
) -> OrderRows:
    store = _object(order.get("store"), "store")
    store_id = read_id(store.get("store_id"), "store.store_id")
    tz_name = read_text(store.get("timezone"), "store.timezone") or ""
    created_at = read_timestamp(order.get("created_at"), "created_at")
    updated_at = read_timestamp(order.get("updated_at"), "updated_at")
    business_date = _business_date(created_at, tz_name, options.cutoff)
    key = {"order_id": order_id, "business_date": business_date}
    parent = {**key, "store_id": store_id, "created_at": created_at}

    items, modifiers = _line_rows(_list(order.get("items"), "items"), parent)
    payments = [
        _payment_row(p, f"payments[{i}]", parent)
        for i, p in enumerate(_list(order.get("payments"), "payments"))
    ]
    _unique([p["payment_id"] for p in payments], "payments.payment_id")
    head = {
        **key,
        "order_number": read_int(order.get("order_number"), "order_number", minimum=None),
        "store_id": store_id,
        "store_name": read_text(store.get("name"), "store.name"),
        "store_timezone": tz_name,
        "channel": read_text(order.get("channel"), "channel"),
        "order_type": read_text(order.get("order_type"), "order_type"),
        "status": read_text(order.get("status"), "status"),
        "created_at": created_at,
        "updated_at": updated_at,
        "currency": read_text(order.get("currency"), "currency"),
        "covers": read_int(order.get("covers"), "covers", maximum=MAX_INT32),
        "table_number": read_text(order.get("table_number"), "table_number"),
        **_customer(order.get("customer"), options),
        **_totals(_object(order.get("totals"), "totals", required=False)),
        "line_count": len(items),
        "item_count": _item_count(items),
        "payment_count": len(payments),
        "source": source,
        "extra_json": _order_extra(order, store),
    }
    tables = {
        "orders": [head],
        "order_items": items,
        "order_item_modifiers": modifiers,
        "payments": payments,
    }
    return OrderRows(order_id, business_date, updated_at, tables)


def _order_extra(order: Mapping[str, Any], store: Mapping[str, Any]) -> str | None:
    extra = {key: value for key, value in order.items() if key not in _ORDER_KEYS}
    store_extra = {key: value for key, value in store.items() if key not in _STORE_KEYS}
    customer = order.get("customer")
    if isinstance(customer, Mapping):
        customer_extra = {k: v for k, v in customer.items() if k not in _CUSTOMER_KEYS}
        if customer_extra:
            extra["customer"] = customer_extra
    totals = order.get("totals")
    if isinstance(totals, Mapping):
        totals_extra = {k: v for k, v in totals.items() if k not in _TOTAL_KEYS}
        if totals_extra:
            extra["totals"] = totals_extra
    if store_extra:
        extra["store"] = store_extra
    return dumps(extra) if extra else None


def _item_count(items: list[Row]) -> int:
    count = sum(i["quantity"] for i in items if i["status"] != "voided")
    if count > MAX_INT:
        raise InvalidOrderError(f"items: quantities add up to {count}, more than {MAX_INT}")
    return count


def _unique(ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise InvalidOrderError(f"{field}: {value!r} appears more than once")
        seen.add(value)


def _customer(value: object, options: NormaliseOptions) -> Row:
    customer = _object(value, "customer", required=False)
    email = read_text(customer.get("email"), "customer.email")
    keep = options.pii == "keep"
    return {
        "customer_id": read_id(customer.get("customer_id"), "customer.customer_id", required=False),
        "customer_email_sha256": _email_hash(email, options),
        "customer_name": read_text(customer.get("name"), "customer.name") if keep else None,
        "customer_email": email if keep else None,
        "customer_phone": read_text(customer.get("phone"), "customer.phone") if keep else None,
    }


def _email_hash(email: str | None, options: NormaliseOptions) -> str | None:
    if not email or options.pii == "drop":
        return None
    salted = (options.pii_salt + email.strip().lower()).encode("utf-8")
    return hashlib.sha256(salted).hexdigest()


def _totals(totals: Mapping[str, Any]) -> Row:
    return {key: read_money(totals.get(key), f"totals.{key}") for key in _TOTAL_KEYS}


def _line_rows(lines: list[Any], parent: Row) -> tuple[list[Row], list[Row]]:
    items: list[Row] = []
    modifiers: list[Row] = []
    for number, raw in enumerate(lines, start=1):
        field = f"items[{number - 1}]"
        line = _object(raw, field)
        line_id = read_id(line.get("line_id"), f"{field}.line_id")
        mods = _list(line.get("modifiers"), f"{field}.modifiers")
        for m_number, m_raw in enumerate(mods, start=1):
            modifiers.append(_modifier_row(m_raw, f"{field}.modifiers", parent, line_id, m_number))
        items.append(_item_row(line, field, parent, line_id, number, len(mods)))
    _unique([i["line_id"] for i in items], "items.line_id")
    return items, modifiers


def _item_row(
    line: Mapping[str, Any], field: str, parent: Row, line_id: str, number: int, n_mods: int
) -> Row:
    return {
        **parent,
        "line_id": line_id,
        "line_number": number,
        "product_id": read_id(line.get("product_id"), f"{field}.product_id", required=False),
        "name": read_text(line.get("name"), f"{field}.name"),
        "category": read_text(line.get("category"), f"{field}.category"),
        "quantity": read_int(line.get("quantity"), f"{field}.quantity", required=True),
        "unit_price": read_money(line.get("unit_price"), f"{field}.unit_price"),
        "discount": read_money(line.get("discount"), f"{field}.discount"),
        "tax": read_money(line.get("tax"), f"{field}.tax"),
        "line_total": read_money(line.get("line_total"), f"{field}.line_total"),
        "status": read_text(line.get("status"), f"{field}.status"),
        "modifier_count": n_mods,
        "extra_json": _extra(line, _LINE_KEYS),
    }


def _modifier_row(raw: object, field: str, parent: Row, line_id: str, number: int) -> Row:
    modifier = _object(raw, field)
    quantity = read_int(modifier.get("quantity"), f"{field}.quantity", minimum=0)
    return {
        **parent,
        "line_id": line_id,
        "modifier_number": number,
        "modifier_id": read_id(modifier.get("modifier_id"), f"{field}.modifier_id", required=False),
        "name": read_text(modifier.get("name"), f"{field}.name"),
        "quantity": 1 if quantity is None else quantity,
        "unit_price": read_money(modifier.get("unit_price"), f"{field}.unit_price"),
        "extra_json": _extra(modifier, _MODIFIER_KEYS),
    }


def _payment_row(raw: object, field: str, parent: Row) -> Row:
    payment = _object(raw, field)
    return {
        **parent,
        "payment_id": read_id(payment.get("payment_id"), f"{field}.payment_id"),
        "method": read_text(payment.get("method"), f"{field}.method"),
        "amount": read_money(payment.get("amount"), f"{field}.amount"),
        "tip": read_money(payment.get("tip"), f"{field}.tip"),
        "status": read_text(payment.get("status"), f"{field}.status"),
        "paid_at": read_timestamp(payment.get("paid_at"), f"{field}.paid_at", required=False),
        "extra_json": _extra(payment, _PAYMENT_KEYS),
    }
