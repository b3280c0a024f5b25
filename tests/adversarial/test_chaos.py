"""Chaos, end to end: every fault at once, and a week lands exactly as if nothing went wrong.

A fault-free sandbox and a chaotic one serve the same seed. The chaotic one fails a tenth of
requests with 500 or 504, throttles with 429s (a third of the week with each ``Retry-After``
form), resets connections, cuts bodies short, issues tokens that live 5 seconds and moves orders
between pages while they are read. Both also post the week's webhooks to a receiver on loopback
before the runs: once each and in order for the calm one, a third of them twice and a third late
for the chaotic one. Both weeks run through Dagster; the warehouses must be equal row for row
(the ``source`` of every order included), and equal to the sandbox's ground truth.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from grafterr_pipeline.cli.run import materialise_dates
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, ground_truth
from grafterr_pipeline.sandbox.environment import pipeline_environment
from grafterr_pipeline.sandbox.webhooks import DeliveryReport, deliver_events
from grafterr_pipeline.settings import Secret, WebhookSettings, default_inbox_path
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.webhooks import WebhookServer
from tests.webhooks.helpers import TOKEN, rows

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
WEEK = [dt.date(2026, 11, 16) + dt.timedelta(days=n) for n in range(7)]
# Liberties are decided per order id, so both runs see the same bodies; only faults differ.
CALM = SandboxConfig(
    seed=23, scale=3, now=NOW, money_as_numbers=0.3, extra_fields=0.3, absent_optional=0.3
)
CHAOS = CALM.with_changes(
    fail_500=0.05, fail_504=0.05, delay_504=0.01, reset_share=0.03, truncate_share=0.03,
    token_ttl=5.0, drift_share=0.2, drift_pages=3, rate_limit=15.0, burst=3,
    webhook_duplicates=0.3, webhook_out_of_order=0.3,
)  # fmt: skip
# Before the first order of the week anywhere (Asia/Kolkata opens first, at UTC+05:30).
EVENTS_FROM = dt.datetime(2026, 11, 15, 22, 0, tzinfo=dt.UTC)
# Each Retry-After form throttles part of the week.
STYLES = {"seconds": WEEK[:3], "http-date": WEEK[3:5], "none": WEEK[5:]}
TABLES = ["orders", "order_items", "order_item_modifiers", "payments"]


@dataclass(frozen=True)
class Week:
    warehouse: Warehouse
    succeeded: list[bool]
    retries: Counter[str]
    rereads: int
    webhooks: DeliveryReport
    inbox: Path


def deliver_webhooks(root: Path, sender: SandboxConfig) -> DeliveryReport:
    """Post every event up to NOW to a receiver whose inbox is the one the runs will read."""
    settings = WebhookSettings(token=Secret(TOKEN), inbox_path=default_inbox_path(root))
    with WebhookServer(settings) as receiver:
        config = sender.with_changes(webhook_url=receiver.url_for(TOKEN), webhook_rate=10_000.0)
        return deliver_events(config, EVENTS_FROM, NOW)


def run_week(root: Path, plan: dict[SandboxConfig, list[dt.date]], *, told: float) -> Week:
    webhooks = deliver_webhooks(root, next(iter(plan)))
    succeeded: list[bool] = []
    retries: Counter[str] = Counter()
    rereads = 0
    with DagsterInstance.ephemeral() as instance:
        for config, dates in plan.items():
            with pytest.MonkeyPatch.context() as env, SandboxServer(config) as server:
                variables = pipeline_environment(
                    config, server.base_url, data_dir=str(root), rate_limit=told
                )
                for name, value in {**variables, "GRAFTERR_PII_SALT": "chaos-salt"}.items():
                    env.setenv(name, value)
                env.setenv("GRAFTERR_PAGE_SIZE", "10")
                env.delenv("GRAFTERR_WEBHOOK_INBOX", raising=False)
                succeeded += [day.success for day in materialise_dates(dates, instance=instance)]
        raw = instance.fetch_materializations(AssetKey("raw_orders"), limit=len(WEEK))
        for record in raw.records:
            metadata = record.asset_materialization.metadata
            rereads += metadata["rereads"].value
            for part in str(metadata["retries_by_status"].value).split(", "):
                if part != "none":
                    cause, count = part.split(": ")
                    retries[cause] += int(count)
    return Week(Warehouse(root), succeeded, retries, rereads, webhooks, default_inbox_path(root))


@pytest.fixture(scope="module")
def calm(tmp_path_factory: pytest.TempPathFactory) -> Week:
    return run_week(tmp_path_factory.mktemp("calm"), {CALM: WEEK}, told=200.0)


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Week:
    plan = {CHAOS.with_changes(retry_after=style): dates for style, dates in STYLES.items()}
    # Told twice the real limit, so the client meets the 429s and must back off.
    return run_week(tmp_path_factory.mktemp("chaos"), plan, told=2 * CHAOS.rate_limit)


def test_every_date_of_the_week_lands_despite_the_chaos(chaos: Week, calm: Week) -> None:
    assert chaos.succeeded == [True] * len(WEEK)
    assert calm.succeeded == [True] * len(WEEK)


def test_the_chaos_really_happened(chaos: Week) -> None:
    assert {"500", "504", "429"} <= set(chaos.retries)
    assert set(chaos.retries) & {"connection", "truncated", "malformed"}
    assert chaos.rereads >= 1


def _arrival(week: Week) -> tuple[int, list[str]]:
    repeats = rows(week.inbox, "SELECT sum(deliveries) - count(*) FROM events")[0][0]
    updates = [r[0] for r in rows(week.inbox, "SELECT updated_at FROM events ORDER BY seq")]
    return repeats, updates


def test_the_webhooks_came_duplicated_and_out_of_order_only_in_the_chaos(
    chaos: Week, calm: Week
) -> None:
    chaos_repeats, chaos_updates = _arrival(chaos)
    calm_repeats, calm_updates = _arrival(calm)
    sources = chaos.warehouse.query("SELECT DISTINCT source FROM orders").rows

    assert chaos.webhooks.failed == calm.webhooks.failed == []
    assert sorted(chaos_updates) == sorted(calm_updates) != []
    assert chaos_repeats > 0
    assert chaos_updates != sorted(chaos_updates, key=dt.datetime.fromisoformat)
    assert calm_repeats == 0
    assert any("webhook" in source for (source,) in sources), sources


@pytest.mark.parametrize("table", [*TABLES, "quarantine"])
def test_the_chaotic_warehouse_equals_the_calm_one_row_for_row(
    chaos: Week, calm: Week, table: str
) -> None:
    sql = f"SELECT * EXCLUDE (business_date), business_date FROM {table} ORDER BY ALL"

    rows = chaos.warehouse.query(sql).rows

    assert rows == calm.warehouse.query(sql).rows
    assert (len(rows) > 0) is (table != "quarantine")


@pytest.mark.parametrize("day", WEEK, ids=str)
def test_the_chaotic_warehouse_equals_the_ground_truth(chaos: Week, day: dt.date) -> None:
    truth = ground_truth(CALM, day, as_of=NOW)
    query = chaos.warehouse.query

    ids = [r[0] for r in query("SELECT order_id FROM orders WHERE business_date = ?", [day]).rows]
    counts = {
        t: query(f"SELECT count(*) FROM {t} WHERE business_date = ?", [day]).rows[0][0]
        for t in truth.rows
    }
    sales = query(
        "SELECT channel, sum(orders), sum(cancelled_orders), sum(items), sum(gross_revenue), "
        "sum(refunds), sum(net_revenue) FROM daily_sales WHERE business_date = ? "
        "GROUP BY channel ORDER BY channel",
        [day],
    ).rows

    assert sorted(ids) == sorted(truth.orders)
    assert counts == dict(truth.rows)
    assert sales == [
        (ch, t.orders, t.cancelled, t.items, t.gross, t.refunds, t.net)
        for ch, t in sorted(truth.per_channel.items())
    ]
