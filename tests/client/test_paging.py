"""Merging pages: de-duplication, ordering, envelope checks and when a read holds."""

from __future__ import annotations

from typing import Any

import pytest

from grafterr_pipeline.client.paging import (
    Page,
    envelope_problem,
    merge_keys,
    merge_orders,
    page_from,
    unsettled_reason,
)
from grafterr_pipeline.settings import ApiNames

NAMES = ApiNames()


def order(order_id: str, created: str, updated: str) -> dict[str, Any]:
    return {"order_id": order_id, "created_at": created, "updated_at": updated}


def page(number: int, orders: list[dict[str, Any]], total: int = 3) -> Page:
    return Page(number, b"{}", orders, total, 2)


def test_duplicates_keep_the_latest_update_and_orders_sort_by_date_then_id() -> None:
    old = order("b", "2026-11-30T10:00:00+00:00", "2026-11-30T10:00:00+00:00")
    new = order("b", "2026-11-30T10:00:00+00:00", "2026-11-30T11:00:00Z")
    late = order("a", "2026-11-30T12:00:00+01:00", "2026-11-30T12:00:00+01:00")
    early = order("c", "2026-11-30T09:00:00.5+00:00", "2026-11-30T09:00:00+00:00")

    merged, dropped = merge_orders(
        [page(1, [early, new]), page(2, [old, late])], names=NAMES, date_field="created_at"
    )

    assert [o["order_id"] for o in merged] == ["c", "b", "a"]
    assert merged[1] is new and dropped == 1


def test_a_page_cut_to_the_merge_keys_merges_as_the_whole_orders_do() -> None:
    whole = [
        {**order("b", "2026-11-30T10:00:00+00:00", "2026-11-30T10:00:00Z"), "total": "1.00"},
        {**order("a", "2026-11-30T09:00:00+00:00", "2026-11-30T09:00:00Z"), "total": "2.00"},
        {**order("b", "2026-11-30T10:00:00+00:00", "2026-11-30T11:00:00Z"), "total": "3.00"},
    ]
    body = {"data": whole, "meta": {"total": 2, "total_pages": 1}}
    keep = merge_keys(NAMES, "created_at")

    cut = page_from(1, b"{}", body, NAMES, keep=keep)
    merged, dropped = merge_orders([cut], names=NAMES, date_field="created_at")
    expected, _ = merge_orders([page(1, whole)], names=NAMES, date_field="created_at")

    assert all(set(o) == {"order_id", "created_at", "updated_at"} for o in cut.orders)
    assert [(o["order_id"], o["updated_at"]) for o in merged] == [
        (o["order_id"], o["updated_at"]) for o in expected
    ]
    assert dropped == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ([], "not a JSON object"),
        ({"meta": {"total": 0, "total_pages": 0}}, "'data'"),
        ({"data": []}, "'meta'"),
        ({"data": [], "meta": {"total": "3", "total_pages": 1}}, "meta.total"),
        ({"data": [{"id": 1}], "meta": {"total": 1, "total_pages": 1}}, "order_id"),
    ],
    ids=["list", "no-data", "no-meta", "total-not-int", "entry-without-id"],
)
def test_envelope_problems_are_named(body: Any, fragment: str) -> None:
    problem = envelope_problem(body, NAMES)

    assert problem is not None and fragment in problem


def test_a_good_envelope_has_no_problem() -> None:
    body = {"data": [{"order_id": "x"}], "meta": {"total": 1, "total_pages": 1}, "new": 1}

    assert envelope_problem(body, NAMES) is None


@pytest.mark.parametrize(
    ("totals", "distinct", "holds"),
    [((3, 3), 3, True), ((3, 4), 4, False), ((3, 3), 2, False), ((3, 3), 4, False)],
    ids=["settled", "total-moved", "order-missed", "extra-order"],
)
def test_a_read_holds_only_when_totals_agree_with_distinct_orders(
    totals: tuple[int, int], distinct: int, holds: bool
) -> None:
    pages = [page(n, [], total) for n, total in enumerate(totals, start=1)]

    assert (unsettled_reason(pages, distinct) is None) is holds
