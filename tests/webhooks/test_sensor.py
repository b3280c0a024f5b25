"""The webhook sensor: one keyed run per closed business date that received new events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from grafterr_pipeline.definitions import build_definitions
from grafterr_pipeline.defs.sensors import SENSOR_NAME, SensorCursor, plan_runs
from grafterr_pipeline.webhooks import Dating, InboxChanges, InboxCursor, SqliteInbox, read_delivery
from tests.webhooks.helpers import body, delivery

D = dt.date(2026, 11, 27)


def _changes(dates: dict[dt.date, int], events: int) -> InboxChanges:
    return InboxChanges(dates=dates, cursor=InboxCursor(events=events))


@pytest.mark.parametrize(
    ("pending", "new", "ready", "waiting"),
    [
        pytest.param({}, {D: 4}, {D: 4}, {}, id="closed-date-runs-now"),
        pytest.param(
            {}, {D + dt.timedelta(days=3): 4}, {}, {dt.date(2026, 11, 30): 4}, id="open-day-waits"
        ),
        pytest.param({D: 2}, {}, {D: 2}, {}, id="waiting-date-runs-once-closed"),
        pytest.param({D: 2}, {D: 7}, {D: 7}, {}, id="newer-events-raise-the-key"),
        pytest.param({}, {dt.date(2025, 12, 31): 1}, {}, {}, id="before-first-partition-dropped"),
    ],
)
def test_plan_runs_splits_closed_dates_from_open_ones(
    pending: dict[dt.date, int],
    new: dict[dt.date, int],
    ready: dict[dt.date, int],
    waiting: dict[dt.date, int],
) -> None:
    cursor = SensorCursor(InboxCursor(events=1), pending)

    runs, moved = plan_runs(
        cursor, _changes(new, 9), last_closed=dt.date(2026, 11, 29), first=dt.date(2026, 1, 1)
    )

    assert runs == ready
    assert moved == SensorCursor(InboxCursor(events=9), waiting)


def test_sensor_cursor_survives_a_round_trip_through_text() -> None:
    cursor = SensorCursor(InboxCursor(12, 3), {D: 12})

    assert SensorCursor.from_text(cursor.to_text()) == cursor
    assert SensorCursor.from_text(None) == SensorCursor()


def _record(inbox: SqliteInbox, event_id: str, created: str) -> None:
    raw = body(delivery(event_id, created_at=created))
    inbox.record(read_delivery(raw, received_at=dt.datetime.now(dt.UTC), dating=Dating()))


def _tick(defs: dg.Definitions, cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    result = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, definitions=defs))
    return list(result.run_requests or []), result.cursor


def test_sensor_requests_one_keyed_run_per_date_and_nothing_for_the_same_events(
    tmp_path: Path,
) -> None:
    inbox_path = tmp_path / "inbox.sqlite3"
    defs = build_definitions(
        {"GRAFTERR_WEBHOOK_INBOX": str(inbox_path), "GRAFTERR_START_DATE": "2026-01-01"}
    )
    with SqliteInbox(inbox_path) as inbox:
        _record(inbox, "evt_1", "2026-11-20T12:00:00+00:00")
        _record(inbox, "evt_2", "2026-11-22T12:00:00+00:00")
        _record(inbox, "evt_3", "2026-11-20T13:00:00+00:00")

        first, cursor = _tick(defs, None)
        again, cursor = _tick(defs, cursor)
        _record(inbox, "evt_4", "2026-11-22T15:00:00+00:00")
        later, _ = _tick(defs, cursor)

    assert [(r.partition_key, r.run_key) for r in first] == [
        ("2026-11-20", "webhooks:2026-11-20:3"),
        ("2026-11-22", "webhooks:2026-11-22:2"),
    ]
    assert again == []
    assert [(r.partition_key, r.run_key) for r in later] == [
        ("2026-11-22", "webhooks:2026-11-22:4")
    ]


def test_sensor_skips_while_no_inbox_exists(tmp_path: Path) -> None:
    defs = build_definitions({"GRAFTERR_WEBHOOK_INBOX": str(tmp_path / "none.sqlite3")})

    requests, cursor = _tick(defs, None)

    assert requests == []
    assert SensorCursor.from_text(cursor) == SensorCursor()
