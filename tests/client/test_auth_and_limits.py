"""Tokens, the API key and the rate limit, against the sandbox over loopback."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from grafterr_pipeline.client import GrafterrClient, PullResult, RetryPolicy
from grafterr_pipeline.errors import AuthenticationError
from grafterr_pipeline.sandbox import SandboxServer
from grafterr_pipeline.settings import Secret
from tests.client.conftest import BASE, END, START, expected_ids

Serve = Callable[..., SandboxServer]
Connect = Callable[..., GrafterrClient]
EXPECTED = expected_ids(BASE)


def ids(result: PullResult) -> list[str]:
    return [order["order_id"] for order in result.orders]


def test_client_renews_token_when_it_expires_mid_pull(serve: Serve, connect: Connect) -> None:
    client = connect(serve(token_ttl=0.3, latency=0.05), settings={"rate_limit": 10.0})

    result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED
    token_requests = result.stats.requests - result.stats.pages
    assert token_requests >= 2


def test_client_renews_once_on_a_401_for_a_token_it_believed_valid(
    serve: Serve, connect: Connect
) -> None:
    first = serve()
    client = connect(first)
    client.pull_orders(START, END)
    first.stop()  # the new sandbox on the same port has never seen the client's token

    with SandboxServer(BASE, port=first.port):
        result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED
    assert result.stats.retries_by_status == {"401": 1}


def test_bad_credentials_fail_at_once_with_a_clear_message(serve: Serve, connect: Connect) -> None:
    client = connect(serve(), settings={"client_secret": Secret("not-the-secret")})

    with pytest.raises(AuthenticationError, match="GRAFTERR_CLIENT_SECRET") as caught:
        client.pull_orders(START, END)

    assert caught.value.status == 401 and "POST /auth/token" in str(caught.value)


def test_a_refused_api_key_fails_at_once_saying_so(serve: Serve, connect: Connect) -> None:
    client = connect(serve(), settings={"api_key": Secret("wrong-key")})

    with pytest.raises(AuthenticationError, match=r"API key \(x-api-key\) was refused"):
        client.pull_orders(START, END)


@pytest.mark.parametrize("style", ["seconds", "http-date", "none"])
def test_429s_are_waited_out_with_and_without_retry_after(
    serve: Serve, connect: Connect, style: str
) -> None:
    server = serve(rate_limit=8.0, burst=2, retry_after=style)
    # The client is told 100/s against a server allowing 8/s, and the test's backoff is a few
    # milliseconds, so without Retry-After many attempts are spent: allow them, not more time.
    patient = RetryPolicy(
        max_attempts=60, max_elapsed_seconds=60.0, backoff_base_seconds=0.01,
        backoff_max_seconds=0.2,
    )  # fmt: skip
    client = connect(server, settings={"rate_limit": 100.0}, retry=patient)

    result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED
    assert result.stats.throttled >= 1
    assert result.stats.retries_by_status["429"] == result.stats.throttled


def test_configured_rate_keeps_clear_of_429s(serve: Serve, connect: Connect) -> None:
    client = connect(serve(rate_limit=20.0, burst=2), settings={"rate_limit": 20.0})

    result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED and result.stats.throttled == 0


def test_clients_sharing_a_key_share_one_budget(serve: Serve, connect: Connect) -> None:
    server = serve(rate_limit=20.0, burst=2)
    clients = [connect(server, settings={"rate_limit": 20.0}) for _ in range(3)]
    results: list[PullResult] = []

    threads = [
        threading.Thread(target=lambda c=c: results.append(c.pull_orders(START, END)))
        for c in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [ids(r) for r in results] == [EXPECTED] * 3
    assert sum(r.stats.throttled for r in results) == 0


def test_undiscovered_rate_settles_with_few_429s(serve: Serve, connect: Connect) -> None:
    client = connect(serve(rate_limit=30.0, burst=5), settings={"rate_limit": None})

    result = client.pull_orders(START, END)

    assert ids(result) == EXPECTED
    assert result.stats.throttled <= 3


def test_limiter_wait_is_wall_time_however_many_threads_wait(
    serve: Serve, connect: Connect
) -> None:
    client = connect(serve(rate_limit=10.0, burst=2), settings={"rate_limit": 10.0}, max_workers=8)

    stats = client.pull_orders(START, END).stats

    # The page threads queue together at 10 requests/s: added up, their waits would pass the
    # pull's own duration; as wall time they cannot.
    assert stats.pages > 4
    assert 0.0 < stats.limiter_wait_seconds <= stats.elapsed_seconds
