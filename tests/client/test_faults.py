"""Every documented failure, and a few undocumented ones; each pull must still be exact."""

from __future__ import annotations

import logging
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

import pytest

from grafterr_pipeline.client import GrafterrClient, PagingPolicy, PullResult, RetryPolicy
from grafterr_pipeline.errors import (
    IncompletePullError,
    MalformedResponseError,
    RetriesExhaustedError,
)
from grafterr_pipeline.sandbox import SandboxServer
from grafterr_pipeline.settings import Secret, Settings
from tests.client.conftest import BASE, END, FAST_RETRY, START, expected_ids
from tests.client.scripted import ORDERS, Answer, Script, scripted_server

Serve = Callable[..., SandboxServer]
Connect = Callable[..., GrafterrClient]
EXPECTED = expected_ids(BASE)


def ids(result: PullResult) -> list[str]:
    return [order["order_id"] for order in result.orders]


@pytest.mark.parametrize(
    ("knobs", "causes"),
    [
        ({"fail_500": 0.3}, {"500"}),
        ({"fail_504": 0.3, "delay_504": 0.05}, {"504"}),
        ({"fail_408": 0.3}, {"408"}),
        ({"reset_share": 0.3}, {"connection"}),
        ({"truncate_share": 0.3}, {"truncated", "connection"}),
    ],
    ids=["500-burst", "504-burst", "408", "connection-resets", "truncated-bodies"],
)
def test_transient_failures_are_retried_and_the_pull_is_exact(
    serve: Serve, connect: Connect, knobs: dict[str, float], causes: set[str]
) -> None:
    client = connect(serve(**knobs))

    result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED
    assert set(result.stats.retries_by_status) & causes


def test_orders_moving_between_pages_cause_a_logged_reread_and_none_is_missed(
    serve: Serve, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    client = connect(serve(drift_share=0.3, drift_pages=4), max_workers=2)

    with caplog.at_level(logging.WARNING, logger="grafterr_pipeline.client"):
        result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED
    assert result.stats.rereads >= 1
    assert any("changed while it was paged" in r.getMessage() for r in caplog.records)


def test_a_window_that_never_settles_fails_as_incomplete(serve: Serve, connect: Connect) -> None:
    client = connect(serve(drift_share=0.3, drift_pages=200), paging=PagingPolicy(max_rereads=1))

    with pytest.raises(IncompletePullError, match="kept changing"):
        client.pull_orders(START, END)


def scripted_client(
    base_url: str, tmp_path: Path, retry: RetryPolicy = FAST_RETRY
) -> GrafterrClient:
    settings = Settings(
        environment="local",
        base_url=base_url,
        client_id="scripted",
        client_secret=Secret("scripted-secret"),
        api_key=Secret("scripted-key"),
        data_dir=tmp_path,
        page_size=2,
        rate_limit=500.0,
        pii="drop",  # the client never sees customers; no salt needed
    )
    return GrafterrClient(settings, retry=retry, max_workers=1)


def pull_scripted(script: Script, tmp_path: Path, retry: RetryPolicy = FAST_RETRY) -> PullResult:
    with scripted_server(script) as url, scripted_client(url, tmp_path, retry) as client:
        return client.pull_orders(START, END)


@pytest.mark.parametrize(
    "body",
    [b"<html>Bad gateway</html>", b'{"meta": {"total": 5, "total_pages": 3}}', b'{"data": []}'],
    ids=["not-json", "no-data", "no-meta"],
)
def test_a_malformed_page_is_retried(tmp_path: Path, body: bytes) -> None:
    result = pull_scripted(Script(Answer(200, body)), tmp_path)

    assert ids(result) == [o["order_id"] for o in ORDERS]
    assert result.stats.retries_by_status == {"malformed": 1}


def test_a_page_that_stays_malformed_fails_naming_the_page(tmp_path: Path) -> None:
    script = Script(*[Answer(200, b"not json")] * 5)

    with pytest.raises(MalformedResponseError, match="page 1") as caught:
        pull_scripted(script, tmp_path, RetryPolicy(max_attempts=3, backoff_base_seconds=0.0))

    assert "not JSON" in str(caught.value) and "after 3 attempts" in str(caught.value)


def retry_after(value: str) -> Answer:
    return Answer(429, b'{"message": "Too Many Requests"}', (("Retry-After", value),))


@pytest.mark.parametrize(
    "value",
    ["soon", formatdate(0, usegmt=True), "0"],
    ids=["garbage-falls-back-to-backoff", "past-date-means-no-wait", "zero"],
)
def test_odd_retry_after_values_do_not_stall_the_pull(tmp_path: Path, value: str) -> None:
    result = pull_scripted(Script(retry_after(value)), tmp_path)

    assert ids(result) == [o["order_id"] for o in ORDERS]
    assert result.stats.throttled == 1 and result.stats.limiter_wait_seconds < 1.0


def test_an_absurd_retry_after_fails_fast_with_a_clear_error(tmp_path: Path) -> None:
    policy = RetryPolicy(max_elapsed_seconds=60.0)

    with pytest.raises(RetriesExhaustedError, match=r"wait 3600 s \(Retry-After\)") as caught:
        pull_scripted(Script(retry_after("3600")), tmp_path, policy)

    assert "max_elapsed_seconds=60" in str(caught.value) and caught.value.status == 429


def test_persistent_5xx_exhausts_the_policy_naming_status_and_page(tmp_path: Path) -> None:
    failing = [Answer(500, b'{"message": "Internal server error"}')] * 10
    policy = RetryPolicy(max_attempts=3, backoff_base_seconds=0.001)

    with pytest.raises(RetriesExhaustedError, match="after 3 attempts") as caught:
        pull_scripted(Script(*failing), tmp_path, policy)

    text = str(caught.value)
    assert "500" in text and "Internal server error" in text and "page 1" in text


def test_total_pages_that_keeps_growing_is_capped(tmp_path: Path) -> None:
    huge = b'{"data": [], "meta": {"total": 999999, "total_pages": 99999}}'

    with pytest.raises(IncompletePullError, match="max_pages"):
        pull_scripted(Script(Answer(200, huge)), tmp_path)
