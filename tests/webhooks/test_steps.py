"""The pipeline's webhook steps: stage a date's inbox events, merge them with the pull, report."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from grafterr_pipeline.settings import Settings
from grafterr_pipeline.steps import (
    land_tables,
    merge_with_webhooks,
    read_merged,
    stage_webhook_deltas,
)
from grafterr_pipeline.webhooks import Dating, SqliteInbox, read_delivery
from grafterr_pipeline.webhooks.deltas import read_staged_deltas
from tests.factories import make_order, offline_settings, write_pull
from tests.webhooks.helpers import body, delivery

DAY = dt.date(2026, 11, 30)
PULLED_AT = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return offline_settings(tmp_path)


def _pull(settings: Settings, *orders: dict[str, object]) -> None:
    write_pull(settings.data_dir, DAY, list(orders), pulled_at=PULLED_AT)


def _receive(settings: Settings, *payloads: dict[str, object], at: dt.datetime) -> None:
    with SqliteInbox(settings.inbox_path) as inbox:
        for payload in payloads:
            inbox.record(read_delivery(body(payload), received_at=at, dating=Dating()))


def _winners(settings: Settings) -> dict[str, tuple[str, str]]:
    """The version of each order that lands from what the merge staged."""
    orders = land_tables(settings, DAY).day.tables["orders"].to_pylist()
    return {row["order_id"]: (row["source"], row["status"]) for row in orders}


def _staged(settings: Settings) -> list[tuple[str, str]]:
    return [(c.order["order_id"], c.source) for c in read_merged(settings, DAY)]


def test_late_refund_event_replaces_the_pulled_version(settings: Settings) -> None:
    _pull(settings, make_order(order_id="ord_1"), make_order(order_id="ord_2"))
    refund = delivery(
        "evt_r", kind="updated", order_id="ord_1", status="refunded",
        updated_at="2026-12-03T09:00:00+00:00",
    )  # fmt: skip
    _receive(settings, refund, at=dt.datetime(2026, 12, 3, 9, 0, 2, tzinfo=dt.UTC))

    stage_webhook_deltas(settings, DAY)
    report = merge_with_webhooks(settings, DAY)

    assert _winners(settings) == {"ord_1": ("webhook", "refunded"), "ord_2": ("api", "completed")}
    assert _staged(settings) == [("ord_1", "api"), ("ord_2", "api"), ("ord_1", "webhook")]
    assert report.merged.sources == {"api+webhook": 1, "api": 1}
    assert (report.merged.orders, report.merged.superseded) == (2, 1)
    assert report.sources.disagreement_fields == {"status": 1, "updated_at": 1}
    assert report.sources.lag_max_seconds == 2.0


def test_event_with_the_pulled_updated_at_wins_the_tie(settings: Settings) -> None:
    _pull(settings, make_order(order_id="ord_1", status="open"))
    same_time = delivery("evt_1", kind="updated", order_id="ord_1", status="completed")
    _receive(settings, same_time, at=PULLED_AT)

    stage_webhook_deltas(settings, DAY)
    merge_with_webhooks(settings, DAY)

    assert _winners(settings) == {"ord_1": ("webhook", "completed")}


def test_webhook_only_order_the_pull_missed_is_a_warning_naming_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _pull(settings, make_order(order_id="ord_1"))
    ghost = delivery("evt_g", order_id="ord_ghost")
    _receive(settings, ghost, at=PULLED_AT - dt.timedelta(hours=2))
    caplog.set_level(logging.WARNING, logger="grafterr_pipeline")

    stage_webhook_deltas(settings, DAY)
    report = merge_with_webhooks(settings, DAY)

    assert report.sources.missing_from_pull == ["ord_ghost"]
    assert "ord_ghost" in caplog.text
    assert _winners(settings)["ord_ghost"] == ("webhook", "completed")


def test_staging_snapshots_the_inbox_so_later_events_wait_for_the_next_run(
    settings: Settings,
) -> None:
    _pull(settings, make_order(order_id="ord_1"))
    stage_webhook_deltas(settings, DAY)
    late = delivery("evt_l", kind="updated", order_id="ord_1", status="cancelled",
                    updated_at="2026-12-02T09:00:00+00:00")  # fmt: skip
    _receive(settings, late, at=PULLED_AT)

    merge_with_webhooks(settings, DAY)
    before = _winners(settings)
    stage_webhook_deltas(settings, DAY)
    merge_with_webhooks(settings, DAY)

    assert before == {"ord_1": ("api", "completed")}
    assert _winners(settings) == {"ord_1": ("webhook", "cancelled")}


def test_staged_deltas_keep_quarantined_bodies_byte_for_byte(settings: Settings) -> None:
    before_cutoff = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)  # still 30 November's
    _receive(settings, delivery("evt_1"), at=before_cutoff)
    with SqliteInbox(settings.inbox_path) as inbox:
        inbox.record(read_delivery(b"\xff not json", received_at=before_cutoff, dating=Dating()))

    staged = stage_webhook_deltas(settings, DAY)
    read = read_staged_deltas(settings.data_dir, DAY)

    assert read == staged
    assert [q.raw for q in read.quarantined] == [b"\xff not json"]
    assert read.as_metadata()["quarantined"] == 1


def test_merge_without_staged_deltas_uses_the_pull_alone(settings: Settings) -> None:
    _pull(settings, make_order(order_id="ord_1"))

    report = merge_with_webhooks(settings, DAY)

    assert _winners(settings) == {"ord_1": ("api", "completed")}
    assert report.deltas.events == []


def test_unusable_deliveries_reach_the_warehouse_quarantine_of_their_date(
    settings: Settings,
) -> None:
    _pull(settings, make_order(order_id="ord_1"))
    # Undatable deliveries are dated by their arrival: 02:00 on 1 December is still the 30th.
    arrived = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    with SqliteInbox(settings.inbox_path) as inbox:
        inbox.record(read_delivery(b'{"event_id": "evt_x"', received_at=arrived, dating=Dating()))
        broken = delivery(
            "evt_y", kind="updated", order_id="ord_2", created_at="2026-11-30T12:00:00"
        )
        inbox.record(read_delivery(body(broken), received_at=arrived, dating=Dating()))

    stage_webhook_deltas(settings, DAY)
    merge_with_webhooks(settings, DAY)
    staged = read_staged_deltas(settings.data_dir, DAY)
    landed = land_tables(settings, DAY)

    rows = landed.day.quarantine.to_pylist()
    webhook_rows = [r for r in rows if r["source"] == "webhook"]
    assert len(webhook_rows) == len(staged.quarantined) == 2
    assert all(r["reason"] and r["raw_json"] for r in webhook_rows)
    assert landed.day.tables["orders"]["order_id"].to_pylist() == ["ord_1"]
