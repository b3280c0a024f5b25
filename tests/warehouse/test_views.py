"""Each analyst view agrees with the sandbox's ground truth, and every view is documented."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from grafterr_pipeline.sandbox import ground_truth
from grafterr_pipeline.sandbox.truth import REVENUE_STATUSES
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.warehouse.catalog import COLUMNS, VIEW_COMMENTS
from tests.warehouse.helpers import CONFIG, DATES, NOW, normalised, sandbox_orders

DOCS = Path(__file__).parents[2] / "docs" / "warehouse.md"
CENT = Decimal("0.01")


@pytest.mark.parametrize("day", DATES, ids=str)
def test_daily_sales_match_the_ground_truth_per_store_and_channel(
    landed: Warehouse, day: dt.date
) -> None:
    truth = ground_truth(CONFIG, day, as_of=NOW)

    rows = landed.query(
        "SELECT store_id, channel, orders, cancelled_orders, items, gross_revenue, refunds, "
        "net_revenue FROM daily_sales WHERE business_date = ? ORDER BY store_id, channel",
        [day],
    ).rows

    expected = [
        (store, channel, t.orders, t.cancelled, t.items, t.gross, t.refunds, t.net)
        for (store, channel), t in truth.per_store_channel.items()
    ]
    assert rows == expected


def test_average_order_value_is_gross_over_revenue_orders(landed: Warehouse) -> None:
    truth = ground_truth(CONFIG, DATES[0], as_of=NOW)
    revenue = [o for o in truth.orders.values() if o["status"] in REVENUE_STATUSES]
    gross = sum(Decimal(o["totals"]["total"]) for o in revenue)

    row = landed.query(
        "SELECT sum(revenue_orders), sum(gross_revenue) FROM daily_sales WHERE business_date = ?",
        [DATES[0]],
    ).rows[0]
    values = landed.query(
        "SELECT gross_revenue / revenue_orders, average_order_value FROM daily_sales "
        "WHERE business_date = ? AND revenue_orders > 0",
        [DATES[0]],
    ).rows

    assert row == (len(revenue), gross)
    assert all(Decimal(ratio).quantize(CENT) == aov for ratio, aov in values)


def _expected_product_sales(day: dt.date) -> list[tuple]:
    sales: dict[tuple, list] = defaultdict(lambda: [set(), 0, Decimal(0)])
    for order in sandbox_orders(day).values():
        if order["status"] not in REVENUE_STATUSES:
            continue
        for line in order["items"]:
            if line["status"] != "voided":
                entry = sales[(order["store"]["store_id"], line["product_id"])]
                entry[0].add(order["order_id"])
                entry[1] += line["quantity"]
                entry[2] += Decimal(line["line_total"])
    return [(*key, len(o), q, r) for key, (o, q, r) in sorted(sales.items())]


@pytest.mark.parametrize("day", DATES, ids=str)
def test_product_sales_match_the_ground_truth(landed: Warehouse, day: dt.date) -> None:
    rows = landed.query(
        "SELECT store_id, product_id, orders, quantity, revenue FROM product_sales "
        "WHERE business_date = ? ORDER BY store_id, product_id",
        [day],
    ).rows

    assert rows == _expected_product_sales(day)


def _expected_payments(day: dt.date) -> list[tuple]:
    totals: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), 0, Decimal(0), 0])
    for order in sandbox_orders(day).values():
        for payment in order["payments"]:
            entry = totals[(order["store"]["store_id"], payment["method"])]
            amount = Decimal(payment["amount"])
            if payment["status"] == "captured":
                entry[0], entry[1] = entry[0] + 1, entry[1] + amount
            elif payment["status"] == "refunded":
                entry[2], entry[3] = entry[2] + 1, entry[3] + amount
            else:
                entry[4] += 1
    return [(*key, *v, v[1] - v[3]) for key, v in sorted(totals.items())]


@pytest.mark.parametrize("day", DATES, ids=str)
def test_payments_by_method_match_the_ground_truth(landed: Warehouse, day: dt.date) -> None:
    rows = landed.query(
        "SELECT store_id, method, captured_payments, captured, refund_payments, refunded, "
        "failed_payments, amount FROM payments_by_method WHERE business_date = ? "
        "ORDER BY store_id, method",
        [day],
    ).rows

    assert rows == _expected_payments(day)


def test_payments_by_method_add_up_to_net_revenue(landed: Warehouse) -> None:
    truth = ground_truth(CONFIG, DATES[1], as_of=NOW)

    amount = landed.query(
        "SELECT sum(amount) FROM payments_by_method WHERE business_date = ?", [DATES[1]]
    ).rows[0][0]

    assert amount == truth.day.net


def test_quarantine_shows_the_broken_orders_with_their_store(tmp_path: Path) -> None:
    day = DATES[0]
    orders = sandbox_orders(day)
    broken_ids = sorted(orders)[:3]
    broken = {
        oid: {**o, "totals": {**o["totals"], "total": "twelve"}}
        for oid, o in orders.items()
        if oid in broken_ids
    }
    warehouse = Warehouse(tmp_path)
    warehouse.land(normalised(day, [*orders.values(), *broken.values()]))
    warehouse.refresh_views()
    truth = ground_truth(CONFIG, day, as_of=NOW)

    rows = warehouse.query(
        "SELECT order_id, store_id, source, reason FROM quarantine ORDER BY order_id"
    ).rows
    landed_orders = warehouse.query("SELECT sum(orders) FROM daily_sales").rows[0][0]

    assert [(r[0], r[1], r[2]) for r in rows] == [
        (oid, broken[oid]["store"]["store_id"], "api") for oid in broken_ids
    ]
    assert all("total" in r[3] for r in rows)
    assert landed_orders == truth.day.orders  # the valid versions of the same ids still win


def test_a_one_day_query_reads_only_that_days_files(landed: Warehouse) -> None:
    plan = landed.query(
        "EXPLAIN ANALYZE SELECT * FROM payments_by_method WHERE business_date = ?", [DATES[1]]
    ).rows[0][1]

    read = [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]
    names = re.findall(r"business_date=(\d{4}-\d{2}-\d{2})", plan)

    assert read == [1, 1]  # payments and orders, one file each
    assert set(names) == {DATES[1].isoformat()}


def test_a_one_day_query_of_daily_sales_reads_the_summary_not_the_base_tables(
    landed: Warehouse,
) -> None:
    plan = landed.query(
        "EXPLAIN ANALYZE SELECT * FROM daily_sales WHERE business_date = ?", [DATES[1]]
    ).rows[0][1]

    read = [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]

    assert read == [1]  # the one month's summary file (a footer per month in general)
    assert "daily_sales/business_month=" in plan
    assert "business_date=" not in plan  # neither orders nor payments is scanned


@pytest.mark.parametrize("view", sorted(COLUMNS), ids=str)
def test_every_view_and_column_carries_its_comment(landed: Warehouse, view: str) -> None:
    comment = landed.query("SELECT comment FROM duckdb_views() WHERE view_name = ?", [view]).rows
    columns = landed.query(
        "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = ?", [view]
    ).rows

    assert comment == [(VIEW_COMMENTS[view],)]
    assert {name for name, _ in columns} == set(COLUMNS[view])
    assert all(text == COLUMNS[view][name] for name, text in columns)


@pytest.mark.parametrize("view", sorted(COLUMNS), ids=str)
def test_the_docs_page_lists_every_column_of_every_view(view: str) -> None:
    page = DOCS.read_text()
    section = page.split(f"### `{view}`", 1)[1].split("\n### ", 1)[0]

    listed = re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)

    assert listed == list(COLUMNS[view])
