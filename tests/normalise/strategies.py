"""Hypothesis strategies: orders within the contract, and orders broken in one known way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.factories import make_order

_CENTS = st.integers(min_value=0, max_value=10**9)
_ZONES = st.sampled_from(["Europe/London", "Europe/Paris", "Asia/Kolkata", "America/New_York"])


def _money(cents: int, *, as_number: bool) -> Any:
    amount = Decimal(cents).scaleb(-2)
    return amount if as_number else f"{amount:.2f}"


@st.composite
def money(draw: st.DrawFn) -> Any:
    """Money as the contract allows it: text with two decimals, or a JSON number."""
    return _money(draw(_CENTS), as_number=draw(st.booleans()))


@st.composite
def instants(draw: st.DrawFn) -> str:
    """An ISO-8601 timestamp with an offset, seconds or milliseconds, around the test day."""
    base = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    instant = base + dt.timedelta(seconds=draw(st.integers(-20 * 3600, 20 * 3600)))
    offset = dt.timezone(dt.timedelta(minutes=draw(st.sampled_from([0, 60, -300, 330]))))
    local = instant.astimezone(offset)
    if draw(st.booleans()):
        local = local.replace(microsecond=draw(st.integers(0, 999)) * 1000)
        return local.isoformat(timespec="milliseconds")
    return local.isoformat(timespec="seconds")


@st.composite
def lines(draw: st.DrawFn, number: int) -> dict[str, Any]:
    """One order line, with zero to two modifiers."""
    modifiers = [
        {
            "modifier_id": f"m_{k}",
            "name": draw(st.sampled_from(["Extra cream", "Oat milk", None])),
            "quantity": draw(st.integers(0, 3)),
            "unit_price": draw(money()),
        }
        for k in range(draw(st.integers(0, 2)))
    ]
    return {
        "line_id": f"l_{number}",
        "product_id": draw(st.sampled_from(["p_1", "p_2", 17])),
        "name": draw(st.sampled_from(["Crème brûlée", "Tea", "Piña colada"])),
        "category": "Food",
        "quantity": draw(st.integers(0, 5)),
        "unit_price": draw(money()),
        "discount": draw(money()),
        "tax": draw(money()),
        "line_total": draw(money()),
        "status": draw(st.sampled_from(["active", "voided"])),
        "modifiers": modifiers,
    }


@st.composite
def valid_orders(draw: st.DrawFn, order_id: str = "ord_1") -> dict[str, Any]:
    """An order inside the contract, with optional fields present, null or absent."""
    customer = draw(
        st.sampled_from(
            [
                None,
                {"customer_id": "c_1", "name": "Zoë", "email": "Zoe@Example.com", "phone": "1"},
                {"customer_id": "c_2", "name": None, "email": None, "phone": None},
            ]
        )
    )
    totals = {k: draw(money()) for k in ("subtotal", "discount", "service_charge", "tax", "tip")}
    order = make_order(
        order_id=order_id,
        store={"store_id": "st_1", "name": "Leeds", "timezone": draw(_ZONES)},
        created_at=draw(instants()),
        updated_at=draw(instants()),
        covers=draw(st.none() | st.integers(0, 12)),
        customer=customer,
        totals={**totals, "total": draw(money())},
        items=[draw(lines(n)) for n in range(draw(st.integers(0, 3)))],
        payments=[
            {
                "payment_id": f"pay_{n}",
                "method": "card",
                "amount": draw(money()),
                "tip": draw(money()),
                "status": draw(st.sampled_from(["captured", "refunded", "failed"])),
                "paid_at": draw(st.none() | instants()),
            }
            for n in range(draw(st.integers(0, 2)))
        ],
    )
    for key in ("covers", "table_number", "customer"):
        if order[key] is None and draw(st.booleans()):
            del order[key]
    return order


def _set_first_line(order: dict[str, Any], key: str, value: Any) -> None:
    if not order["items"]:
        order["items"] = [{"line_id": "l_0", "quantity": 1}]
    order["items"][0][key] = value


# Each breaks the contract in one way, and names a word the reason must contain.
BREAKS: dict[str, tuple[Any, str]] = {
    "three-decimals-text": (lambda o: o["totals"].update(total="1.005"), "two decimals"),
    "three-decimals-number": (
        lambda o: o["totals"].update(total=Decimal("1.005")),
        "two decimals",
    ),
    "not-a-number": (lambda o: o["totals"].update(tax="twelve"), "not money"),
    "negative-quantity": (lambda o: _set_first_line(o, "quantity", -1), "below 0"),
    "naive-timestamp": (lambda o: o.update(created_at="2026-11-30T19:42:11"), "no UTC offset"),
    "duplicate-line-id": (
        lambda o: o.update(items=[{"line_id": "x", "quantity": 1}] * 2),
        "more than once",
    ),
    "missing-order-id": (lambda o: o.pop("order_id"), "order_id"),
    "text-quantity": (lambda o: _set_first_line(o, "quantity", "2"), "whole number"),
    "items-not-a-list": (lambda o: o.update(items="none"), "expected a list"),
}


@st.composite
def invalid_orders(draw: st.DrawFn, order_id: str = "ord_bad") -> tuple[dict[str, Any], str]:
    """An otherwise valid order broken in one of :data:`BREAKS`; returns it and the word."""
    order = draw(valid_orders(order_id))
    breaker, word = BREAKS[draw(st.sampled_from(sorted(BREAKS)))]
    breaker(order)
    return order, word
