"""The sandbox's orders: generated lazily per store and trading day, cached, and queried.

An :class:`OrderBook` is a pure function of ``(seed, scale)``: two books made with the same pair
hold the same orders, whatever was asked of them first. Time is a parameter of every query
(``clock``): an order exists once ``created_at <= clock`` and is seen in its latest version
with ``updated_at <= clock``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from grafterr_pipeline.sandbox.catalogue import STORES, STORES_BY_ID
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.generator import generate_day
from grafterr_pipeline.sandbox.history import (
    MAX_CHANGE_DELAY,
    OrderHistory,
    Version,
    parse_order_id,
)

__all__ = ["FIRST_TRADING_DATE", "DateField", "Listed", "OrderBook"]

logger = logging.getLogger(__name__)

DateField = Literal["created_at", "updated_at"]

# The group opened all its stores on this date; there are no orders before it.
FIRST_TRADING_DATE = dt.date(2024, 1, 1)

# A trading day starts at the earliest at local midnight (UTC-14 at the extreme) and its last
# order comes before 06:00 the next local morning (UTC+12 at the extreme): two days either side
# covers every zone.
_DAYS_AROUND = dt.timedelta(days=2)


@dataclass(frozen=True)
class Listed:
    """One order in a listing: its history and the version served for it."""

    history: OrderHistory
    version: Version

    def instant(self, date_field: DateField) -> dt.datetime:
        """Return the instant ``date_field`` names for this order."""
        if date_field == "created_at":
            return self.history.created_at
        return self.version.updated_at


class OrderBook:
    """Every order of one sandbox, generated on demand and kept once generated."""

    def __init__(self, seed: int, scale: int) -> None:
        self.seed = seed
        self.scale = scale
        self._days: dict[tuple[str, dt.date], list[OrderHistory]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: SandboxConfig) -> OrderBook:
        """Return the book ``config``'s seed and scale describe, shared within the process.

        Sharing is safe because a book is a pure function of ``(seed, scale)``, and it lets a
        test's server and its ground truth generate each day once.
        """
        return _shared_book(config.seed, config.scale)

    def day(self, store_id: str, trading_date: dt.date) -> list[OrderHistory]:
        """Return the orders ``store_id`` takes on ``trading_date`` (empty before opening)."""
        key = (store_id, trading_date)
        with self._lock:
            if key not in self._days:
                self._days[key] = self._generate(store_id, trading_date)
            return self._days[key]

    def _generate(self, store_id: str, trading_date: dt.date) -> list[OrderHistory]:
        if trading_date < FIRST_TRADING_DATE:
            return []
        orders = generate_day(self.seed, self.scale, STORES_BY_ID[store_id], trading_date)
        logger.debug("generated %d orders for %s on %s", len(orders), store_id, trading_date)
        return orders

    def histories(
        self, trading_dates: Iterable[dt.date], *, store_id: str | None = None
    ) -> Iterator[OrderHistory]:
        """Yield every order taken on ``trading_dates``, by all stores or by ``store_id``."""
        stores = [s.store_id for s in STORES if store_id in (None, s.store_id)]
        for trading_date in trading_dates:
            for store in stores:
                yield from self.day(store, trading_date)

    def history(self, order_id: str) -> OrderHistory | None:
        """Return the order with ``order_id``, whatever its state, or ``None`` if none has it."""
        parsed = parse_order_id(order_id)
        if parsed is None or parsed[0] not in STORES_BY_ID:
            return None
        for order in self.day(*parsed):
            if order.order_id == order_id:
                return order
        return None

    def find(self, order_id: str, clock: dt.datetime) -> Version | None:
        """Return the version of ``order_id`` served at ``clock``, or ``None`` if it is unknown."""
        order = self.history(order_id)
        return None if order is None else order.at(clock)

    def listing(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        clock: dt.datetime,
        date_field: DateField = "created_at",
        channel: str | None = None,
        store_id: str | None = None,
    ) -> list[Listed]:
        """Return the orders whose ``date_field`` falls in ``[start, end)`` as seen at ``clock``.

        Sorted as the API sorts: by that timestamp, then by ``order_id``.
        """
        found = []
        dates = trading_dates_for(start, min(end, clock), date_field)
        for order in self.histories(dates, store_id=store_id):
            version = order.at(clock)
            if version is None or channel not in (None, order.channel):
                continue
            listed = Listed(order, version)
            if start <= listed.instant(date_field) < end:
                found.append(listed)
        found.sort(key=lambda x: (x.instant(date_field), x.history.order_id))
        return found

    def versions_between(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[OrderHistory, int, Version]]:
        """Return every version with ``updated_at`` in ``[start, end)``, oldest first.

        Each comes with its order and its index (0 is the order's creation): the events a
        webhook sender announces for that stretch of time.
        """
        found = []
        for order in self.histories(trading_dates_for(start, end, "updated_at")):
            for index, version in enumerate(order.versions):
                if start <= version.updated_at < end:
                    found.append((order, index, version))
        found.sort(key=lambda x: (x[2].updated_at, x[0].order_id, x[1]))
        return found


@lru_cache(maxsize=8)
def _shared_book(seed: int, scale: int) -> OrderBook:
    return OrderBook(seed, scale)


def trading_dates_for(start: dt.datetime, end: dt.datetime, date_field: DateField) -> list[dt.date]:
    """Return the trading dates whose orders may have ``date_field`` inside ``[start, end)``."""
    first = (start - _DAYS_AROUND).date()
    if date_field == "updated_at":
        first -= dt.timedelta(days=MAX_CHANGE_DELAY.days + 1)
    last = (end + _DAYS_AROUND).date()
    first = max(first, FIRST_TRADING_DATE)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
