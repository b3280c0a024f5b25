"""The webhook sensor: rebuild a business date soon after the inbox receives events for it.

A refund that arrives three days late is an event of its order's business date; the sensor sees
it on its next tick (every minute) and requests a run of that date, so the day is rewritten
within minutes rather than at the next schedule. Its cursor holds the inbox position it has read
up to and the dates whose partition does not exist yet (the business day is still trading):
those are requested once the day closes. Each run key names the date and the last inbox ``seq``
of its events, so the same events never run a date twice, and new ones always do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.settings import Secret
from grafterr_pipeline.webhooks.inbox import InboxChanges, InboxCursor
from grafterr_pipeline.webhooks.inboxes import describe_inbox, open_inbox

__all__ = ["SensorCursor", "build_webhook_sensor", "plan_runs"]

logger = logging.getLogger(__name__)

SENSOR_NAME = "webhook_inbox_sensor"
_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class SensorCursor:
    """Where the sensor has read the inbox up to, and the dates waiting for their day to close
    (each with the last ``seq`` of its events)."""

    inbox: InboxCursor = field(default_factory=InboxCursor)
    pending: dict[dt.date, int] = field(default_factory=dict)

    def to_text(self) -> str:
        """The cursor as Dagster stores it."""
        return json.dumps(
            {
                "events": self.inbox.events,
                "quarantine": self.inbox.quarantine,
                "pending": {d.isoformat(): seq for d, seq in sorted(self.pending.items())},
            }
        )

    @classmethod
    def from_text(cls, text: str | None) -> SensorCursor:
        """Read a stored cursor; ``None`` (a new sensor) starts from the inbox's beginning."""
        if not text:
            return cls()
        data = json.loads(text)
        pending = {dt.date.fromisoformat(d): seq for d, seq in data.get("pending", {}).items()}
        return cls(InboxCursor(data["events"], data["quarantine"]), pending)


def plan_runs(
    cursor: SensorCursor, changes: InboxChanges, *, last_closed: dt.date, first: dt.date
) -> tuple[dict[dt.date, int], SensorCursor]:
    """The dates to run now (with the last ``seq`` of their events) and the cursor after them.

    Dates after ``last_closed`` wait in the cursor; dates before ``first`` have no partition
    and are dropped.
    """
    wanted = dict(cursor.pending)
    for date, seq in changes.dates.items():
        wanted[date] = max(wanted.get(date, 0), seq)
    early = sorted(d for d in wanted if d < first)
    if early:
        logger.warning("webhook events dated before the first partition %s ignored: %s",
                       first, ", ".join(map(str, early)))  # fmt: skip
    ready = {d: seq for d, seq in sorted(wanted.items()) if first <= d <= last_closed}
    waiting = {d: seq for d, seq in wanted.items() if d > last_closed}
    return ready, SensorCursor(changes.cursor, waiting)


def build_webhook_sensor(
    job: object,
    *,
    inbox_path: Path,
    inbox_url: Secret | None = None,
    timezone: str,
    cutoff: dt.time,
    start_date: dt.date,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> SensorDefinition:
    """A sensor that runs ``job`` for each closed business date with new events in the inbox."""

    @sensor(
        name=SENSOR_NAME,
        job=job,  # type: ignore[arg-type]
        minimum_interval_seconds=_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            f"Every {_INTERVAL_SECONDS} s: rebuilds each closed business date whose webhook "
            f"events arrived since the last tick "
            f"(inbox {describe_inbox(inbox_url, default=inbox_path)})."
        ),
    )
    def webhook_inbox_sensor(context: SensorEvaluationContext) -> SensorResult:
        cursor = SensorCursor.from_text(context.cursor)
        inbox = open_inbox(inbox_url, default=inbox_path)
        try:
            changes = inbox.changes_since(cursor.inbox)
        finally:
            inbox.close()
        last_closed = business_date_of(clock(), timezone, cutoff) - dt.timedelta(days=1)
        ready, moved = plan_runs(cursor, changes, last_closed=last_closed, first=start_date)
        requests = [
            RunRequest(
                run_key=f"webhooks:{date.isoformat()}:{seq}",
                partition_key=date.isoformat(),
                tags={"grafterr/trigger": "webhooks"},
            )
            for date, seq in ready.items()
        ]
        skip = None if requests else "no new webhook events for a closed business date"
        return SensorResult(run_requests=requests, skip_reason=skip, cursor=moved.to_text())

    return webhook_inbox_sensor
