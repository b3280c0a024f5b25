"""What one pull did, counted while it runs and reported once at the end."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["PullStats", "StatsRecorder"]


@dataclass(frozen=True)
class PullStats:
    """Counts for one pull: the INFO log line and the raw asset's Dagster metadata.

    ``retries_by_status`` maps a status (``"429"``, ``"500"``) or a failure kind
    (``"connection"``, ``"timeout"``, ``"malformed"``, ``"401"``) to how many retries it caused.
    ``throttled`` is the number of 429 answers; ``rereads`` how often the window was read again
    because it changed while it was paged. ``limiter_wait_seconds`` is wall time: the seconds
    during which at least one request was held by the rate limiter, however many page threads
    were waiting at once, so it never exceeds ``elapsed_seconds``.
    """

    requests: int = 0
    retries_by_status: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    limiter_wait_seconds: float = 0.0
    pages: int = 0
    orders: int = 0
    duplicates_dropped: int = 0
    rereads: int = 0
    elapsed_seconds: float = 0.0

    @property
    def retries(self) -> int:
        """All retries, whatever caused them."""
        return sum(self.retries_by_status.values())

    def as_metadata(self) -> dict[str, int | float | str]:
        """Flat values for Dagster materialisation metadata (no secrets, no nesting)."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "retries_by_status": _describe(self.retries_by_status),
            "throttled_429": self.throttled,
            "limiter_wait_seconds": round(self.limiter_wait_seconds, 3),
            "pages": self.pages,
            "orders": self.orders,
            "duplicates_dropped": self.duplicates_dropped,
            "rereads": self.rereads,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }

    def summary(self) -> str:
        """One human line, e.g. for the per-pull INFO log."""
        return " ".join(f"{name}={value}" for name, value in self.as_metadata().items())


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{key}: {counts[key]}" for key in sorted(counts)) or "none"


class StatsRecorder:
    """Thread-safe counters that the pool's workers update during a pull."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._retries: Counter[str] = Counter()
        self._throttled = 0
        self._waits: list[tuple[float, float]] = []

    def request(self, *, limiter_wait: float, now: float) -> None:
        """One HTTP request is about to be sent at clock reading ``now``, after ``limiter_wait``
        seconds in the limiter."""
        with self._lock:
            self._requests += 1
            if limiter_wait > 0:
                self._waits.append((now - limiter_wait, now))

    def retry(self, cause: str) -> None:
        """One attempt failed for ``cause`` and will be retried (or the retries ran out)."""
        with self._lock:
            self._retries[cause] += 1
            if cause == "429":
                self._throttled += 1

    def finish(
        self, *, pages: int, orders: int, duplicates: int, rereads: int, elapsed: float
    ) -> PullStats:
        """Freeze the counters together with the pull's outcome."""
        with self._lock:
            return PullStats(
                requests=self._requests,
                retries_by_status=dict(self._retries),
                throttled=self._throttled,
                limiter_wait_seconds=_covered(self._waits),
                pages=pages,
                orders=orders,
                duplicates_dropped=duplicates,
                rereads=rereads,
                elapsed_seconds=elapsed,
            )


def _covered(intervals: list[tuple[float, float]]) -> float:
    """The length of the union of ``intervals``: overlapping waits count once."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total
