"""How webhook events compare with the pull: disagreements by field, lag, and missing orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from grafterr_pipeline.webhooks import Dating, InboxEvent, read_delivery
from grafterr_pipeline.webhooks.reconcile import reconcile, sources_metadata
from tests.factories import make_order
from tests.webhooks.helpers import body

UPDATED = dt.datetime(2026, 11, 30, 19, 58, 40, tzinfo=dt.UTC)
PULLED_AT = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)


def _event(
    event_id: str, order: dict[str, Any], *, received: dt.datetime, kind: str = "updated"
) -> InboxEvent:
    payload = {"event_id": event_id, "event_type": f"pos_order_{kind}", "data": order}
    made = read_delivery(body(payload), received_at=received, dating=Dating())
    assert isinstance(made, InboxEvent), made
    return made


def _received(seconds: float) -> dt.datetime:
    return UPDATED + dt.timedelta(seconds=seconds)


def test_same_version_told_differently_is_no_disagreement() -> None:
    api = make_order()
    totals = {k: float(v) for k, v in api["totals"].items()}  # money as JSON numbers
    local = "2026-11-30T20:58:40+01:00"  # the same instant on another clock
    event = _event(
        "e1", make_order(totals=totals, updated_at=local, extra="x"), received=_received(2)
    )

    report = reconcile([api], [event], pulled_at=PULLED_AT)

    assert (report.both, report.disagreements, report.disagreement_fields) == (1, 0, {})


def test_disagreement_names_each_field_that_differs() -> None:
    refunded = make_order(status="refunded", updated_at="2026-12-02T10:00:00+00:00")
    events = [
        _event("e1", make_order(), received=_received(1), kind="created"),
        _event("e2", refunded, received=_received(3600)),
    ]

    report = reconcile([make_order()], events, pulled_at=PULLED_AT)

    assert report.disagreements == 1
    assert report.disagreement_fields == {"status": 1, "updated_at": 1}


def test_lag_is_reported_as_median_and_maximum_seconds() -> None:
    events = [
        _event(f"e{n}", make_order(order_id=f"o{n}"), received=_received(n)) for n in (1, 2, 9)
    ]

    report = reconcile([], events, pulled_at=PULLED_AT)

    assert (report.lag_median_seconds, report.lag_max_seconds) == (2.0, 9.0)
    assert report.as_metadata()["webhook_lag_max_seconds"] == 9.0


@pytest.mark.parametrize(
    ("received", "missing", "after"),
    [
        pytest.param(PULLED_AT - dt.timedelta(hours=1), ["ord_ghost"], 0, id="heard-before-pull"),
        pytest.param(PULLED_AT + dt.timedelta(hours=1), [], 1, id="heard-after-pull"),
    ],
)
def test_webhook_only_order_heard_of_before_the_pull_is_named_as_missing(
    received: dt.datetime, missing: list[str], after: int
) -> None:
    event = _event("e1", make_order(order_id="ord_ghost"), received=received)

    report = reconcile([make_order()], [event], pulled_at=PULLED_AT)

    assert report.missing_from_pull == missing
    assert report.awaiting_pull == after
    assert report.both == 0


def test_sources_metadata_always_names_all_three_ways_an_order_is_known() -> None:
    assert sources_metadata({"api": 5, "api+webhook": 2}) == {
        "known_from_pull_only": 5,
        "known_from_webhooks_only": 0,
        "known_from_both": 2,
    }
