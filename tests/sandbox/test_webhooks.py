"""Webhook deliveries of the six order events, with duplicates, disorder, retries and pacing."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.sandbox.webhooks import deliver_events
from tests.sandbox.conftest import NOW, SMALL
from tests.sandbox.receiver import Receiver, receiving

START = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)
WHOLE_DAY = (dt.datetime(2026, 11, 27, tzinfo=dt.UTC), dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
FAST = SMALL.with_changes(webhook_rate=1000.0, webhook_backoff=0.0)


def _deliver(
    receiver: Receiver, window: tuple[dt.datetime, dt.datetime] = (START, END), **knobs: Any
) -> Any:
    config = FAST.with_changes(webhook_url=receiver.url, **knobs)
    return deliver_events(config, *window, sleep=lambda _: None)


@pytest.fixture(scope="module")
def plain() -> Iterator[Receiver]:
    """What a receiver got from a well-behaved delivery of a whole day."""
    with receiving() as receiver:
        _deliver(receiver, WHOLE_DAY)
        yield receiver


def test_every_order_version_in_the_window_is_delivered_once(plain: Receiver) -> None:
    versions = OrderBook.from_config(SMALL).versions_between(*WHOLE_DAY)

    delivered = [(b["data"]["order_id"], b["data"]["updated_at"]) for b in plain.bodies]

    assert sorted(delivered) == sorted((o.order_id, v.body["updated_at"]) for o, _, v in versions)
    assert len({b["event_id"] for b in plain.bodies}) == len(plain.bodies)


def test_the_six_event_types_name_the_channel_and_whether_the_order_is_new(
    plain: Receiver,
) -> None:
    types = {b["event_type"] for b in plain.bodies}

    assert types == {f"{c}_order_{k}" for c in ("pos", "web", "selfkiosk")
                     for k in ("created", "updated")}  # fmt: skip
    for body in plain.bodies:
        created = body["data"]["created_at"] == body["data"]["updated_at"]
        assert body["event_type"] == f"{body['data']['channel']}_order_" + (
            "created" if created else "updated"
        )


def test_an_event_carries_its_id_type_time_and_order(plain: Receiver) -> None:
    body = plain.bodies[0]

    occurred = dt.datetime.fromisoformat(body["occurred_at"])
    assert set(body) == {"event_id", "event_type", "occurred_at", "data"}
    assert body["event_id"].startswith("evt_")
    assert occurred > dt.datetime.fromisoformat(body["data"]["updated_at"])


def test_events_come_in_time_order_when_nothing_is_out_of_order(plain: Receiver) -> None:
    times = [dt.datetime.fromisoformat(b["occurred_at"]) for b in plain.bodies]

    assert times == sorted(times)


def test_a_duplicate_share_delivers_some_events_twice_with_the_same_body() -> None:
    with receiving() as receiver:
        _deliver(receiver, webhook_duplicates=0.3)

    ids = [b["event_id"] for b in receiver.bodies]
    twice = {i for i in ids if ids.count(i) > 1}
    assert twice
    for event_id in twice:
        copies = [b for b in receiver.bodies if b["event_id"] == event_id]
        assert all(copy == copies[0] for copy in copies)


def test_out_of_order_deliveries_bring_an_update_before_its_create() -> None:
    with receiving() as receiver:
        _deliver(receiver, webhook_out_of_order=1.0)

    first_seen: dict[str, str] = {}
    for body in receiver.bodies:
        first_seen.setdefault(body["data"]["order_id"], body["event_type"])
    both = {b["data"]["order_id"] for b in receiver.bodies if b["event_type"].endswith("updated")}
    assert any(first_seen[o].endswith("updated") for o in both)


def test_a_receiver_that_fails_gets_the_event_again_after_a_doubling_backoff() -> None:
    waits: list[float] = []
    with receiving(answers=[500, 503]) as receiver:
        config = SMALL.with_changes(webhook_url=receiver.url, webhook_rate=1000.0)
        report = deliver_events(config, START, START + dt.timedelta(minutes=30), sleep=waits.append)

    first = receiver.bodies[0]["event_id"]
    assert [b["event_id"] for b in receiver.bodies[:3]] == [first] * 3
    assert [w for w in waits if w >= 0.1] == [0.5, 1.0]
    assert report.attempts == len(receiver.bodies) == len(report.delivered) + 2


def test_an_event_is_given_up_after_the_maximum_attempts() -> None:
    with receiving(answers=[500] * 1000) as receiver:
        config = FAST.with_changes(webhook_url=receiver.url, webhook_max_attempts=3)
        report = deliver_events(
            config, START, START + dt.timedelta(minutes=30), sleep=lambda _: None
        )

    assert report.delivered == []
    assert report.failed
    assert len(receiver.bodies) == 3 * len(report.failed)


def test_deliveries_are_paced_at_the_configured_rate() -> None:
    with receiving() as receiver:
        config = SMALL.with_changes(webhook_url=receiver.url, webhook_rate=25.0)
        started = time.perf_counter()
        report = deliver_events(config, START, START + dt.timedelta(minutes=40))

    elapsed = time.perf_counter() - started
    assert len(report.delivered) >= 5
    assert elapsed >= (len(report.delivered) - 1) / 25.0


def test_a_running_sandbox_delivers_events_since_the_configured_instant() -> None:
    with receiving() as receiver:
        config = FAST.with_changes(
            webhook_url=receiver.url, webhook_since=NOW - dt.timedelta(minutes=90)
        )
        with SandboxServer(config):
            deadline = time.monotonic() + 5
            while not receiver.bodies and time.monotonic() < deadline:
                time.sleep(0.05)

    assert receiver.bodies
    assert all(b["occurred_at"] >= "2026-12-01T10:30" for b in receiver.bodies)


@pytest.mark.parametrize(
    "url",
    ["http://example.com/hook", "https://10.0.0.5/hook", "http://grafterr.test/hook"],
    ids=["public-host", "private-address", "named-host"],
)
def test_webhooks_go_only_to_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxConfig(webhook_url=url)


def test_the_receiver_token_in_a_webhook_url_never_shows_in_the_config_or_its_errors() -> None:
    token = "receiver-token-7c1d"
    local = SandboxConfig(webhook_url=f"http://127.0.0.1:8787/webhooks/grafterr/{token}")

    with pytest.raises(ValueError, match="loopback") as refused:
        SandboxConfig(webhook_url=f"http://example.com/webhooks/grafterr/{token}")

    assert "127.0.0.1:8787" in repr(local) and token not in repr(local)
    assert token not in str(refused.value)
