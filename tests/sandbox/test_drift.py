"""Drift while paging: late orders and updates arrive between page requests, then settle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from grafterr_pipeline.sandbox import SandboxServer
from tests.sandbox.conftest import SMALL
from tests.sandbox.helpers import Caller

DAY = {"from": "2026-11-27T00:00:00Z", "to": "2026-11-28T00:00:00Z"}
DRIFTING = SMALL.with_changes(drift_share=0.2, drift_pages=3)


@pytest.fixture
def drifting() -> Iterator[Caller]:
    """A logged-in caller of a fresh drifting sandbox (the request counts start at zero)."""
    with SandboxServer(DRIFTING) as server:
        yield Caller(server).login()


def _totals(caller: Caller, times: int, **params: str) -> list[int]:
    return [caller.get("orders", **DAY, **params).json()["meta"]["total"] for _ in range(times)]


@pytest.mark.parametrize("date_field", ["created_at", "updated_at"])
def test_a_listing_grows_with_each_request_until_it_is_complete(
    drifting: Caller, caller: Caller, date_field: str
) -> None:
    totals = _totals(drifting, 4, date_field=date_field)

    complete = caller.get("orders", **DAY, date_field=date_field).json()["meta"]["total"]
    assert totals[0] < totals[1] <= totals[2] == totals[3] == complete


def test_paging_while_orders_arrive_misses_some_that_a_reread_finds(
    drifting: Caller, caller: Caller
) -> None:
    first_pass = drifting.all_orders(page_size=40, **DAY)

    second_pass = drifting.all_orders(page_size=40, **DAY)

    complete = caller.all_orders(page_size=200, **DAY)
    ids = {o["order_id"] for o in complete}
    assert {o["order_id"] for o in first_pass} < ids
    assert second_pass == complete


def test_pages_of_one_pass_can_show_the_same_order_twice(drifting: Caller) -> None:
    pages = [drifting.get("orders", page=p, page_size=30, **DAY).json() for p in (1, 2, 3)]

    ids = [o["order_id"] for page in pages for o in page["data"]]
    totals = [page["meta"]["total"] for page in pages]
    assert len(ids) > len(set(ids))
    assert totals[0] < totals[-1]


def test_a_late_update_shows_the_previous_version_in_a_created_at_window(
    drifting: Caller, caller: Caller
) -> None:
    early = {o["order_id"]: o for o in drifting.get("orders", page_size=200, **DAY).json()["data"]}

    late = {o["order_id"]: o for o in caller.all_orders(page_size=200, **DAY)}

    stale = [i for i, o in early.items() if o["updated_at"] != late[i]["updated_at"]]
    assert stale
    assert all(early[i]["updated_at"] < late[i]["updated_at"] for i in stale)


def test_an_order_by_id_is_never_late(drifting: Caller, caller: Caller) -> None:
    complete = caller.all_orders(page_size=200, **DAY)

    fetched = [drifting.get(f"orders/{o['order_id']}").json() for o in complete[:20]]

    assert fetched == complete[:20]
