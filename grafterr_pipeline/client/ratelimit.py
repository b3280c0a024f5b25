"""One request budget per API key, shared by every thread and process on the machine.

Grafterr counts requests per account (contract, "Rate limit"), so the partitions of a backfill
that run in parallel must share one budget. The budget is a token bucket kept in a small SQLite
database under ``<data_dir>/state/``; every change happens inside ``BEGIN IMMEDIATE``, which
SQLite serialises across processes with a file lock. Rows are keyed by a hash of the API key,
never the key itself.

With a configured rate the bucket refills at that rate. Without one the limiter discovers the
rate (AIMD, as TCP congestion control does): it starts modestly, adds a little with every
success and halves on a 429. The discovered rate lives in the same row, so the next run starts
where the last one settled.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grafterr_pipeline.settings import Secret, Settings

__all__ = ["STATE_FILE", "RateLimitPolicy", "RateLimiter", "key_fingerprint"]

logger = logging.getLogger(__name__)

STATE_FILE = Path("state") / "ratelimit.sqlite3"

# Rounding slack: a wait shorter than this could not move a float clock reading past it.
_EPSILON = 1e-9

# A stamp this far in the future was written before a reboot reset the monotonic clock.
_CLOCK_TOLERANCE = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bucket (
    key_hash TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    stamp REAL NOT NULL,
    rate REAL NOT NULL,
    paused_until REAL NOT NULL,
    ceiling REAL NOT NULL,
    last_cut REAL NOT NULL
)
"""


@dataclass(frozen=True)
class RateLimitPolicy:
    """The request budget: a fixed ``rate`` (requests per second), or ``None`` to discover it.

    ``burst`` is the bucket's depth. It defaults to one request so the client spaces requests
    evenly and never relies on the server's own (unpublished) burst allowance. The ``aimd_*``
    fields only matter when ``rate`` is ``None``.
    """

    rate: float | None = None
    burst: float = 1.0
    aimd_initial_rate: float = 2.0
    aimd_min_rate: float = 0.2
    aimd_max_rate: float = 500.0
    aimd_increase_per_second: float = 0.5
    aimd_slow_start_step: float = 0.25
    aimd_decrease_factor: float = 0.5
    aimd_cut_cooldown_seconds: float = 2.0
    max_pause_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValueError(f"rate={self.rate} must be above zero requests per second")
        if self.burst < 1 or not 0 < self.aimd_decrease_factor < 1:
            raise ValueError("burst must be at least 1 and aimd_decrease_factor inside (0, 1)")

    @property
    def adaptive(self) -> bool:
        """Whether the rate is discovered (no rate configured)."""
        return self.rate is None


def key_fingerprint(api_key: Secret) -> str:
    """A short, non-reversible name for an API key's budget (never the key itself)."""
    return hashlib.sha256(b"grafterr-rate:" + api_key.reveal().encode()).hexdigest()[:24]


@dataclass
class _Row:
    tokens: float
    stamp: float
    rate: float
    paused_until: float
    ceiling: float
    last_cut: float


