"""An order's life in the sandbox: the versions it goes through, each as the API serves it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grafterr_pipeline.businessdate import zone

if TYPE_CHECKING:
    from grafterr_pipeline.sandbox.catalogue import Store

__all__ = [
    "MAX_CHANGE_DELAY",
    "OrderHistory",
    "Version",
    "order_id_for",
    "parse_order_id",
    "stamp",
]

# The latest any version comes after its order was created: a refund or cancellation up to
# four days later, after a table kept open for a few hours. Listings by ``updated_at`` look
# this far back for orders to consider.
MAX_CHANGE_DELAY = dt.timedelta(days=4, hours=8)

Order = Mapping[str, Any]


@dataclass(frozen=True)
class Version:
    """One state of an order: the instant it took effect and the JSON body served for it."""

    updated_at: dt.datetime
    body: Order


@dataclass(frozen=True)
class OrderHistory:
    """Every version of one order, oldest first; the first one is its creation.

    Versions are immutable and shared: whoever changes a body for serving copies it first.
    """

    order_id: str
    store_id: str
    channel: str
    created_at: dt.datetime
    versions: tuple[Version, ...]

    def at(self, instant: dt.datetime) -> Version | None:
        """Return the latest version with ``updated_at <= instant``, or ``None`` if none yet."""
        found = None
        for version in self.versions:
            if version.updated_at > instant:
                break
            found = version
        return found

    def before(self, version: Version) -> Version | None:
        """Return the version that ``version`` replaced, or ``None`` for the first one."""
        index = self.versions.index(version)
        return self.versions[index - 1] if index else None


def order_id_for(store_id: str, trading_date: dt.date, seq: int) -> str:
    """Return the stable id of the ``seq``-th order a store took on ``trading_date``."""
    return f"ord_{store_id.removeprefix('st_')}{trading_date:%Y%m%d}{seq:04d}"


def parse_order_id(order_id: str) -> tuple[str, dt.date] | None:
    """Return the ``(store_id, trading_date)`` an id was made from, or ``None`` if malformed."""
    digits = order_id.removeprefix("ord_")
    if len(order_id) - len(digits) != 4 or len(digits) != 15 or not digits.isdigit():
        return None
    try:
        trading_date = dt.date(int(digits[3:7]), int(digits[7:9]), int(digits[9:11]))
    except ValueError:
        return None
    return f"st_{digits[:3]}", trading_date


def stamp(store: Store, instant: dt.datetime) -> str:
    """Render ``instant`` as the API does: UTC or the store's own offset, ms when it has them."""
    tz = zone(store.timezone) if store.local_offsets else dt.UTC
    timespec = "milliseconds" if instant.microsecond else "seconds"
    return instant.astimezone(tz).isoformat(timespec=timespec)
