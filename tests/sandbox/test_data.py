"""The generated data: deterministic, varied as the brief asks, and obeying the arithmetic."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from grafterr_pipeline.businessdate import business_date_of, zone
from grafterr_pipeline.sandbox.catalogue import STORES
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.sandbox.history import OrderHistory, parse_order_id
from grafterr_pipeline.sandbox.money import ZERO

WEEK = [dt.date(2026, 11, 23) + dt.timedelta(days=n) for n in range(7)]
Order = dict[str, Any]


@pytest.fixture(scope="module")
def week() -> list[OrderHistory]:
    """A week of orders at 12 orders per store per day."""
    return list(OrderBook(7, 12).histories(WEEK))


@pytest.fixture(scope="module")
def bodies(week: list[OrderHistory]) -> list[Order]:
    """Every version of every order of the week."""
    return [version.body for order in week for version in order.versions]


def _money(value: str) -> Decimal:
    return Decimal(value)


def _active(order: Order) -> list[Order]:
    return [line for line in order["items"] if line["status"] == "active"]


def _paid(order: Order, status: str) -> Decimal:
    return sum((_money(p["amount"]) for p in order["payments"] if p["status"] == status), ZERO)


def test_same_seed_and_scale_generate_identical_orders() -> None:
    first = OrderBook(3, 5).day("st_004", dt.date(2026, 3, 29))
    second = OrderBook(3, 5).day("st_004", dt.date(2026, 3, 29))

    assert [o.versions for o in first] == [o.versions for o in second]


def test_another_seed_generates_other_orders() -> None:
    first = OrderBook(3, 5).day("st_004", dt.date(2026, 3, 29))
    second = OrderBook(4, 5).day("st_004", dt.date(2026, 3, 29))

    assert [o.versions for o in first] != [o.versions for o in second]


def test_a_week_of_default_scale_generates_in_under_three_seconds_of_cpu() -> None:
    # CPU time, not wall time: the test machine is shared, and other jobs must not fail this.
    started = time.process_time()

    orders = list(OrderBook(11, 60).histories(WEEK))

    assert len(orders) > 12 * 60 * 7 * 0.8
    assert time.process_time() - started < 3.0


def test_every_money_field_is_a_string_with_two_decimals(bodies: list[Order]) -> None:
    texts = [v for order in bodies for v in order["totals"].values()]
    texts += [p[k] for order in bodies for p in order["payments"] for k in ("amount", "tip")]
    texts += [line[k] for o in bodies for line in o["items"] for k in ("unit_price", "line_total")]

    assert all(isinstance(t, str) and len(t.split(".")[1]) == 2 for t in texts)


def test_line_total_is_quantity_times_price_with_modifiers_less_discount(
    bodies: list[Order],
) -> None:
    for line in (line for order in bodies for line in order["items"]):
        per_unit = _money(line["unit_price"]) + sum(
            (m["quantity"] * _money(m["unit_price"]) for m in line["modifiers"]), ZERO
        )
        expected = line["quantity"] * per_unit - _money(line["discount"])
        assert _money(line["line_total"]) == expected, line


def test_subtotal_is_the_sum_of_active_lines(bodies: list[Order]) -> None:
    for order in bodies:
        active = sum((_money(line["line_total"]) for line in _active(order)), ZERO)
        assert _money(order["totals"]["subtotal"]) == active, order["order_id"]


def test_total_is_subtotal_less_discount_plus_service_charge_and_tip(bodies: list[Order]) -> None:
    for order in bodies:
        t = {k: _money(v) for k, v in order["totals"].items()}
        assert t["total"] == t["subtotal"] - t["discount"] + t["service_charge"] + t["tip"]


def test_captured_less_refunded_payments_equal_total_of_completed_orders(
    bodies: list[Order],
) -> None:
    completed = [o for o in bodies if o["status"] == "completed"]

    assert completed
    for order in completed:
        assert _paid(order, "captured") - _paid(order, "refunded") == _money(
            order["totals"]["total"]
        )


def test_refunded_and_cancelled_paid_orders_net_to_zero(bodies: list[Order]) -> None:
    refunded = [o for o in bodies if o["status"] in ("refunded", "cancelled") and o["payments"]]

    assert refunded
    assert all(_paid(o, "captured") == _paid(o, "refunded") for o in refunded)


def test_partial_refunds_return_less_than_the_total(bodies: list[Order]) -> None:
    partial = [o for o in bodies if o["status"] == "partially_refunded"]

    assert partial
    assert all(ZERO < _paid(o, "refunded") < _money(o["totals"]["total"]) for o in partial)


def test_captured_tips_add_up_to_the_order_tip(bodies: list[Order]) -> None:
    for order in (o for o in bodies if o["status"] == "completed"):
        tips = sum((_money(p["tip"]) for p in order["payments"] if p["status"] == "captured"), ZERO)
        assert tips == _money(order["totals"]["tip"]), order["order_id"]


def _has(predicate: Callable[[Order], bool]) -> Callable[[list[Order]], bool]:
    return lambda orders: any(predicate(o) for o in orders)


VARIETY = {
    "all three channels": lambda os: {o["channel"] for o in os} == {"pos", "web", "selfkiosk"},
    "all four order types": lambda os: len({o["order_type"] for o in os}) == 4,
    "every status": lambda os: len({o["status"] for o in os}) == 5,
    "accented product names": _has(lambda o: any(i["name"] == "Crème brûlée" for i in o["items"])),
    "modifiers": _has(lambda o: any(i["modifiers"] for i in o["items"])),
    "voided lines": _has(lambda o: any(i["status"] == "voided" for i in o["items"])),
    "line discounts": _has(lambda o: any(i["discount"] != "0.00" for i in o["items"])),
    "order discounts": _has(lambda o: o["totals"]["discount"] != "0.00"),
    "service charges": _has(lambda o: o["totals"]["service_charge"] != "0.00"),
    "tips": _has(lambda o: o["totals"]["tip"] != "0.00"),
    "split payments": _has(lambda o: sum(p["status"] == "captured" for p in o["payments"]) > 1),
    "failed payments": _has(lambda o: any(p["status"] == "failed" for p in o["payments"])),
    "customers": _has(lambda o: isinstance(o.get("customer"), dict)),
    "null customers": _has(lambda o: "customer" in o and o["customer"] is None),
    "absent customers": _has(lambda o: "customer" not in o),
    "null covers": _has(lambda o: o["covers"] is None),
    "covers": _has(lambda o: isinstance(o["covers"], int)),
    "null table numbers": _has(lambda o: o["table_number"] is None),
    "millisecond timestamps": _has(lambda o: "." in o["created_at"]),
    "UTC timestamps": _has(lambda o: o["created_at"].endswith("+00:00")),
    "half-hour offset timestamps": _has(lambda o: o["created_at"].endswith("+05:30")),
    "American offsets": _has(lambda o: o["created_at"].endswith("-05:00")),
}


@pytest.mark.parametrize("check", VARIETY.values(), ids=VARIETY.keys())
def test_a_week_of_orders_includes(
    bodies: list[Order], check: Callable[[list[Order]], bool]
) -> None:
    assert check(bodies)


def test_stores_span_london_kolkata_and_the_americas() -> None:
    zones = {store.timezone for store in STORES}

    assert len(STORES) >= 10
    assert {"Europe/London", "Asia/Kolkata", "America/New_York"} <= zones


def test_some_orders_fall_after_midnight_and_after_the_cutoff(week: list[OrderHistory]) -> None:
    cutoff = dt.time(4, 0)
    late = [o for o in week if _local_hour(o) < 6]
    spilled = [o for o in late if _business_date(o, cutoff) > _trading_date(o)]

    assert any(_local_hour(o) < 4 for o in late)
    assert spilled, "no order after the 04:00 cut-off belongs to the next business date"


def test_later_changes_come_hours_to_days_after_creation(week: list[OrderHistory]) -> None:
    changed = [o for o in week if o.versions[-1].body["status"] != "completed"]
    delays = [o.versions[-1].updated_at - o.created_at for o in changed]

    assert min(delays) >= dt.timedelta(hours=1)
    assert max(delays) > dt.timedelta(days=2)


def test_versions_are_ordered_and_the_first_is_the_creation(week: list[OrderHistory]) -> None:
    for order in week:
        stamps = [v.updated_at for v in order.versions]
        assert stamps[0] == order.created_at
        assert stamps == sorted(stamps)


def test_order_ids_name_their_store_and_trading_date(week: list[OrderHistory]) -> None:
    ids = [o.order_id for o in week]

    assert len(set(ids)) == len(ids)
    assert all(parse_order_id(o.order_id)[0] == o.store_id for o in week)  # type: ignore[index]


def _local_hour(order: OrderHistory) -> int:
    return (
        dt.datetime.fromisoformat(order.versions[0].body["created_at"])
        .astimezone(_zone(order))
        .hour
    )


def _zone(order: OrderHistory) -> dt.tzinfo:
    return zone(order.versions[0].body["store"]["timezone"])


def _business_date(order: OrderHistory, cutoff: dt.time) -> dt.date:
    return business_date_of(order.created_at, order.versions[0].body["store"]["timezone"], cutoff)


def _trading_date(order: OrderHistory) -> dt.date:
    return parse_order_id(order.order_id)[1]  # type: ignore[index]


@pytest.mark.parametrize(
    "night", [dt.date(2026, 3, 28), dt.date(2026, 10, 24)], ids=["spring-forward", "fall-back"]
)
def test_late_trade_on_the_night_the_clocks_change_keeps_its_business_dates(night: dt.date) -> None:
    glasgow = OrderBook(7, 60).day("st_007", night)  # trades 16:00 to 04:30 local
    cutoff = dt.time(4, 0)

    after_midnight = [o for o in glasgow if _local_hour(o) < 5]
    dates = {_business_date(o, cutoff) for o in after_midnight}

    assert after_midnight
    assert dates <= {night, night + dt.timedelta(days=1)}
    assert all(
        _business_date(o, cutoff) == night + dt.timedelta(days=_local_hour(o) >= 4)
        for o in after_midnight
    )
