"""Deterministic orders for one store and one trading day, as a list of versioned histories.

Everything is drawn from a :class:`random.Random` seeded with the sandbox seed, the store and
the trading date, so any day can be generated on its own, in any order, and always comes out
the same. The numbers obey :mod:`grafterr_pipeline.sandbox.money`.

A trading day starts at the store's opening time on its date and may run past midnight and past
the business-day cut-off. Each order is created at a random instant inside it (busier around
lunch and dinner) and then lives through up to three versions:

1. created: ``open`` for a POS table or counter order, else already ``completed`` and paid;
2. completed and paid (POS orders only), or ``cancelled`` for an abandoned table;
3. sometimes, hours to days later, ``refunded``, ``partially_refunded`` or ``cancelled``.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from functools import lru_cache
from typing import Any

from grafterr_pipeline.businessdate import zone
from grafterr_pipeline.sandbox import people
from grafterr_pipeline.sandbox.catalogue import MENU, Store, price_in
from grafterr_pipeline.sandbox.draws import Weighted
from grafterr_pipeline.sandbox.history import OrderHistory, Version, order_id_for, stamp
from grafterr_pipeline.sandbox.money import (
    ZERO,
    line_total,
    money,
    order_total,
    percent_of,
    tax_included,
)
from grafterr_pipeline.sandbox.payments import Settlement, later_change, settle

__all__ = ["CHANNELS", "generate_day"]

CHANNELS = ("pos", "web", "selfkiosk")
_ORDER_TYPES = {
    "pos": Weighted(("dine_in", "takeaway"), (0.7, 0.3)),
    "web": Weighted(("delivery", "collection"), (0.6, 0.4)),
    "selfkiosk": Weighted(("dine_in", "takeaway"), (0.5, 0.5)),
}
# Monday first; a week averages 1.0 so ``scale`` is the mean orders per store per day.
_WEEKDAY_FACTOR = (0.85, 0.85, 0.9, 1.0, 1.25, 1.35, 0.8)
_PEAKS = (dt.time(12, 45), dt.time(19, 30))
_LINE_COUNTS = Weighted((1, 2, 3, 4, 5, 6), (20, 30, 22, 15, 8, 5))
_QUANTITIES = Weighted((1, 2, 3), (80, 15, 5))

Json = dict[str, Any]


def generate_day(seed: int, scale: int, store: Store, trading_date: dt.date) -> list[OrderHistory]:
    """Return every order ``store`` takes on ``trading_date``, in creation order."""
    rng = random.Random(f"{seed}|{store.store_id}|{trading_date.isoformat()}")
    count = _order_count(rng, scale, trading_date)
    instants = sorted(_creation_instant(rng, store, trading_date) for _ in range(count))
    return [
        _order(rng, store, trading_date, seq, created)
        for seq, created in enumerate(instants, start=1)
    ]


@lru_cache(maxsize=64)
def _channels(store: Store) -> Weighted[str]:
    return Weighted(CHANNELS, store.channels)


def _order_count(rng: random.Random, scale: int, trading_date: dt.date) -> int:
    factor = _WEEKDAY_FACTOR[trading_date.weekday()] * rng.uniform(0.85, 1.15)
    return max(1, round(scale * factor))


def _creation_instant(rng: random.Random, store: Store, trading_date: dt.date) -> dt.datetime:
    """Draw an instant inside the trading day, busiest around the lunch and dinner peaks."""
    tz = zone(store.timezone)
    opens = dt.datetime.combine(trading_date, store.opens)
    closes = opens + dt.timedelta(hours=store.trading_hours)
    # Converting both wall-clock ends to UTC makes a day the clocks change one hour shorter or
    # longer, as it is on the till.
    start = opens.replace(tzinfo=tz).astimezone(dt.UTC)
    span = (closes.replace(tzinfo=tz).astimezone(dt.UTC) - start).total_seconds()
    fraction = rng.random()
    if rng.random() < 0.45:
        peak = dt.datetime.combine(trading_date, rng.choice(_PEAKS))
        peaked = ((peak - opens).total_seconds() + rng.gauss(0, 4000)) / span
        fraction = peaked if 0 <= peaked < 1 else fraction
    instant = start + dt.timedelta(seconds=fraction * span)
    return _truncate(instant, milliseconds=rng.random() < 0.3)


def _truncate(instant: dt.datetime, *, milliseconds: bool) -> dt.datetime:
    micros = instant.microsecond // 1000 * 1000 if milliseconds else 0
    return instant.replace(microsecond=micros)


def _order(
    rng: random.Random, store: Store, trading_date: dt.date, seq: int, created: dt.datetime
) -> OrderHistory:
    channel = _channels(store).pick(rng)
    order_type = _ORDER_TYPES[channel].pick(rng)
    order_id = order_id_for(store.store_id, trading_date, seq)
    if channel == "web" and not created.microsecond:
        created = created.replace(microsecond=rng.randrange(1, 1000) * 1000)
    base = _base(rng, store, trading_date, seq, order_id, channel, order_type, created)
    lines = _lines(rng, store, order_id, channel)
    versions = _versions(rng, store, base, lines, created)
    return OrderHistory(order_id, store.store_id, channel, created, tuple(versions))


def _base(
    rng: random.Random,
    store: Store,
    trading_date: dt.date,
    seq: int,
    order_id: str,
    channel: str,
    order_type: str,
    created: dt.datetime,
) -> Json:
    """Return the fields that never change between versions, in the contract's order."""
    base: Json = {
        "order_id": order_id,
        "order_number": (trading_date.toordinal() - 730_000) * 10_000 + seq,
        "store": store.as_json(),
        "channel": channel,
        "order_type": order_type,
        "status": "open",
        "created_at": stamp(store, created),
        "updated_at": stamp(store, created),
        "currency": store.currency,
        "covers": None,
        "table_number": None,
    }
    seated = order_type == "dine_in"
    if seated and channel == "pos":
        base["covers"] = rng.randint(1, 6) if rng.random() < 0.9 else None
        base["table_number"] = str(rng.randint(1, 40)) if rng.random() < 0.9 else None
    elif seated and rng.random() < 0.5:
        base["table_number"] = f"K{rng.randint(1, 25)}"
    people.attach_customer(rng, base, store, channel)
    return base


