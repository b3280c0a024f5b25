"""Orders become exact, typed rows; anything outside the contract is quarantined, not lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import TABLES, NormaliseOptions, loads, normalise_day
from tests.factories import make_order

DAY = dt.date(2026, 11, 30)
OPTIONS = NormaliseOptions(pii="hash", pii_salt="pepper")


def _day(*orders: Any, options: NormaliseOptions = OPTIONS):
    return normalise_day([Candidate(o) for o in orders], business_date=DAY, options=options)


def test_valid_order_lands_in_all_four_tables_with_exact_money() -> None:
    day = _day(make_order())

    orders = day.tables["orders"].to_pylist()
    assert day.row_counts == {
        "orders": 1,
        "order_items": 2,
        "order_item_modifiers": 1,
        "payments": 1,
        "quarantine": 0,
    }
    assert orders[0]["total"] == Decimal("11.50")
    assert orders[0]["store_id"] == "st_1"
    assert orders[0]["item_count"] == 2  # the voided line does not count
    assert orders[0]["created_at"] == dt.datetime(2026, 11, 30, 19, 42, 11, 123000, dt.UTC)


def test_money_sent_as_a_json_number_keeps_its_decimal_text() -> None:
    order = loads(b'{"x": 0.1}')["x"]

    day = _day(make_order(totals={"total": order, "subtotal": 12}))

    row = day.tables["orders"].to_pylist()[0]
    assert row["total"] == Decimal("0.10")
    assert row["subtotal"] == Decimal("12.00")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"totals": {"total": "1.005"}}, "at most two decimals", id="3-decimals"),
        pytest.param({"totals": {"total": "NaN"}}, "not money", id="nan"),
        pytest.param({"totals": {"total": "1e3"}}, "not money", id="exponent-text"),
        pytest.param({"created_at": "2026-11-30T19:42:11"}, "no UTC offset", id="naive"),
        pytest.param({"order_id": None}, "order_id", id="no-order-id"),
        pytest.param({"items": [{"line_id": "a", "quantity": -1}]}, "below 0", id="neg-qty"),
        pytest.param(
            {"items": [{"line_id": "a", "quantity": 1}, {"line_id": "a", "quantity": 1}]},
            "more than once",
            id="dup-line",
        ),
        pytest.param({"store": {"store_id": "s", "timezone": "Nowhere"}}, "IANA", id="bad-zone"),
    ],
)
def test_order_outside_the_contract_is_quarantined_with_its_reason(
    change: dict[str, Any], reason: str
) -> None:
    day = _day(make_order(**change), make_order(order_id="ord_ok"))

    quarantined = day.quarantine.to_pylist()
    assert [r["order_id"] for r in day.tables["orders"].to_pylist()] == ["ord_ok"]
    assert len(quarantined) == 1
    assert reason in quarantined[0]["reason"]
    assert quarantined[0]["business_date"] == DAY


def test_unknown_fields_are_kept_as_json_not_dropped() -> None:
    order = make_order(loyalty={"points": 3})
    order["items"][0]["allergens"] = ["milk"]

    day = _day(order)

    assert '"loyalty":{"points":3}' in day.tables["orders"]["extra_json"][0].as_py()
    assert "allergens" in day.tables["order_items"]["extra_json"][0].as_py()


def test_integer_ids_become_strings() -> None:
    day = _day(make_order(order_id=12345678901234567890))

    assert day.tables["orders"]["order_id"].to_pylist() == ["12345678901234567890"]


@pytest.mark.parametrize(
    ("pii", "kept"),
    [
        pytest.param("hash", {"customer_email_sha256"}, id="hash"),
        pytest.param(
            "keep",
            {"customer_email_sha256", "customer_name", "customer_email", "customer_phone"},
            id="keep",
        ),
        pytest.param("drop", set(), id="drop"),
    ],
)
def test_privacy_mode_decides_which_customer_fields_are_stored(pii: str, kept: set[str]) -> None:
    day = _day(make_order(), options=NormaliseOptions(pii=pii, pii_salt="pepper"))

    row = day.tables["orders"].to_pylist()[0]
    personal = {"customer_email_sha256", "customer_name", "customer_email", "customer_phone"}
    assert {name for name in personal if row[name] is not None} == kept
    assert row["customer_id"] == "c_1"
    assert "pepper" not in str(row)


def test_email_hash_ignores_case_so_repeat_customers_match() -> None:
    upper = make_order(customer={"customer_id": "c", "email": "A@B.COM"})
    lower = make_order(order_id="ord_2", customer={"customer_id": "c", "email": "a@b.com"})

    hashes = _day(upper, lower).tables["orders"]["customer_email_sha256"].to_pylist()

    assert hashes[0] == hashes[1]


def test_latest_updated_at_wins_and_other_dates_are_left_out() -> None:
    old = make_order(status="completed")
    new = make_order(status="refunded", updated_at="2026-12-02T10:00:00+00:00")
    tomorrow = make_order(order_id="ord_next", created_at="2026-12-01T12:00:00+00:00")

    day = _day(new, old, tomorrow)

    assert day.tables["orders"]["status"].to_pylist() == ["refunded"]


def test_empty_day_has_every_table_with_its_full_schema() -> None:
    day = _day()

    for name, schema in TABLES.items():
        assert day.tables[name].num_rows == 0
        assert day.tables[name].schema.equals(schema)
    assert not any(pa.types.is_null(f.type) for s in TABLES.values() for f in s)
