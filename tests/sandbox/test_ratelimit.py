"""The per-key token bucket: the bucket itself on a fake clock, and 429s over HTTP."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Iterator

import pytest

from grafterr_pipeline.sandbox import SandboxServer
from grafterr_pipeline.sandbox.ratelimit import RateLimiter, TokenBucket, retry_after_header
from tests.sandbox.conftest import SMALL
from tests.sandbox.helpers import Caller


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_grants_its_burst_then_refuses() -> None:
    bucket = TokenBucket(rate=2.0, capacity=3, clock=FakeClock())

    waits = [bucket.take() for _ in range(4)]

    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.5)


def test_a_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, capacity=3, clock=clock)
    for _ in range(3):
        bucket.take()

    clock.now += 10.0

    assert [bucket.take() for _ in range(4)][2:] == [0.0, pytest.approx(0.5)]


def test_each_api_key_has_its_own_bucket() -> None:
    limiter = RateLimiter(1.0, 1, clock=FakeClock())

    assert (limiter.take("a"), limiter.take("b"), limiter.take("a") > 0) == (0.0, 0.0, True)


def test_no_rate_means_no_limit() -> None:
    limiter = RateLimiter(None, 1, clock=FakeClock())

    assert all(limiter.take("a") == 0.0 for _ in range(1000))


@pytest.mark.parametrize(
    ("wait", "expected"), [(0.2, "1"), (1.0, "1"), (2.01, "3")], ids=["part", "whole", "over"]
)
def test_retry_after_in_seconds_rounds_the_wait_up(wait: float, expected: str) -> None:
    assert retry_after_header("seconds", wait) == expected


def test_retry_after_as_an_http_date_is_never_early() -> None:
    value = retry_after_header("http-date", 1.2, wall_clock=1_800_000_000.5)

    assert value is not None
    assert email.utils.parsedate_to_datetime(value).timestamp() >= 1_800_000_000.5 + 1.2


@pytest.fixture(scope="module")
def throttled() -> Iterator[SandboxServer]:
    """A sandbox allowing 1 request a second with a burst of 3."""
    with SandboxServer(SMALL.with_changes(rate_limit=1.0, burst=3)) as server:
        yield server


def test_requests_past_the_burst_answer_429(throttled: SandboxServer) -> None:
    caller = Caller(throttled)

    statuses = [caller.get("orders/ord_001202611280001").status_code for _ in range(5)]

    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


def test_the_bucket_refills_after_the_retry_after_wait() -> None:
    with SandboxServer(SMALL.with_changes(rate_limit=5.0, burst=1)) as server:
        caller = Caller(server)
        caller.get("orders")
        refused = caller.get("orders")

        time.sleep(float(refused.headers["Retry-After"]))

        assert (refused.status_code, caller.get("orders").status_code) == (429, 401)


@pytest.mark.parametrize("style", ["seconds", "http-date", "none"])
def test_a_429_carries_retry_after_in_the_configured_style(style: str) -> None:
    config = SMALL.with_changes(rate_limit=0.5, burst=1, retry_after=style)
    with SandboxServer(config) as server:
        caller = Caller(server)
        caller.get("orders")

        response = caller.get("orders")

    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"}
    header = response.headers.get("Retry-After")
    if style == "seconds":
        assert header == "2"
    elif style == "http-date":
        when = email.utils.parsedate_to_datetime(header)
        assert dt.timedelta(0) < when - dt.datetime.now(dt.UTC) <= dt.timedelta(seconds=3)
    else:
        assert header is None
