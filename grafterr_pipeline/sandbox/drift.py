"""Drift while paging: orders and updates that arrive while a client pages through a window.

The contract ("Orders") computes each page when its request arrives, so an order created or
updated meanwhile can slide onto a page already read, or show up twice. The sandbox reproduces
this without touching its data: a ``drift_share`` of the orders in a listing are *late*. Counting
the requests for one listing (same window, filters and page size), a late order is missing from
the first request and arrives at a request between the second and the ``drift_pages``-th, fixed
per order. Until then a late order that was created in the window is absent, and a late update
is absent from an ``updated_at`` window (the order still shows its previous version in a
``created_at`` one). From the ``drift_pages``-th request on, the listing is complete and agrees
with the ground truth. ``GET /orders/{order_id}`` is never late.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter

from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.data import Listed
from grafterr_pipeline.sandbox.params import ListingQuery

__all__ = ["Drift"]


class Drift:
    """Counts the requests of each listing and hides the orders that have not arrived yet."""

    def __init__(self, config: SandboxConfig) -> None:
        self.share = config.drift_share
        self.pages = config.drift_pages
        self.seed = config.seed
        self._requests: Counter[tuple[object, ...]] = Counter()
        self._lock = threading.Lock()

    def visible(self, query: ListingQuery, listed: list[Listed]) -> list[Listed]:
        """Return ``listed`` as the current request for ``query`` sees it."""
        if not self.share:
            return listed
        with self._lock:
            self._requests[query.window_key()] += 1
            request = self._requests[query.window_key()]
        if request >= self.pages:
            return listed
        seen = []
        for item in listed:
            if self._arrival(item.history.order_id) <= request:
                seen.append(item)
            elif query.date_field == "created_at":
                previous = item.history.before(item.version)
                if previous is not None:
                    seen.append(Listed(item.history, previous))
        return seen

    def _arrival(self, order_id: str) -> int:
        """Return the request of a listing at which ``order_id`` arrives (1 = not late)."""
        digest = hashlib.blake2b(f"{self.seed}|drift|{order_id}".encode(), digest_size=8)
        draw = int.from_bytes(digest.digest()) / 2**64
        if draw >= self.share:
            return 1
        return 2 + int(draw / self.share * (self.pages - 1))