def _lines(rng: random.Random, store: Store, order_id: str, channel: str) -> list[Json]:
    count = _LINE_COUNTS.pick(rng)
    lines = [_line(rng, store, f"{order_id}_{n}", channel) for n in range(1, count + 1)]
    if all(line["status"] == "voided" for line in lines):
        lines[0]["status"] = "active"
    return lines


def _line(rng: random.Random, store: Store, line_ref: str, channel: str) -> Json:
    product = rng.choice(MENU)
    quantity = _QUANTITIES.pick(rng)
    unit_price = price_in(product.price, store.currency)
    modifiers = _modifiers(rng, store, product.modifiers, line_ref)
    priced = [(m["quantity"], Decimal(m["unit_price"])) for m in modifiers]
    gross = line_total(quantity, unit_price, priced, ZERO)
    discount = _line_discount(rng, quantity, unit_price, gross)
    total = gross - discount  # line_total(quantity, unit_price, priced, discount), exactly
    voided = channel == "pos" and rng.random() < 0.06
    return {
        "line_id": f"lin{line_ref.removeprefix('ord')}",
        "product_id": product.product_id,
        "name": product.name,
        "category": product.category,
        "quantity": quantity,
        "unit_price": str(unit_price),
        "discount": str(discount),
        "tax": str(tax_included(total, store.vat_rate)),
        "line_total": str(total),
        "status": "voided" if voided else "active",
        "modifiers": modifiers,
    }


def _modifiers(rng: random.Random, store: Store, options: tuple, line_ref: str) -> list[Json]:
    if not options or rng.random() > 0.35:
        return []
    chosen = rng.sample(options, k=min(len(options), rng.choice((1, 1, 2))))
    return [
        {
            "modifier_id": option.modifier_id,
            "name": option.name,
            "quantity": 2 if rng.random() < 0.1 else 1,
            "unit_price": str(price_in(option.price, store.currency)),
        }
        for option in chosen
    ]


