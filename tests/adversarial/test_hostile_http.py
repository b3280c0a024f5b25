"""Hostile HTTP: odd Retry-After values, silence, endless paging and bodies that are not JSON.

Each case ends in one of two ways, stated per case: the pull succeeds exactly, or it fails at
once with a :class:`~grafterr_pipeline.errors.GrafterrError` that names what went wrong. Never a
hang, never a stray built-in exception. The contract's three Retry-After cases (``3600``,
``soon``, a past date) are proven in ``tests/client/test_faults.py``; these are the rest.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from grafterr_pipeline.client import GrafterrClient, PagingPolicy, PullResult, RetryPolicy
from grafterr_pipeline.errors import (
    IncompletePullError,
    MalformedResponseError,
    RetriesExhaustedError,
)
from tests.adversarial.hostile import Answer, Handler, hostile_server, page, settings_for
from tests.client.conftest import END, START

ORDERS = [
    {"order_id": f"ord_{n}", "created_at": "2026-11-30T10:00:00+00:00",
     "updated_at": "2026-11-30T11:00:00+00:00"}
    for n in range(3)
]  # fmt: skip
GOOD = Answer(200, page(ORDERS))
QUICK = RetryPolicy(
    max_attempts=3, max_elapsed_seconds=10.0, backoff_base_seconds=0.01, backoff_max_seconds=0.02
)


def pull(handler: Handler, tmp_path: Path, **options: object) -> tuple[PullResult, int]:
    with hostile_server(handler) as server:
        settings = settings_for(server.base_url, tmp_path)
        options.setdefault("retry", QUICK)
        with GrafterrClient(settings, max_workers=1, **options) as client:  # type: ignore[arg-type]
            return client.pull_orders(START, END), server.requests


def first_then_good(first: Answer | None) -> Handler:
    return lambda number, _page: first if number == 1 else GOOD


def throttled(value: str) -> Answer:
    return Answer(429, b'{"message": "Too Many Requests"}', (("Retry-After", value),))


@pytest.mark.parametrize(
    "value",
    ["\u00b2", "1.5", "-3", " ", "Thu, 31 Feb 2026 25:61:00 GMT"],
    ids=["unicode-digit", "fraction", "negative", "blank", "impossible-date"],
)
def test_an_unreadable_retry_after_falls_back_to_backoff(tmp_path: Path, value: str) -> None:
    started = time.monotonic()

    result, requests = pull(first_then_good(throttled(value)), tmp_path)

    assert [o["order_id"] for o in result.orders] == [o["order_id"] for o in ORDERS]
    assert result.stats.throttled == 1 and requests == 2
    assert time.monotonic() - started < 5


def test_a_retry_after_of_twenty_digits_fails_fast_naming_the_wait(tmp_path: Path) -> None:
    started = time.monotonic()

    with pytest.raises(RetriesExhaustedError, match=r"Retry-After.*max_elapsed_seconds"):
        pull(first_then_good(throttled("9" * 20)), tmp_path)

    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "answer",
    [None, Answer(200, page(ORDERS), promise=999_999)],
    ids=["never-answers", "headers-then-silence"],
)
def test_a_silent_server_times_out_is_retried_and_fails_clearly(
    tmp_path: Path, answer: Answer | None
) -> None:
    started = time.monotonic()

    with pytest.raises(RetriesExhaustedError, match="after 3 attempts: last failure timeout"):
        pull(lambda _n, _p: answer, tmp_path)

    assert time.monotonic() - started < 8


def test_an_answer_dripped_a_byte_at_a_time_times_out_and_the_retry_succeeds(
    tmp_path: Path,
) -> None:
    # Each byte comes well within the 0.3 s read timeout; the whole would take ~10 s.
    dripping = Answer(200, page(ORDERS), drip=0.03)

    result, requests = pull(first_then_good(dripping), tmp_path)

    assert [o["order_id"] for o in result.orders] == [o["order_id"] for o in ORDERS]
    assert requests == 2 and result.stats.retries_by_status.get("timeout") == 1


def test_an_answer_that_always_drips_fails_as_a_timeout(tmp_path: Path) -> None:
    started = time.monotonic()

    with pytest.raises(RetriesExhaustedError, match="after 3 attempts: last failure timeout"):
        pull(lambda _n, _p: Answer(200, page(ORDERS), drip=0.03), tmp_path)

    assert time.monotonic() - started < 8


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "not JSON"),
        (b"null", "not a JSON object"),
        (page([{**ORDERS[0], "name": "caf\xe9"}]).replace(b"caf\\u00e9", b"caf\xe9"), "UTF-8"),
        (b"[" * 10_000 + b"]" * 10_000, "nested"),
        (b'{"data": [], "meta": {"total": 0, "total_pages": 0}, "x": ' + b"[" * 10_000, "JSON"),
    ],
    ids=["empty", "null", "invalid-utf8", "nested-10000", "nested-and-cut"],
)
def test_a_page_that_is_not_a_json_envelope_fails_naming_the_page(
    tmp_path: Path, body: bytes, problem: str
) -> None:
    with pytest.raises(MalformedResponseError, match="page 1") as caught:
        pull(lambda _n, _p: Answer(200, body), tmp_path)

    assert problem in str(caught.value) and "after 3 attempts" in str(caught.value)


def requests_until_it_fails(handler: Handler, tmp_path: Path, match: str) -> int:
    with hostile_server(handler) as server:
        settings = settings_for(server.base_url, tmp_path)
        with (
            GrafterrClient(settings, retry=QUICK, max_workers=1) as client,
            pytest.raises(IncompletePullError, match=match),
        ):
            client.pull_orders(START, END)
    return server.requests


def test_the_same_page_again_and_again_fails_as_incomplete(tmp_path: Path) -> None:
    body = page(ORDERS[:1], total=3, total_pages=3)

    requests = requests_until_it_fails(
        lambda _n, _p: Answer(200, body), tmp_path, "1 distinct orders came back"
    )

    assert requests == 3 * (PagingPolicy().max_rereads + 1)


def test_total_pages_that_grows_on_every_request_fails_within_a_bound(tmp_path: Path) -> None:
    def growing(number: int, _page: int) -> Answer:
        return Answer(200, page(ORDERS[:1], total=number + 1, total_pages=number + 1))

    requests = requests_until_it_fails(growing, tmp_path, "kept changing")

    assert requests <= 50


def test_a_page_cut_short_then_whole_is_read_exactly(tmp_path: Path) -> None:
    whole = page(ORDERS)
    cut = Answer(200, whole[: len(whole) // 2])

    result, _ = pull(first_then_good(cut), tmp_path)

    assert result.stats.retries_by_status == {"malformed": 1}
    assert json.loads(result.pages[0]) == json.loads(whole)


def test_an_error_body_nested_10000_deep_is_still_a_retried_500(tmp_path: Path) -> None:
    deep = Answer(500, b"[" * 10_000 + b"]" * 10_000)

    result, requests = pull(first_then_good(deep), tmp_path)

    assert result.stats.retries_by_status == {"500": 1} and requests == 2
