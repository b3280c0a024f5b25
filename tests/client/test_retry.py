"""RetryPolicy's backoff and the Retry-After table (RFC 9110 section 10.2.3)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from grafterr_pipeline.client.retry import RetryPolicy, parse_retry_after, server_now

NOW = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 0 ", 0.0),
        ("Tue, 01 Dec 2026 12:00:05 GMT", 5.0),
        ("Tue, 01 Dec 2026 11:59:00 GMT", 0.0),
        ("3600", 3600.0),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
    ids=[
        "seconds",
        "zero",
        "http-date",
        "past-date",
        "absurd",
        "garbage",
        "negative",
        "fraction",
        "empty",
        "absent",
    ],
)
def test_retry_after_is_read_in_both_forms_and_garbage_gives_none(
    header: str | None, expected: float | None
) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(backoff_base_seconds=1.0, backoff_max_seconds=8.0)
    rng = random.Random(3)

    waits = {attempt: [policy.backoff(attempt, rng) for _ in range(200)] for attempt in (1, 3, 9)}

    assert max(waits[1]) <= 1.0 and max(waits[3]) <= 4.0 and max(waits[9]) <= 8.0
    assert min(waits[9]) < 1.0 < max(waits[9]) and max(waits[9]) > 6.0


def test_policy_has_readable_repr_and_rejects_nonsense() -> None:
    assert "max_attempts=8" in repr(RetryPolicy())

    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_server_time_comes_from_the_date_header_else_the_fallback() -> None:
    assert server_now("Tue, 01 Dec 2026 12:00:00 GMT", fallback=NOW.replace(hour=1)) == NOW
    assert server_now("nonsense", fallback=NOW) == NOW
