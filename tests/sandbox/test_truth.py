"""Ground truth agrees with what the sandbox serves and with its own definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from grafterr_pipeline.businessdate import business_date_of, pull_window
from grafterr_pipeline.sandbox import GroundTruth, Tally, ground_truth
from tests.sandbox.conftest import NOW, SMALL
from tests.sandbox.helpers import Caller

DATE = dt.date(2026, 11, 27)


@pytest.fixture(scope="module")
def truth() -> GroundTruth:
    """The truth of a Friday, seen from the sandbox clock the following Tuesday."""
    return ground_truth(SMALL, DATE)


def test_truth_holds_exactly_the_orders_the_api_serves_for_that_business_date(
    caller: Caller, truth: GroundTruth
) -> None:
    start, end = pull_window(DATE, dt.time(4, 0))
    window = {"from": start.isoformat(), "to": end.isoformat(), "page_size": 200}

    served = {
        o["order_id"]: o
        for o in caller.all_orders(**window)
        if business_date_of(
            dt.datetime.fromisoformat(o["created_at"]), o["store"]["timezone"], dt.time(4, 0)
        )
        == DATE
    }

    assert served == dict(truth.orders)


def test_the_day_is_the_sum_of_its_stores_and_channels(truth: GroundTruth) -> None:
    summed = sum(truth.per_store_channel.values(), Tally())

    assert summed == truth.day == sum(truth.per_channel.values(), Tally())
    assert truth.day == sum(truth.per_currency.values(), Tally())


def test_every_store_and_channel_pair_with_orders_is_tallied(truth: GroundTruth) -> None:
    pairs = {(o["store"]["store_id"], o["channel"]) for o in truth.orders.values()}

    assert set(truth.per_store_channel) == pairs
    assert len({store for store, _ in pairs}) == 12


def test_net_revenue_is_captured_less_refunded_payments_of_revenue_orders(
    truth: GroundTruth,
) -> None:
    def paid(status: str) -> Decimal:
        return sum(
            (
                Decimal(p["amount"])
                for o in truth.orders.values()
                if o["status"] not in ("cancelled", "open")
                for p in o["payments"]
                if p["status"] == status
            ),
            Decimal(0),
        )

    assert truth.day.net == paid("captured") - paid("refunded")
    assert truth.day.refunds > 0


def test_counts_follow_their_definitions(truth: GroundTruth) -> None:
    orders = list(truth.orders.values())

    assert truth.day.orders == truth.rows["orders"] == len(orders)
    assert truth.day.cancelled == sum(o["status"] == "cancelled" for o in orders) > 0
    assert truth.day.items == sum(
        line["quantity"] for o in orders for line in o["items"] if line["status"] == "active"
    )
    assert truth.rows["payments"] == sum(len(o["payments"]) for o in orders)


def test_truth_as_of_an_earlier_instant_sees_fewer_changes() -> None:
    early = ground_truth(SMALL, DATE, as_of=dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC))
    late = ground_truth(SMALL, DATE, as_of=NOW)

    assert early.day.orders == late.day.orders
    assert early.day.refunds < late.day.refunds


def test_a_later_cutoff_moves_early_orders_to_the_day_before() -> None:
    default = ground_truth(SMALL, DATE)
    late_cutoff = ground_truth(SMALL, DATE, cutoff=dt.time(9, 0))

    assert set(default.orders) != set(late_cutoff.orders)
