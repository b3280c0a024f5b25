"""The liberties the contract allows, taken on demand, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from grafterr_pipeline.sandbox import SandboxServer
from grafterr_pipeline.sandbox.liberties import MONEY_FIELDS
from tests.sandbox.conftest import SMALL
from tests.sandbox.helpers import Caller

DAY = {"from": "2026-11-27T00:00:00Z", "to": "2026-11-28T00:00:00Z", "page_size": 200}
Order = dict[str, Any]


def _served(**knobs: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return one listing page from a sandbox with ``knobs`` and from a plain one, exactly."""
    with SandboxServer(SMALL.with_changes(**knobs)) as odd, SandboxServer(SMALL) as plain:
        pages = [Caller(s).login().get("orders", **DAY).text for s in (odd, plain)]
    return tuple(json.loads(p, parse_float=Decimal) for p in pages)  # type: ignore[return-value]


def _money(order: Order) -> Iterator[Any]:
    yield from (order["totals"][k] for k in MONEY_FIELDS["totals"])
    for line in order["items"]:
        yield from (line[k] for k in MONEY_FIELDS["items"])
        yield from (m[k] for m in line["modifiers"] for k in MONEY_FIELDS["modifiers"])
    yield from (p[k] for p in order["payments"] for k in MONEY_FIELDS["payments"])


def test_money_as_numbers_sends_every_amount_as_an_exact_json_number() -> None:
    odd, plain = _served(money_as_numbers=1.0)

    numbers = [v for order in odd["data"] for v in _money(order)]
    strings = [v for order in plain["data"] for v in _money(order)]

    assert all(isinstance(v, int | Decimal) for v in numbers)
    assert [Decimal(v) for v in numbers] == [Decimal(s) for s in strings]
    assert any(isinstance(v, int) for v in numbers)


def _unknown(record: dict[str, Any], known: set[str]) -> bool:
    return bool(set(record) - known)


KNOWN = {
    "order": {"order_id", "order_number", "store", "channel", "order_type", "status", "created_at",
              "updated_at", "currency", "covers", "table_number", "customer", "totals", "items",
              "payments"},
    "store": {"store_id", "name", "timezone"},
    "customer": {"customer_id", "name", "email", "phone"},
    "totals": set(MONEY_FIELDS["totals"]),
    "items": {"line_id", "product_id", "name", "category", "quantity", "unit_price", "discount",
              "tax", "line_total", "status", "modifiers"},
    "modifiers": {"modifier_id", "name", "quantity", "unit_price"},
    "payments": {"payment_id", "method", "amount", "tip", "status", "paid_at"},
}  # fmt: skip


def _records(orders: list[Order], level: str) -> list[dict[str, Any]]:
    if level == "order":
        return orders
    if level in ("store", "customer", "totals"):
        return [o[level] for o in orders if isinstance(o.get(level), dict)]
    if level == "modifiers":
        return [m for o in orders for line in o["items"] for m in line["modifiers"]]
    return [r for o in orders for r in o[level]]


@pytest.fixture(scope="module")
def extra() -> dict[str, Any]:
    """A listing page from a sandbox that adds unknown fields to everything."""
    return _served(extra_fields=1.0)[0]


@pytest.mark.parametrize("level", list(KNOWN))
def test_extra_fields_appear_at_every_level_of_an_order(extra: dict[str, Any], level: str) -> None:
    records = _records(extra["data"], level)

    assert records
    assert all(_unknown(record, KNOWN[level]) for record in records)


def test_extra_fields_appear_in_the_envelope_and_its_meta(extra: dict[str, Any]) -> None:
    assert _unknown(extra, {"data", "meta"})
    assert _unknown(extra["meta"], {"page", "page_size", "total", "total_pages"})


def test_absent_optional_leaves_out_null_customer_covers_and_table_number() -> None:
    odd, plain = _served(absent_optional=1.0)

    nulls = [(o, k) for o in odd["data"] for k in ("customer", "covers", "table_number")
             if k in o and o[k] is None]  # fmt: skip
    missing = [o for o in odd["data"] if "covers" not in o]

    assert not nulls
    assert len(missing) == sum(o["covers"] is None for o in plain["data"]) > 0


def test_a_share_takes_the_liberty_with_some_orders_and_the_same_ones_each_time() -> None:
    with SandboxServer(SMALL.with_changes(money_as_numbers=0.5)) as server:
        caller = Caller(server).login()
        first, again = (caller.get("orders", **DAY).json()["data"] for _ in range(2))

    as_strings = [isinstance(o["totals"]["total"], str) for o in first]
    assert 0.2 < sum(as_strings) / len(as_strings) < 0.8
    assert first == again


def test_an_order_by_id_takes_the_same_liberties_as_in_the_listing() -> None:
    with SandboxServer(SMALL.with_changes(money_as_numbers=0.5, extra_fields=0.5)) as server:
        caller = Caller(server).login()
        listed = caller.get("orders", **DAY).json()["data"]

        fetched = [caller.get(f"orders/{o['order_id']}").json() for o in listed[:10]]

    assert fetched == listed[:10]
