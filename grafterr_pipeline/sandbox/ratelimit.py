"""A token bucket per API key, the way an API Gateway usage plan throttles (contract, "Rate limit").

The bucket holds ``burst`` tokens and refills at ``rate`` tokens a second; each request takes one.
With none left the request is refused, and the caller is told how long until one is back.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["RateLimiter", "TokenBucket", "retry_after_header"]


@dataclass
class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``rate`` per second, full to begin with."""

    rate: float
    capacity: int
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _updated: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.capacity)
        self._updated = self.clock()

    def take(self) -> float:
        """Take a token: return 0.0 if granted, else the seconds until one is available."""
        now = self.clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate


class RateLimiter:
    """One :class:`TokenBucket` per API key, or no limit at all when ``rate`` is ``None``."""

    def __init__(
        self, rate: float | None, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def take(self, api_key: str) -> float:
        """Charge one request to ``api_key``; return 0.0 if allowed, else seconds to wait."""
        if self.rate is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(api_key)
            if bucket is None:
                bucket = self._buckets[api_key] = TokenBucket(self.rate, self.burst, self._clock)
            return bucket.take()


def retry_after_header(style: str, wait: float, *, wall_clock: float | None = None) -> str | None:
    """Return the ``Retry-After`` value for a wait of ``wait`` seconds, or ``None`` for none.

    Both forms of RFC 9110 section 10.2.3 have one-second resolution, so the wait is rounded up:
    a client that obeys the header is never early.
    """
    seconds = max(1, math.ceil(wait))
    if style == "seconds":
        return str(seconds)
    if style == "http-date":
        when = (time.time() if wall_clock is None else wall_clock) + seconds
        return email.utils.formatdate(math.ceil(when), usegmt=True)
    return None
