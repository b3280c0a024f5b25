"""How a sandbox order gets paid, and what happens to it afterwards.

Payments follow :mod:`grafterr_pipeline.sandbox.money`: captured amounts include their tips
and add up to the order's total; a failed attempt may come first; a POS table may split the bill;
a refund is a payment entry of its own with status ``refunded``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from grafterr_pipeline.sandbox.catalogue import STORES_BY_ID, Store
from grafterr_pipeline.sandbox.draws import Weighted
from grafterr_pipeline.sandbox.history import stamp
from grafterr_pipeline.sandbox.money import ZERO, money

__all__ = ["Change", "Settlement", "later_change", "settle"]

Json = dict[str, Any]

_POS_METHODS = Weighted(("card", "cash", "voucher", "gift_card"), (70, 20, 4, 6))


@dataclass(frozen=True)
class Settlement:
    """How an order ended its first trading day: the status, when, and the payments made."""

    created: dt.datetime
    completed_at: dt.datetime
    status: str
    payments: list[Json]


@dataclass(frozen=True)
class Change:
    """A later change to a completed order: the new status, when, and all its payments."""

    at: dt.datetime
    status: str
    payments: list[Json]


def settle(
    rng: random.Random, store: Store, base: Json, total: Decimal, tip: Decimal, created: dt.datetime
) -> Settlement:
    """Decide when and how an order is paid (or abandoned) after ``created``."""
    channel, order_type = base["channel"], base["order_type"]
    if channel != "pos":
        return Settlement(
            created, created, "completed", _pay(rng, store, base, total, tip, created)
        )
    minutes = rng.uniform(25, 110) if order_type == "dine_in" else rng.uniform(3, 15)
    if order_type == "dine_in" and rng.random() < 0.015:
        abandoned = _later(created, rng.uniform(2, 6) * 3600)
        return Settlement(created, abandoned, "cancelled", [])
    paid_at = _later(created, minutes * 60)
    return Settlement(created, paid_at, "completed", _pay(rng, store, base, total, tip, paid_at))


def _later(instant: dt.datetime, seconds: float) -> dt.datetime:
    return (instant + dt.timedelta(seconds=seconds)).replace(microsecond=instant.microsecond)


def _pay(
    rng: random.Random, store: Store, base: Json, total: Decimal, tip: Decimal, at: dt.datetime
) -> list[Json]:
    if total == ZERO:
        return []  # fully comped: nothing to pay
    method = _method(rng, base["channel"])
    payments = []
    if method in ("card", "online") and rng.random() < 0.05:
        declined = at - dt.timedelta(seconds=rng.randint(20, 90))
        payments.append(_payment(base, store, 1, method, total, ZERO, "failed", declined))
    if base["order_type"] == "dine_in" and base["channel"] == "pos" and rng.random() < 0.1:
        first = money((total - tip) / 2)
        payments.append(
            _payment(base, store, len(payments) + 1, "card", first, ZERO, "captured", at)
        )
        rest = _method(rng, "pos")
        payments.append(
            _payment(base, store, len(payments) + 1, rest, total - first, tip, "captured", at)
        )
        return payments
    payments.append(_payment(base, store, len(payments) + 1, method, total, tip, "captured", at))
    return payments


def _method(rng: random.Random, channel: str) -> str:
    if channel == "web":
        return "online"
    if channel == "selfkiosk":
        return "gift_card" if rng.random() < 0.1 else "card"
    return _POS_METHODS.pick(rng)


def _payment(
    base: Json,
    store: Store,
    number: int,
    method: str,
    amount: Decimal,
    tip: Decimal,
    status: str,
    at: dt.datetime,
) -> Json:
    return {
        "payment_id": f"pay{base['order_id'].removeprefix('ord')}_{number}",
        "method": method,
        "amount": str(money(amount)),
        "tip": str(tip),
        "status": status,
        "paid_at": stamp(store, at),
    }


def later_change(rng: random.Random, body: Json, after: dt.datetime) -> Change | None:
    """Maybe refund, partly refund or cancel a completed order hours to days after ``after``."""
    draw = rng.random()
    total = Decimal(body["totals"]["total"])
    captured = [p for p in body["payments"] if p["status"] == "captured"]
    if body["status"] != "completed" or draw >= 0.09 or not captured or total <= ZERO:
        return None
    at = (after + dt.timedelta(seconds=rng.uniform(3600, 4 * 86400))).replace(microsecond=0)
    status, amount = "refunded", total
    if draw < 0.02:
        status = "cancelled"
    elif draw < 0.06:
        status, amount = "partially_refunded", _partial_amount(rng, body, total)
    store = STORES_BY_ID[body["store"]["store_id"]]
    number = len(body["payments"]) + 1
    refund = _payment(body, store, number, captured[0]["method"], amount, ZERO, "refunded", at)
    if amount == total:
        status = "cancelled" if status == "cancelled" else "refunded"
    return Change(at, status, [*body["payments"], refund])


def _partial_amount(rng: random.Random, body: Json, total: Decimal) -> Decimal:
    """Refund one active line (a dish sent back), or half the bill if that is not less."""
    active = [Decimal(x["line_total"]) for x in body["items"] if x["status"] == "active"]
    amount = rng.choice(active)
    if not ZERO < amount < total:
        amount = money(total / 2)
    return amount if amount > ZERO else total
