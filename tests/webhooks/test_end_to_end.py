"""Sandbox webhooks, duplicated and out of order, through the receiver into the warehouse.

The API is pulled the morning after the business date closes (``PULLED``); the refunds and
cancellations that come days later (``FINAL``) reach the pipeline only as webhook events. After
one run, every order of the date must be in its final state, as the sandbox's ground truth says.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance

from grafterr_pipeline.cli.run import materialise_dates
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, ground_truth
from grafterr_pipeline.sandbox.webhooks import DeliveryReport, deliver_events
from grafterr_pipeline.settings import Secret, WebhookSettings
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.webhooks import WebhookServer
from tests.webhooks.helpers import TOKEN, rows

pytestmark = pytest.mark.slow

DAY = dt.date(2026, 11, 17)
PULLED = dt.datetime(2026, 11, 18, 6, 0, tzinfo=dt.UTC)
FINAL = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
EVENTS_FROM = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)
API = SandboxConfig(seed=7, scale=4, now=PULLED)


@dataclass(frozen=True)
class Landed:
    warehouse: Warehouse
    report: DeliveryReport
    inbox: Path
    success: bool
    log: str


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    root = tmp_path_factory.mktemp("data")
    inbox = root / "inbox" / "webhooks.sqlite3"
    settings = WebhookSettings(token=Secret(TOKEN), inbox_path=inbox)
    with WebhookServer(settings) as receiver:
        sender = API.with_changes(
            now=FINAL,
            webhook_url=receiver.url_for(TOKEN),
            webhook_rate=10_000.0,
            webhook_duplicates=0.3,
            webhook_out_of_order=0.3,
        )
        report = deliver_events(sender, EVENTS_FROM, FINAL)
    handler = _Capture()
    logging.getLogger("grafterr_pipeline").addHandler(handler)
    try:
        success = _run_pipeline(root)
    finally:
        logging.getLogger("grafterr_pipeline").removeHandler(handler)
    return Landed(Warehouse(root), report, inbox, success, "\n".join(handler.lines))


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _run_pipeline(root: Path) -> bool:
    with pytest.MonkeyPatch.context() as env, SandboxServer(API) as api:
        env.setenv("GRAFTERR_BASE_URL", api.base_url)
        env.setenv("GRAFTERR_CLIENT_ID", API.client_id)
        env.setenv("GRAFTERR_CLIENT_SECRET", API.client_secret)
        env.setenv("GRAFTERR_API_KEY", API.api_key)
        env.setenv("GRAFTERR_DATA_DIR", str(root))
        env.setenv("GRAFTERR_PII_SALT", "test-salt")
        env.delenv("GRAFTERR_WEBHOOK_INBOX", raising=False)
        with DagsterInstance.ephemeral() as instance:
            (result,) = materialise_dates([DAY], instance=instance)
    return result.success


def test_sandbox_delivered_every_event_with_repeats_and_out_of_order(landed: Landed) -> None:
    repeats = rows(landed.inbox, "SELECT sum(deliveries) - count(*) FROM events")[0][0]
    arrival = [r[0] for r in rows(landed.inbox, "SELECT updated_at FROM events ORDER BY seq")]

    assert landed.report.failed == []
    assert repeats > 0
    assert arrival != sorted(arrival, key=dt.datetime.fromisoformat)
    assert landed.success


def test_the_pull_alone_would_be_stale_for_this_date() -> None:
    at_pull = ground_truth(API, DAY, as_of=PULLED)
    final = ground_truth(API, DAY, as_of=FINAL)

    changed = [k for k, order in final.orders.items() if at_pull.orders.get(k) != order]

    assert changed, "no order changes after the pull: the test would prove nothing"


def test_every_order_lands_in_its_final_state(landed: Landed) -> None:
    truth = ground_truth(API, DAY, as_of=FINAL)

    found = landed.warehouse.query(
        "SELECT order_id, status, CAST(total AS VARCHAR), updated_at, payment_count "
        "FROM orders WHERE business_date = ? ORDER BY order_id",
        [DAY],
    ).rows

    expected = [
        (
            order_id,
            order["status"],
            order["totals"]["total"],
            dt.datetime.fromisoformat(order["updated_at"]).astimezone(dt.UTC),
            len(order["payments"]),
        )
        for order_id, order in sorted(truth.orders.items())
    ]
    assert [(*r[:3], _utc(r[3]), r[4]) for r in found] == expected


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def test_daily_sales_match_the_final_ground_truth_to_the_penny(landed: Landed) -> None:
    truth = ground_truth(API, DAY, as_of=FINAL)

    result = landed.warehouse.query(
        "SELECT channel, sum(orders), sum(cancelled_orders), sum(items), sum(gross_revenue), "
        "sum(refunds), sum(net_revenue) FROM daily_sales WHERE business_date = ? "
        "GROUP BY channel ORDER BY channel",
        [DAY],
    )

    expected = [
        (ch, t.orders, t.cancelled, t.items, t.gross, t.refunds, t.net)
        for ch, t in sorted(truth.per_channel.items())
    ]
    assert [tuple(r) for r in result.rows] == expected


def test_every_table_has_the_rows_of_the_final_state(landed: Landed) -> None:
    truth = ground_truth(API, DAY, as_of=FINAL)

    counts = {
        table: landed.warehouse.query(
            f"SELECT count(*) FROM {table} WHERE business_date = ?", [DAY]
        ).rows[0][0]
        for table in truth.rows
    }

    assert counts == dict(truth.rows)
    assert "missing from" not in landed.log
