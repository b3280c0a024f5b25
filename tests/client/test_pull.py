"""Pulling a window from the sandbox over loopback: the exact orders, whatever happens."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest

from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.errors import RequestRejectedError
from grafterr_pipeline.sandbox import SandboxServer
from tests.client.conftest import BASE, END, PAGE_SIZE, START, expected_ids

Serve = Callable[..., SandboxServer]
Connect = Callable[..., GrafterrClient]


def ids(orders: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return [order["order_id"] for order in orders]


def test_pull_returns_exactly_the_sandbox_orders_in_api_order(
    serve: Serve, connect: Connect
) -> None:
    client = connect(serve())

    result = client.pull_orders(START, END)

    expected = expected_ids(BASE)
    assert ids(result.orders) == expected
    assert result.stats.pages == len(result.pages) == -(-len(expected) // PAGE_SIZE)
    assert [json.loads(page)["meta"]["page"] for page in result.pages] == list(
        range(1, len(result.pages) + 1)
    )
    assert result.stats.requests == result.stats.pages + 1  # one token request
    assert result.stats.duplicates_dropped == 0 and result.stats.rereads == 0


def test_pull_by_updated_at_matches_the_sandbox(serve: Serve, connect: Connect) -> None:
    client = connect(serve())

    result = client.pull_orders(START, END, date_field="updated_at")

    assert ids(result.orders) == expected_ids(BASE, date_field="updated_at")


def test_concurrent_pages_give_the_same_result_as_sequential(
    serve: Serve, connect: Connect
) -> None:
    server = serve(latency=0.01)

    concurrent = connect(server, max_workers=8).pull_orders(START, END)
    sequential = connect(server, max_workers=1).pull_orders(START, END)

    assert concurrent.orders == sequential.orders
    assert concurrent.pages == sequential.pages


def test_pull_logs_one_info_line_with_the_stats(
    serve: Serve, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    client = connect(serve())

    with caplog.at_level(logging.INFO, logger="grafterr_pipeline.client"):
        result = client.pull_orders(START, END)

    infos = [
        r
        for r in caplog.records
        if r.levelno == logging.INFO and r.name.startswith("grafterr_pipeline.client")
    ]
    assert len(infos) == 1
    assert f"orders={len(result.orders)}" in infos[0].getMessage()
    assert result.stats.as_metadata()["pages"] == result.stats.pages


def test_bad_parameters_fail_at_once_naming_status_endpoint_window_page_and_message(
    serve: Serve, connect: Connect
) -> None:
    client = connect(serve())

    with pytest.raises(RequestRejectedError) as caught:
        client.pull_orders(START, END, channel="carrier-pigeon")

    text = str(caught.value)
    assert caught.value.status == 400 and "400 Bad Request" in text
    assert "GET /orders" in text and START.isoformat() in text and "page 1" in text
    assert "Invalid query parameters" in text and "channel" in text


def test_get_order_returns_one_order_and_404_is_rejected(serve: Serve, connect: Connect) -> None:
    client = connect(serve())
    wanted = expected_ids(BASE)[3]

    order = client.get_order(wanted)
    with pytest.raises(RequestRejectedError, match=r"404 Not Found.*Order not found"):
        client.get_order("ord_nope")

    assert order["order_id"] == wanted


def test_pull_orders_are_the_whole_orders_as_served(serve: Serve, connect: Connect) -> None:
    client = connect(serve())

    result = client.pull_orders(START, END)

    served = {
        order["order_id"]: order for page in result.pages for order in json.loads(page)["data"]
    }
    assert result.orders == [served[order["order_id"]] for order in result.orders]
    assert len(result.orders[0]) > 3  # every field, not only those the merge reads