def _line_discount(
    rng: random.Random, quantity: int, unit_price: Decimal, gross: Decimal
) -> Decimal:
    draw = rng.random()
    if draw < 0.03 and quantity >= 2:
        return unit_price  # two for one: the second unit's base price comes off
    if draw < 0.07:
        return percent_of(gross, rng.choice((Decimal("0.10"), Decimal("0.20"))))
    return ZERO


def _versions(
    rng: random.Random, store: Store, base: Json, lines: list[Json], created: dt.datetime
) -> list[Version]:
    subtotal = money(
        sum((Decimal(x["line_total"]) for x in lines if x["status"] == "active"), ZERO)
    )
    tax = money(sum((Decimal(x["tax"]) for x in lines if x["status"] == "active"), ZERO))
    discount = _order_discount(rng, store, subtotal)
    service = _service_charge(rng, store, base, subtotal - discount)
    tip = _tip(rng, store, base, subtotal - discount + service)
    totals = _totals(subtotal, discount, service, tax, ZERO)
    first = {**base, "totals": totals, "items": lines, "payments": []}
    plan = settle(rng, store, base, order_total(subtotal, discount, service, tip), tip, created)
    return _lifecycle(rng, store, first, plan, (subtotal, discount, service, tax, tip))


def _lifecycle(
    rng: random.Random,
    store: Store,
    first: Json,
    plan: Settlement,
    money_parts: tuple[Decimal, Decimal, Decimal, Decimal, Decimal],
) -> list[Version]:
    created = plan.created
    if plan.completed_at == created:  # paid at the kiosk or online as it was placed
        first = {**first, "status": plan.status, "payments": plan.payments}
        first["totals"] = _totals(*money_parts)
    versions = [Version(created, first)]
    if plan.completed_at != created:
        tip = money_parts[4] if plan.status == "completed" else ZERO
        totals = _totals(*money_parts[:4], tip)
        second = _revise(store, first, plan.completed_at, plan.status, totals, plan.payments)
        versions.append(Version(plan.completed_at, second))
    change = later_change(rng, versions[-1].body, plan.completed_at)
    if change is not None:
        third = _revise(store, versions[-1].body, change.at, change.status, None, change.payments)
        versions.append(Version(change.at, third))
    return versions


def _revise(
    store: Store,
    body: Json,
    at: dt.datetime,
    status: str,
    totals: Json | None,
    payments: list[Json],
) -> Json:
    revised = {**body, "status": status, "updated_at": stamp(store, at), "payments": payments}
    if totals is not None:
        revised["totals"] = totals
    return revised


def _totals(
    subtotal: Decimal, discount: Decimal, service: Decimal, tax: Decimal, tip: Decimal
) -> Json:
    return {
        "subtotal": str(subtotal),
        "discount": str(discount),
        "service_charge": str(service),
        "tax": str(tax),
        "tip": str(tip),
        "total": str(order_total(subtotal, discount, service, tip)),
    }


def _order_discount(rng: random.Random, store: Store, subtotal: Decimal) -> Decimal:
    draw = rng.random()
    if draw < 0.06:
        return percent_of(subtotal, Decimal("0.10"))
    if draw < 0.09:
        return min(subtotal, price_in(Decimal("5.00"), store.currency))
    return ZERO


def _service_charge(
    rng: random.Random, store: Store, base: Json, after_discount: Decimal
) -> Decimal:
    table_service = base["channel"] == "pos" and base["order_type"] == "dine_in"
    if not table_service or not store.service_rate or rng.random() < 0.1:
        return ZERO
    return percent_of(after_discount, store.service_rate)


def _tip(rng: random.Random, store: Store, base: Json, bill: Decimal) -> Decimal:
    if base["order_type"] == "dine_in" and base["channel"] == "pos" and rng.random() < 0.3:
        return percent_of(bill, Decimal(rng.choice(("0.05", "0.10", "0.15"))))
    if base["order_type"] == "delivery" and rng.random() < 0.4:
        return price_in(Decimal(rng.choice(("1", "2", "3"))), store.currency)
    return ZERO
