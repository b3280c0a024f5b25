"""Rules over an order's whole list of lines or payments hold on the fast path as in the reference.

Each order is staged in both layouts, so both SQL readings' lists go through ``listfacts.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grafterr_pipeline.normalise.values import MAX_INT
from tests.factories import make_order
from tests.normalise.fastcheck import LAYOUTS, Order, assert_bad_order_left_to_python, land, stage


def _second_line(**changes: Any) -> Callable[[Order], None]:
    def change(order: Order) -> None:
        order["items"][1].update(changes)

    return change


def _first(key: str, field: str, value: Any) -> Callable[[Order], None]:
    def change(order: Order) -> None:
        row = order["items"][0]["modifiers"][0] if key == "modifiers" else order[key][0]
        row[field] = value

    return change


def _second_payment(order: Order) -> None:
    order["payments"].append({**copy.deepcopy(order["payments"][0]), "amount": "0.00"})


def _huge_quantities(order: Order) -> None:
    """Five lines of the largest quantity the canonical layout holds (18 digits): over the bound
    in sum, each within it."""
    line = {**order["items"][0], "quantity": 10**18 - 1}
    order["items"] = [{**line, "line_id": f"l_{n}"} for n in range(5)]
    assert MAX_INT < 5 * (10**18 - 1)


@LAYOUTS
@pytest.mark.parametrize(
    ("change", "word"),
    [
        (_second_line(line_id="l_1"), "more than once"),
        (_second_payment, "more than once"),
        (_huge_quantities, "add up to"),
        (_second_line(line_id="l" * 129), "not an identifier"),
        (_first("modifiers", "modifier_id", "m" * 129), "not an identifier"),
        (_first("payments", "payment_id", "p" * 129), "not an identifier"),
        (_first("payments", "paid_at", "2026-02-30T10:00:00+00:00"), "ISO-8601"),
    ],
    ids=[
        "repeated-line-id",
        "repeated-payment-id",
        "quantities-over-the-bound",
        "long-line-id",
        "long-modifier-id",
        "long-payment-id",
        "impossible-paid-at",
    ],
)
def test_orders_breaking_a_rule_of_their_whole_list_are_quarantined(
    tmp_path: Path, layout: Callable[[Order], Order], change: Callable[[Order], None], word: str
) -> None:
    broken = make_order(order_id="ord_bad")
    change(broken)
    path = stage(tmp_path / "staged.jsonl.gz", [layout(broken), layout(make_order())])

    assert_bad_order_left_to_python(path, word)


@LAYOUTS
def test_ids_repeated_only_across_orders_land_through_sql(
    tmp_path: Path, layout: Callable[[Order], Order]
) -> None:
    orders = [layout(make_order(order_id=f"ord_{n}")) for n in range(3)]
    path = stage(tmp_path / "staged.jsonl.gz", orders)

    tables, quarantine, python_lines = land(path)

    assert len(tables["orders"]) == 3
    assert len(tables["order_items"]) == 6
    assert quarantine == []
    assert python_lines == 0


@LAYOUTS
@pytest.mark.parametrize(("status", "items"), [("voided", 2), (None, 3), ("active", 3)], ids=str)
def test_item_count_leaves_out_only_voided_lines(
    tmp_path: Path, layout: Callable[[Order], Order], status: str | None, items: int
) -> None:
    order = make_order()
    _second_line(status=status)(order)
    path = stage(tmp_path / "staged.jsonl.gz", [layout(order)])

    tables, _, python_lines = land(path)

    assert tables["orders"][0]["item_count"] == items
    assert python_lines == 0
