"""When and how long to wait before trying a request again.

:class:`RetryPolicy` is a value object: which failures are transient, how many attempts and how
much time a request may use, and the exponential backoff with full jitter between attempts
(the "full jitter" variant from AWS's *Exponential Backoff And Jitter*, which spreads clients
that failed together). :func:`parse_retry_after` reads the ``Retry-After`` header in both forms
RFC 9110 section 10.2.3 allows.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = ["DEFAULT_RETRY_STATUSES", "RetryPolicy", "parse_retry_after"]

# Contract, "Other errors" and "Rate limit": the statuses that say "try again later".
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How a single request is retried.

    ``max_attempts`` counts the first try; ``max_elapsed_seconds`` bounds the time one request
    may spend including waits, so a ``Retry-After: 3600`` fails fast with a clear error instead
    of stalling a run for an hour.
    """

    max_attempts: int = 8
    max_elapsed_seconds: float = 300.0
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    retry_statuses: frozenset[int] = DEFAULT_RETRY_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts={self.max_attempts} must be at least 1")
        if self.max_elapsed_seconds <= 0 or self.backoff_base_seconds < 0:
            raise ValueError("max_elapsed_seconds must be positive and backoff_base non-negative")

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), fully jittered."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        return rng.uniform(0.0, ceiling)

    def is_retryable(self, status: int) -> bool:
        """Whether an HTTP ``status`` is transient under this policy."""
        return status in self.retry_statuses


def parse_retry_after(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header, or ``None`` if it says nothing.

    ``now`` is the server's notion of the time (its ``Date`` header) where one came, so clock
    skew between us and Grafterr does not distort an HTTP-date. A date in the past means "no
    wait" (0.0). Anything unreadable, such as ``soon``, gives ``None`` so the caller falls back
    to its own backoff.
    """
    text = (value or "").strip()
    if not text:
        return None
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses.
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def server_now(date_header: str | None, *, fallback: dt.datetime) -> dt.datetime:
    """The server's time from its ``Date`` header, or ``fallback`` when absent or unreadable."""
    try:
        when = parsedate_to_datetime(date_header or "")
    except (TypeError, ValueError, IndexError):
        return fallback
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
