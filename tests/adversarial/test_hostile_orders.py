"""Hostile orders, through the real pull, merge and landing, each with its exact outcome.

One page of hand-made orders is served over loopback, pulled by the client, archived, merged and
landed. Every order ends in exactly one place: landed (with its value coerced as stated), or in
the quarantine with a reason naming the field. Nothing crashes the day and nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from grafterr_pipeline import steps
from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.warehouse import Warehouse
from tests.adversarial.hostile import Answer, hostile_server, settings_for
from tests.factories import make_order

pytestmark = pytest.mark.slow

# The night the clocks go back in London: 01:00 to 02:00 happens twice on 25 October 2026.
DAY = dt.date(2026, 10, 24)
CREATED = "2026-10-24T19:00:00+01:00"
HOSTILE_TEXT = "🍔 \"Big\" O'Brien \\ ../../x '); DROP TABLE orders; --"
_RAW = "@@raw@@"


def raw(number: str) -> str:
    """A JSON number literal, written as is (``json`` would quote it as a string)."""
    return f"{_RAW}{number}{_RAW}"


def order(order_id: Any, **changes: Any) -> dict[str, Any]:
    base = make_order(order_id=order_id, created_at=CREATED, updated_at=CREATED)
    base["payments"][0]["paid_at"] = CREATED
    for path, value in changes.items():
        target = base
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[leaf] = value
    return base


def lines(count: int) -> list[dict[str, Any]]:
    line = make_order()["items"][0]
    return [{**line, "line_id": f"l_{n}", "quantity": 1, "modifiers": []} for n in range(count)]


# order_id -> the field the reason must name, and words it must say.
QUARANTINED: dict[str, tuple[Any, str]] = {
    "money-three-decimals": (order("q1", totals__total="11.505"), "totals.total: '11.505'"),
    "money-1e3-text": (order("q2", totals__total="1e3"), "totals.total: '1e3'"),
    "money-nan-text": (order("q3", totals__total="NaN"), "totals.total: 'NaN'"),
    "money-nan-literal": (order("q4", totals__total=raw("NaN")), "totals.total"),
    "money-float-three-decimals": (order("q5", totals__total=raw("11.505")), "totals.total"),
    "quantity-minus-one": (order("q6", items__0__quantity=-1), "items[0].quantity: -1"),
    "timestamp-without-offset": (order("q7", created_at="2026-10-24T19:00:00"), "no UTC offset"),
    "timestamp-year-9999": (order("q8", created_at="9999-12-31T23:00:00-05:00"), "created_at"),
    "timestamp-year-1": (order("q9", created_at="0001-01-01T01:00:00+00:00"), "created_at"),
    "half-an-emoji": (order("q10", items__0__name="\ud83c burger"), "items[0].name"),
}
LANDED: dict[str, dict[str, Any]] = {
    "money-float-literal": order("m1", totals__total=raw("11.5")),
    "money-1e3-literal": order("m2", totals__total=raw("1e3")),
    "id-20-digits": order(
        raw("12345678901234567890"), items__0__line_id=raw("98765432109876543210")
    ),
    "id-number": order(raw("4242"), store__store_id=raw("14")),
    "id-string": order("ord_4243"),
    "timestamp-z": order("t1", created_at="2026-10-24T18:00:00Z"),
    "timestamp-ist": order(
        "t2", created_at="2026-10-24T23:30:00+05:30",
        store={"store_id": "st_mum", "name": "Mumbai", "timezone": "Asia/Kolkata"},
    ),
    "clocks-back-first": order("t3", created_at="2026-10-25T01:30:00+01:00"),
    "clocks-back-second": order("t4", created_at="2026-10-25T01:30:00+00:00"),
    "lines-5000": order("big", items=lines(5000)),
    "hostile-names": order(
        "names", items__0__name=HOSTILE_TEXT, items__0__category="\\\\",
        store={"store_id": "../../etc", "name": HOSTILE_TEXT, "timezone": "Europe/London"},
    ),
}  # fmt: skip
# The same order seen twice, its id a number the first time and a string the second.
TWICE = [order(raw("5150")), order("5150", status="refunded", updated_at="2026-10-24T20:00:00Z")]


def page_body(orders: list[dict[str, Any]]) -> bytes:
    text = json.dumps({"data": orders}, ensure_ascii=True)
    text = re.sub(f'"{_RAW}(.*?){_RAW}"', r"\1", text)
    distinct = {str(json.loads(text)["data"][n]["order_id"]) for n in range(len(orders))}
    meta = (
        f', "meta": {{"page": 1, "page_size": 200, "total": {len(distinct)}, "total_pages": 1}}}}'
    )
    return (text[:-1] + meta).encode("ascii")


@dataclass(frozen=True)
class Landed:
    warehouse: Warehouse
    root: Path
    quarantine: dict[str | None, str]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    root = tmp_path_factory.mktemp("hostile") / "a" / "data"
    body = page_body([o for o, _ in QUARANTINED.values()] + list(LANDED.values()) + TWICE)
    with hostile_server(lambda _n, _p: Answer(200, body)) as server:
        settings = settings_for(server.base_url, root)
        with GrafterrClient(settings, max_workers=1) as client:
            steps.pull_raw(settings, client, DAY)
    steps.merge_orders(settings, DAY)
    steps.land_tables(settings, DAY)
    warehouse = Warehouse(root)
    warehouse.refresh_views()

    rows = warehouse.query("SELECT order_id, reason FROM quarantine").rows
    return Landed(warehouse, root, dict(rows))


def one(landed: Landed, sql: str, *params: Any) -> Any:
    rows = landed.warehouse.query(sql, list(params)).rows
    assert len(rows) == 1, rows
    return rows[0][0] if len(rows[0]) == 1 else rows[0]


@pytest.mark.parametrize("case", QUARANTINED, ids=str)
def test_a_hostile_value_quarantines_its_order_with_a_reason(landed: Landed, case: str) -> None:
    bad, reason = QUARANTINED[case]

    assert reason in landed.quarantine[bad["order_id"]]
    assert one(landed, "SELECT count(*) FROM orders WHERE order_id = ?", bad["order_id"]) == 0


def test_every_order_served_is_either_landed_or_quarantined(landed: Landed) -> None:
    served = {str(o["order_id"]).replace(_RAW, "") for o in [*LANDED.values(), *TWICE]}

    ids = {r[0] for r in landed.warehouse.query("SELECT order_id FROM orders").rows}

    assert ids == served
    assert set(landed.quarantine) == {o["order_id"] for o, _ in QUARANTINED.values()}


@pytest.mark.parametrize(
    ("order_id", "total"),
    [("m1", Decimal("11.50")), ("m2", Decimal("1000.00")), ("ord_4243", Decimal("11.50"))],
    ids=["float-literal", "1e3-literal", "string-money"],
)
def test_money_as_a_number_is_coerced_exactly(
    landed: Landed, order_id: str, total: Decimal
) -> None:
    assert one(landed, "SELECT total FROM orders WHERE order_id = ?", order_id) == total


def test_integer_ids_become_their_exact_decimal_text(landed: Landed) -> None:
    line = "SELECT line_id FROM order_items WHERE order_id = ? AND line_number = 1"

    assert one(landed, line, "12345678901234567890") == "98765432109876543210"
    assert one(landed, "SELECT store_id FROM orders WHERE order_id = ?", "4242") == "14"


def test_an_id_seen_as_number_then_string_is_one_order_in_its_latest_version(
    landed: Landed,
) -> None:
    assert one(landed, "SELECT status FROM orders WHERE order_id = ?", "5150") == "refunded"


@pytest.mark.parametrize(
    ("order_id", "utc"),
    [
        ("t1", "2026-10-24 18:00:00"),
        ("t2", "2026-10-24 18:00:00"),
        ("t3", "2026-10-25 00:30:00"),
        ("t4", "2026-10-25 01:30:00"),
    ],
    ids=["z", "plus-05-30", "clocks-back-first-01-30", "clocks-back-second-01-30"],
)
def test_offsets_are_honoured_and_land_in_the_stores_business_date(
    landed: Landed, order_id: str, utc: str
) -> None:
    sql = "SELECT business_date, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') "
    row = one(landed, sql + "FROM orders WHERE order_id = ?", order_id)

    assert row == (DAY, utc)


def test_an_order_of_5000_lines_lands_whole(landed: Landed) -> None:
    counted = one(
        landed,
        "SELECT count(*), min(o.line_count), min(o.item_count) FROM order_items "
        "JOIN orders AS o USING (order_id) WHERE order_id = 'big'",
    )

    assert counted == (5000, 5000, 5000)


def test_hostile_names_land_verbatim_and_stay_data(landed: Landed) -> None:
    store = one(landed, "SELECT store_id, store_name FROM orders WHERE order_id = 'names'")
    product = one(landed, "SELECT product_name FROM product_sales WHERE store_id = '../../etc'")

    assert store == ("../../etc", HOSTILE_TEXT)
    assert product == HOSTILE_TEXT
    assert one(landed, "SELECT count(*) FROM daily_sales WHERE store_id = '../../etc'") == 1


def test_no_file_is_written_outside_the_data_root(landed: Landed) -> None:
    outside = [
        p for p in landed.root.parent.parent.rglob("*") if landed.root not in (p, *p.parents)
    ]

    assert outside == [landed.root.parent]
    assert not any("etc" in part for p in landed.root.rglob("*") for part in p.parts[-3:])
