"""The shared token bucket: spacing, pauses on 429, AIMD discovery, sharing across processes."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path

import pytest

from grafterr_pipeline.client.ratelimit import RateLimiter, RateLimitPolicy, key_fingerprint
from grafterr_pipeline.settings import Secret
from tests.client.fakes import FakeClock

KEY = Secret("limiter-test-key-1234")


def make_limiter(tmp_path: Path, clock: FakeClock, **policy: float | None) -> RateLimiter:
    return RateLimiter(
        tmp_path / "state" / "rl.sqlite3",
        KEY,
        policy=RateLimitPolicy(**policy),  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.sleep,
    )


def test_configured_rate_spaces_requests_evenly(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = make_limiter(tmp_path, clock, rate=10.0)
    start = clock.now

    for _ in range(21):
        limiter.acquire()

    assert clock.now - start == pytest.approx(2.0)


def test_a_429_pauses_every_user_of_the_key(tmp_path: Path) -> None:
    clock = FakeClock()
    first = make_limiter(tmp_path, clock, rate=10.0)
    second = make_limiter(tmp_path, clock, rate=10.0)
    first.acquire()

    first.throttled(3.0)
    waited = second.acquire()

    assert waited == pytest.approx(3.0)


def test_pause_is_capped_by_the_policy(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = make_limiter(tmp_path, clock, rate=10.0, max_pause_seconds=5.0)

    limiter.throttled(3600.0)

    assert limiter.acquire() == pytest.approx(5.0)


def test_discovery_rises_on_success_and_halves_on_429(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = make_limiter(tmp_path, clock, aimd_initial_rate=2.0)

    for _ in range(40):
        limiter.acquire()
        limiter.succeeded()
    risen = limiter.rate
    limiter.throttled(0.0)

    assert risen > 4.0
    assert limiter.rate == pytest.approx(risen / 2)


def test_discovery_cuts_once_for_a_burst_of_429s(tmp_path: Path) -> None:
    clock = FakeClock()
    limiter = make_limiter(tmp_path, clock, aimd_initial_rate=8.0)

    for _ in range(5):
        limiter.throttled(0.0)

    assert limiter.rate == pytest.approx(4.0)


def test_discovered_rate_is_remembered_by_the_next_limiter(tmp_path: Path) -> None:
    clock = FakeClock()
    make_limiter(tmp_path, clock, aimd_initial_rate=8.0).throttled(0.0)

    assert make_limiter(tmp_path, clock, aimd_initial_rate=8.0).rate == pytest.approx(4.0)


def test_state_is_keyed_by_a_hash_never_the_key(tmp_path: Path) -> None:
    limiter = make_limiter(tmp_path, FakeClock(), rate=5.0)
    limiter.acquire()

    raw = (tmp_path / "state" / "rl.sqlite3").read_bytes()
    keys = sqlite3.connect(limiter.path).execute("SELECT key_hash FROM bucket").fetchall()

    assert KEY.reveal().encode() not in raw
    assert keys == [(key_fingerprint(KEY),)]


def _take_for(path: str, seconds: float, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    limiter = RateLimiter(Path(path), KEY, policy=RateLimitPolicy(rate=20.0))
    stamps = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        limiter.acquire()
        stamps.append(time.monotonic())
    queue.put(stamps)


def test_processes_sharing_the_key_share_one_budget(tmp_path: Path) -> None:
    path = str(tmp_path / "rl.sqlite3")
    RateLimiter(Path(path), KEY, policy=RateLimitPolicy(rate=20.0))
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [multiprocessing.Process(target=_take_for, args=(path, 1.0, queue)) for _ in range(3)]

    for worker in workers:
        worker.start()
    stamps = sorted(s for _ in workers for s in queue.get(timeout=20))
    for worker in workers:
        worker.join(timeout=20)

    # Three unshared budgets would reach about 60/s; the margin only absorbs scheduling noise
    # on a loaded machine (precise rates are measured by `make bench`, not here).
    achieved = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert len(stamps) > 15 and achieved <= 20 * 1.25
