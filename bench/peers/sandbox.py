"""A sandbox that counts what it answers, so request rates are measured at the server side.

The count wraps the sandbox's ASGI app from the outside, so it sees every answer: the gateway's
429s and 403s, the injected 500/504/408s and the API's own. Connections the sandbox resets on
purpose are dropped in the HTTP protocol below the app and are not counted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer

__all__ = ["PEAK_WINDOW", "CountingSandbox", "RequestLog", "Traffic"]

PEAK_WINDOW = 10.0
_REFUSED = (403, 429)


@dataclass(frozen=True)
class Traffic:
    """What one sandbox answered: statuses, token requests, and the span between answers."""

    statuses: dict[int, int]
    token_requests: int
    span_seconds: float
    admitted_at: tuple[float, ...] = ()

    @property
    def requests(self) -> int:
        """Every answered request, throttled and failed ones included."""
        return sum(self.statuses.values())

    @property
    def throttled(self) -> int:
        """Requests answered 429."""
        return self.statuses.get(429, 0)

    @property
    def admitted(self) -> int:
        """Requests the rate limit let through (everything but 429s and 403s)."""
        return self.requests - self.throttled - self.statuses.get(403, 0)

    def admitted_rate(self) -> float:
        """Admitted requests per second between the first and the last answer."""
        return self.admitted / self.span_seconds if self.span_seconds > 0 else 0.0

    def peak_rate(self, window: float = PEAK_WINDOW) -> float:
        """Admitted requests per second in the busiest ``window`` seconds of the run.

        The span rate above includes whatever a contender does between pulls (normalising,
        writing, starting runs); this one shows whether it uses the budget while it pulls.
        """
        times, best, first = self.admitted_at, 0, 0
        for last, when in enumerate(times):
            while when - times[first] > window:
                first += 1
            best = max(best, last - first + 1)
        return best / window


@dataclass
class RequestLog:
    """A thread-safe tally of answers, filled by :class:`CountingApp`."""

    _statuses: Counter[int] = field(default_factory=Counter)
    _tokens: int = 0
    _admitted: list[float] = field(default_factory=list)
    _first: float | None = None
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, *, token: bool, when: float) -> None:
        """Count one answer with ``status`` sent at monotonic time ``when``."""
        with self._lock:
            self._statuses[status] += 1
            self._tokens += int(token)
            if status not in _REFUSED:
                self._admitted.append(when)
            self._first = when if self._first is None else self._first
            self._last = when

    def traffic(self) -> Traffic:
        """Return what has been counted so far."""
        with self._lock:
            span = (self._last - self._first) if self._first is not None else 0.0
            statuses = dict(sorted(self._statuses.items()))
            return Traffic(statuses, self._tokens, span or 0.0, tuple(self._admitted))


class CountingApp:
    """ASGI wrapper that records the status of every HTTP answer in a :class:`RequestLog`."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = scope["path"].endswith("/auth/token")

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.log.record(message["status"], token=token, when=time.monotonic())
            await send(message)

        await self.app(scope, receive, counting_send)


class CountingSandbox(SandboxServer):
    """A :class:`SandboxServer` whose answers are counted in :attr:`log`."""

    def __init__(self, config: SandboxConfig) -> None:
        self.log = RequestLog()
        super().__init__(config)

    # TODO(#4): count through a hook of the sandbox's own once it has one; this overrides the
    # server's private factory of the uvicorn config, the one place the app can be wrapped
    # before uvicorn loads it.
    def _uvicorn_config(self) -> uvicorn.Config:
        config = super()._uvicorn_config()
        config.app = CountingApp(config.app, self.log)
        return config