class RateLimiter:
    """A token bucket in SQLite, shared by every thread and process that uses the same key.

    ``clock`` must be the same clock in every process sharing the file; ``time.monotonic`` is
    system-wide on Linux. ``acquire`` returns the seconds it waited, for the pull's statistics.
    """

    def __init__(
        self,
        path: Path,
        api_key: Secret,
        *,
        policy: RateLimitPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or RateLimitPolicy()
        self.path = path
        self._key = key_fingerprint(api_key)
        self._clock = clock
        self._sleep = sleep
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as conn:
            conn.execute(_SCHEMA)

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> RateLimiter:
        """The machine-wide limiter for ``settings.api_key`` at ``settings.rate_limit``."""
        policy = RateLimitPolicy(rate=settings.rate_limit)
        path = settings.data_dir / STATE_FILE
        return cls(path, settings.api_key, policy=policy, clock=clock, sleep=sleep)

    def __repr__(self) -> str:
        return f"RateLimiter(path={str(self.path)!r}, policy={self.policy!r})"

    @property
    def rate(self) -> float:
        """The current rate in requests per second (configured or discovered)."""
        with self._transaction() as conn:
            return self._load(conn).rate

    def acquire(self) -> float:
        """Take one request from the budget, waiting as long as needed; returns seconds waited."""
        waited = 0.0
        while True:
            wait = self._try_take()
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def throttled(self, pause: float) -> None:
        """A 429 came back: pause every user of the key for ``pause`` s and slow down."""
        pause = min(max(pause, 0.0), self.policy.max_pause_seconds)
        with self._transaction() as conn:
            row = self._load(conn)
            now = row.stamp
            row.tokens = min(row.tokens, 0.0)
            row.paused_until = max(row.paused_until, now + pause)
            if self.policy.adaptive and now - row.last_cut >= self.policy.aimd_cut_cooldown_seconds:
                self._cut(row, now)
            self._store(conn, row)

    def succeeded(self) -> None:
        """A request went through: when discovering the rate, raise it a little."""
        if not self.policy.adaptive:
            return
        with self._transaction() as conn:
            row = self._load(conn)
            row.rate = min(self.policy.aimd_max_rate, row.rate + self._increase(row))
            self._store(conn, row)

    def close(self) -> None:
        """Close this thread's database connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _try_take(self) -> float:
        with self._transaction() as conn:
            row = self._load(conn)
            if row.stamp < row.paused_until:
                self._store(conn, row)
                return row.paused_until - row.stamp
            if row.tokens >= 1.0 - _EPSILON:
                row.tokens -= 1.0
                self._store(conn, row)
                return 0.0
            self._store(conn, row)
            return (1.0 - row.tokens) / row.rate

    def _increase(self, row: _Row) -> float:
        # Until the first 429 ("slow start", as in TCP) each success adds a fixed step, so the
        # rate grows by a quarter a second; after it, additive increase of
        # ``aimd_increase_per_second`` per second, gentler still near the rate of the last 429
        # so the rate settles just under the limit.
        if not row.ceiling:
            return self.policy.aimd_slow_start_step
        step = self.policy.aimd_increase_per_second / row.rate
        return step / 4 if row.rate >= 0.9 * row.ceiling else step

    def _cut(self, row: _Row, now: float) -> None:
        row.ceiling = row.rate
        row.rate = max(self.policy.aimd_min_rate, row.rate * self.policy.aimd_decrease_factor)
        row.last_cut = now
        logger.debug("rate limit hit at %.2f req/s; slowing to %.2f req/s", row.ceiling, row.rate)

    def _load(self, conn: sqlite3.Connection) -> _Row:
        # Read the clock only once the write lock is held, so stamps never run backwards.
        now = self._clock()
        found = conn.execute(
            "SELECT tokens, stamp, rate, paused_until, ceiling, last_cut FROM bucket"
            " WHERE key_hash = ?",
            (self._key,),
        ).fetchone()
        row = _Row(*found) if found else self._fresh_row(now)
        if self.policy.rate is not None:
            row.rate = self.policy.rate
        if row.stamp > now + _CLOCK_TOLERANCE:  # written under another boot's clock
            row.stamp, row.paused_until, row.last_cut = now, now, now
        row.tokens = min(self.policy.burst, row.tokens + max(0.0, now - row.stamp) * row.rate)
        row.stamp = now
        return row

    def _fresh_row(self, now: float) -> _Row:
        rate = self.policy.rate or self.policy.aimd_initial_rate
        return _Row(self.policy.burst, now, rate, now, 0.0, now - 1e9)

    def _store(self, conn: sqlite3.Connection, row: _Row) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO bucket"
            " (key_hash, tokens, stamp, rate, paused_until, ceiling, last_cut)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._key,
                row.tokens,
                row.stamp,
                row.rate,
                row.paused_until,
                row.ceiling,
                row.last_cut,
            ),
        )

    def _transaction(self) -> _Transaction:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            # The bucket is advisory state: losing the last writes in a power cut is harmless,
            # so skip the fsync on every commit, which would cost more than the request.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._local.conn = conn
        return _Transaction(conn)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``: takes SQLite's write lock, shared across processes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
