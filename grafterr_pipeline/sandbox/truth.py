"""Ground truth: what a correct pipeline must end with for one business date.

Tests of the pipeline compare their output with :func:`ground_truth` rather than with numbers
copied by hand. Definitions, per group of orders:

``orders``
    every order whose business date is the date (cancelled and open ones included);
``cancelled``
    how many of those are ``cancelled``;
``items``
    Σ ``quantity`` of the *active* lines of all those orders (voided lines excluded; the lines
    of cancelled orders included, as the ``order_items`` table holds them);
``gross``
    Σ ``totals.total`` of the *revenue orders*: status ``completed``, ``refunded`` or
    ``partially_refunded`` (so neither ``cancelled`` nor still ``open``);
``refunds``
    Σ ``amount`` of the payments with status ``refunded`` of the revenue orders;
``net``
    ``gross − refunds``: what the revenue orders finally brought in. By the sandbox's
    arithmetic it equals Σ captured − Σ refunded payments over those orders.

Money is summed as plain numbers; stores trade in different currencies (``per_currency`` splits
the day by currency), so ``day`` mixes them exactly as ``SUM(total)`` over all stores would.
The orders are the canonical bodies, without the liberties (money as numbers, extra fields)
a sandbox may take when serving them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.sandbox.money import ZERO

__all__ = ["REVENUE_STATUSES", "GroundTruth", "Tally", "ground_truth"]

REVENUE_STATUSES = frozenset({"completed", "refunded", "partially_refunded"})
DEFAULT_CUTOFF = dt.time(4, 0)

Order = Mapping[str, Any]


@dataclass(frozen=True)
class Tally:
    """Counts and money of a group of orders; see the module docstring for each field."""

    orders: int = 0
    cancelled: int = 0
    items: int = 0
    gross: Decimal = ZERO
    refunds: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """Revenue after refunds: ``gross − refunds``."""
        return self.gross - self.refunds

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.orders + other.orders,
            self.cancelled + other.cancelled,
            self.items + other.items,
            self.gross + other.gross,
            self.refunds + other.refunds,
        )


@dataclass(frozen=True)
class GroundTruth:
    """The final state of one business date, as seen at ``as_of``.

    ``orders`` maps order_id to the order as served at ``as_of``; ``per_store_channel`` maps
    ``(store_id, channel)`` to its :class:`Tally` (only pairs with orders appear);
    ``per_channel`` and ``per_currency`` group the same orders otherwise; ``day`` sums them
    all; ``rows`` counts the rows of the four warehouse tables (``orders``, ``order_items``,
    ``order_item_modifiers``, ``payments``) holding these orders.
    """

    business_date: dt.date
    cutoff: dt.time
    as_of: dt.datetime
    orders: Mapping[str, Order]
    per_store_channel: Mapping[tuple[str, str], Tally]
    per_channel: Mapping[str, Tally]
    per_currency: Mapping[str, Tally]
    day: Tally
    rows: Mapping[str, int]


def ground_truth(
    config: SandboxConfig,
    business_date: dt.date,
    *,
    cutoff: dt.time = DEFAULT_CUTOFF,
    as_of: dt.datetime | None = None,
) -> GroundTruth:
    """Return what a correct pipeline holds for ``business_date`` once it has read everything
    the sandbox ``config`` serves at ``as_of`` (default: the sandbox clock, ``config.now``).
    """
    as_of = as_of or config.clock()
    orders = dict(sorted(_orders_of(OrderBook.from_config(config), business_date, cutoff, as_of)))
    tallies = {key: _tally(group) for key, group in _group(orders.values(), _store_channel)}
    return GroundTruth(
        business_date=business_date,
        cutoff=cutoff,
        as_of=as_of,
        orders=MappingProxyType(orders),
        per_store_channel=MappingProxyType(dict(sorted(tallies.items()))),
        per_channel=_summed(orders.values(), lambda o: o["channel"]),
        per_currency=_summed(orders.values(), lambda o: o["currency"]),
        day=_tally(orders.values()),
        rows=MappingProxyType(_rows(orders.values())),
    )


def _orders_of(
    book: OrderBook, business_date: dt.date, cutoff: dt.time, as_of: dt.datetime
) -> Iterable[tuple[str, Order]]:
    # A trading day can spill into the next business date (late trade past the cut-off), and a
    # cut-off later than a store's opening pulls orders into the previous one.
    around = [business_date + dt.timedelta(days=n) for n in (-1, 0, 1)]
    for order in book.histories(around):
        version = order.at(as_of)
        if version is None:
            continue
        tz = version.body["store"]["timezone"]
        if business_date_of(order.created_at, tz, cutoff) == business_date:
            yield order.order_id, version.body


def _store_channel(order: Order) -> tuple[str, str]:
    return order["store"]["store_id"], order["channel"]


def _group(orders: Iterable[Order], key: Any) -> Iterable[tuple[Any, list[Order]]]:
    groups: dict[Any, list[Order]] = defaultdict(list)
    for order in orders:
        groups[key(order)].append(order)
    return groups.items()


def _summed(orders: Iterable[Order], key: Any) -> Mapping[str, Tally]:
    return MappingProxyType({k: _tally(group) for k, group in sorted(_group(orders, key))})


def _tally(orders: Iterable[Order]) -> Tally:
    tally = Tally()
    for order in orders:
        tally = tally + _one(order)
    return tally


def _one(order: Order) -> Tally:
    items = sum(line["quantity"] for line in order["items"] if line["status"] == "active")
    cancelled = order["status"] == "cancelled"
    if order["status"] not in REVENUE_STATUSES:
        return Tally(orders=1, cancelled=int(cancelled), items=items)
    refunds = sum(
        (Decimal(p["amount"]) for p in order["payments"] if p["status"] == "refunded"), ZERO
    )
    return Tally(1, 0, items, Decimal(order["totals"]["total"]), refunds)


def _rows(orders: Iterable[Order]) -> dict[str, int]:
    rows = {"orders": 0, "order_items": 0, "order_item_modifiers": 0, "payments": 0}
    for order in orders:
        rows["orders"] += 1
        rows["order_items"] += len(order["items"])
        rows["order_item_modifiers"] += sum(len(line["modifiers"]) for line in order["items"])
        rows["payments"] += len(order["payments"])
    return rows
