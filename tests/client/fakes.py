"""A fake clock for the pure pieces: sleeping advances time instead of waiting."""

from __future__ import annotations

import threading


class FakeClock:
    """``clock()`` reads the fake time; ``sleep(s)`` advances it and records the wait."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
