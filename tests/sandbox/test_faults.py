"""Every fault knob, shown happening over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from grafterr_pipeline.sandbox import SandboxServer
from tests.sandbox.conftest import SMALL
from tests.sandbox.helpers import Caller

ORDER = "orders/ord_001202611280001"


@pytest.mark.parametrize(
    ("knob", "status", "message"),
    [("fail_500", 500, "Internal server error"), ("fail_504", 504, "Endpoint request timed out"),
     ("fail_408", 408, "Request Timeout")],
    ids=["500", "504", "408"],
)  # fmt: skip
def test_a_share_of_one_fails_every_request_with_the_gateway_body(
    knob: str, status: int, message: str
) -> None:
    with SandboxServer(SMALL.with_changes(**{knob: 1.0})) as server:
        response = Caller(server).post_token()

    assert response.status_code == status
    assert response.json() == {"message": message}


def test_a_share_fails_about_that_share_of_requests() -> None:
    with SandboxServer(SMALL.with_changes(fail_500=0.3)) as server:
        caller = Caller(server)

        statuses = [caller.post_token().status_code for _ in range(100)]

    assert 12 <= statuses.count(500) <= 50
    assert statuses.count(200) == 100 - statuses.count(500)


def test_a_504_comes_after_the_configured_delay() -> None:
    with SandboxServer(SMALL.with_changes(fail_504=1.0, delay_504=0.3)) as server:
        started = time.perf_counter()
        response = Caller(server).post_token()

    assert response.status_code == 504
    assert time.perf_counter() - started >= 0.3


def test_a_reset_connection_raises_a_connection_error_before_any_answer() -> None:
    with SandboxServer(SMALL.with_changes(reset_share=1.0)) as server:
        caller = Caller(server)

        with pytest.raises(requests.ConnectionError):
            caller.post_token()


def test_some_connections_reset_and_the_others_are_answered() -> None:
    with SandboxServer(SMALL.with_changes(reset_share=0.5)) as server:
        outcomes = []
        for _ in range(40):
            try:
                outcomes.append(Caller(server).post_token().status_code)
            except requests.ConnectionError:
                outcomes.append("reset")

    assert 5 <= outcomes.count("reset") <= 35
    assert outcomes.count(200) == 40 - outcomes.count("reset")


def test_a_truncated_body_is_shorter_than_its_content_length() -> None:
    with SandboxServer(SMALL.with_changes(truncate_share=1.0)) as server:
        caller = Caller(server)

        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            caller.post_token()


def test_a_truncated_body_is_not_logged_as_a_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with (
        SandboxServer(SMALL.with_changes(truncate_share=1.0)) as server,
        pytest.raises(requests.exceptions.ChunkedEncodingError),
    ):
        Caller(server).post_token()

    assert "Exception in ASGI application" not in caplog.text


@pytest.mark.parametrize(
    ("latency", "jitter", "low", "high"),
    [(0.25, 0.0, 0.25, 0.6), (0.0, 0.3, 0.0, 0.6)],
    ids=["fixed", "random"],
)
def test_latency_delays_every_answer(
    latency: float, jitter: float, low: float, high: float
) -> None:
    with SandboxServer(SMALL.with_changes(latency=latency, latency_jitter=jitter)) as server:
        caller = Caller(server)
        times = []
        for _ in range(4):
            started = time.perf_counter()
            caller.post_token()
            times.append(time.perf_counter() - started)

    assert all(low <= t < high for t in times)
    if jitter:
        assert max(times) - min(times) > 0.01
