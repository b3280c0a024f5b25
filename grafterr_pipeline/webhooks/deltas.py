"""A business date's webhook deltas, copied from the inbox into staging for the merge.

The receiver keeps writing while the pipeline runs, so the merge reads a snapshot the
``webhook_deltas`` step stored rather than the live inbox, and reruns alone on the same input:
``<root>/staging/webhooks/business_date=YYYY-MM-DD/deltas.jsonl.gz`` holds one line per stored
event and per quarantined delivery of the date, each with its raw body (base64, byte for byte).
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.warehouse.files import atomic_write
from grafterr_pipeline.webhooks.delivery import InboxEvent, Quarantined
from grafterr_pipeline.webhooks.inbox import Inbox

__all__ = ["StagedDeltas", "deltas_path", "read_staged_deltas", "stage_deltas"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StagedDeltas:
    """The events and quarantined deliveries of one business date, as staged."""

    business_date: dt.date
    events: list[InboxEvent]
    quarantined: list[Quarantined]

    def candidates(self) -> list[Candidate]:
        """The events as versions of their orders, for the merge."""
        return [event.candidate() for event in self.events]

    def as_metadata(self) -> dict[str, Any]:
        """Counts for the materialisation: events, orders, repeats and quarantine reasons."""
        reasons: dict[str, int] = {}
        for item in self.quarantined:
            reasons[item.reason] = reasons.get(item.reason, 0) + 1
        return {
            "events": len(self.events),
            "orders": len({e.order_id for e in self.events}),
            "deliveries": sum(e.deliveries for e in self.events),
            "repeat_deliveries": sum(e.deliveries - 1 for e in self.events),
            "quarantined": len(self.quarantined),
            "quarantine_reasons": "; ".join(f"{n} × {r}" for r, n in sorted(reasons.items())),
        }


def deltas_path(root: Path, business_date: dt.date) -> Path:
    """Where ``business_date``'s staged deltas live under the data root ``root``."""
    name = f"business_date={business_date.isoformat()}"
    return root / "staging" / "webhooks" / name / "deltas.jsonl.gz"


def stage_deltas(inbox: Inbox, root: Path, business_date: dt.date) -> StagedDeltas:
    """Copy the inbox's entries of ``business_date`` to staging and return them."""
    staged = StagedDeltas(
        business_date, inbox.events_of(business_date), inbox.quarantined_of(business_date)
    )

    def write(temp: Path) -> None:
        with gzip.open(temp, "wb", compresslevel=6) as out:
            for entry in [*staged.events, *staged.quarantined]:
                out.write(json.dumps(_record(entry)).encode("utf-8") + b"\n")

    atomic_write(deltas_path(root, business_date), write)
    if staged.quarantined:
        logger.warning(
            "%s: %d webhook deliveries are quarantined in the inbox",
            business_date, len(staged.quarantined),
        )  # fmt: skip
    logger.info("%s: staged %d webhook events", business_date, len(staged.events))
    return staged


def read_staged_deltas(root: Path, business_date: dt.date) -> StagedDeltas:
    """The deltas :func:`stage_deltas` stored for ``business_date``; none if never staged."""
    path = deltas_path(root, business_date)
    events: list[InboxEvent] = []
    quarantined: list[Quarantined] = []
    try:
        with gzip.open(path, "rb") as lines:
            for line in lines:
                entry = _entry(json.loads(line))
                (events if isinstance(entry, InboxEvent) else quarantined).append(entry)  # type: ignore[arg-type]
    except FileNotFoundError:
        logger.info(
            "%s: no webhook deltas staged at %s; merging the pull alone", business_date, path
        )
    return StagedDeltas(business_date, events, quarantined)


def _text(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _record(entry: InboxEvent | Quarantined) -> dict[str, Any]:
    common = {
        "seq": entry.seq,
        "deliveries": entry.deliveries,
        "event_id": entry.event_id,
        "order_id": entry.order_id,
        "business_date": _text(entry.business_date),
        "received_at": _text(entry.received_at),
        "raw_base64": base64.b64encode(entry.raw).decode("ascii"),
    }
    if isinstance(entry, Quarantined):
        return {"kind": "quarantined", "reason": entry.reason, **common}
    return {
        "kind": "event",
        "event_type": entry.event_type,
        "occurred_at": _text(entry.occurred_at),
        "updated_at": _text(entry.updated_at),
        **common,
    }


def _instant(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _entry(record: dict[str, Any]) -> InboxEvent | Quarantined:
    common = {
        "raw": base64.b64decode(record["raw_base64"]),
        "received_at": dt.datetime.fromisoformat(record["received_at"]),
        "business_date": dt.date.fromisoformat(record["business_date"]),
        "seq": record["seq"],
        "deliveries": record["deliveries"],
        "event_id": record["event_id"],
        "order_id": record["order_id"],
    }
    if record["kind"] == "quarantined":
        return Quarantined(reason=record["reason"], **common)
    return InboxEvent(
        event_type=record["event_type"],
        occurred_at=_instant(record["occurred_at"]),
        updated_at=dt.datetime.fromisoformat(record["updated_at"]),
        **common,
    )
