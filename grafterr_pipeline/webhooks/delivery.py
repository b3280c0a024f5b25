"""One webhook delivery, read into an inbox event or a quarantined delivery with its reason.

A delivery is usable when its raw body is UTF-8 JSON of the contract's shape (contract,
"Webhooks"): ``{"event_id", "event_type", "occurred_at", "data": Order}`` with one of the six
event types, and an order carrying an ``order_id``, offset-bearing ``created_at`` and
``updated_at``, and its store's time zone, so that its business date can be told. Anything else
the sender authenticated is kept verbatim as :class:`Quarantined`, never dropped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from grafterr_pipeline.businessdate import business_date_of, zone
from grafterr_pipeline.errors import InvalidOrderError
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise.values import loads, read_id, read_timestamp

__all__ = [
    "CHANNELS",
    "EVENT_TYPES",
    "Dating",
    "InboxEvent",
    "Quarantined",
    "event_from_row",
    "quarantined_from_row",
    "read_delivery",
]

# The six documented events (contract, "Webhooks"): <channel>_order_<kind>.
CHANNELS = ("pos", "web", "selfkiosk")
EVENT_TYPES = frozenset(f"{c}_order_{k}" for c in CHANNELS for k in ("created", "updated"))


@dataclass(frozen=True)
class Dating:
    """How deliveries get their business date: the cut-off, and the home zone for a delivery
    whose order cannot be dated (it is dated by when it was received)."""

    cutoff: dt.time = dt.time(4, 0)
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class InboxEvent:
    """A usable event: what the inbox indexes, and the raw body exactly as it arrived.

    ``seq`` is the inbox's arrival order (0 until stored) and ``deliveries`` how many times the
    sender posted it; both are filled in when the event is read back.
    """

    event_id: str
    event_type: str
    occurred_at: dt.datetime | None
    order_id: str
    updated_at: dt.datetime
    business_date: dt.date
    received_at: dt.datetime
    raw: bytes
    seq: int = 0
    deliveries: int = 1

    @property
    def kind(self) -> str:
        """``"created"`` or ``"updated"``, as the merge rule reads it."""
        return self.event_type.rsplit("_", 1)[-1]

    def order(self) -> Mapping[str, Any]:
        """The order the event carries, parsed with exact decimals."""
        return loads(self.raw)["data"]

    def candidate(self) -> Candidate:
        """This event as a version of its order for :mod:`grafterr_pipeline.merge`."""
        return Candidate(
            order=self.order(), source="webhook", event_kind=self.kind, occurred_at=self.occurred_at
        )


@dataclass(frozen=True)
class Quarantined:
    """An authenticated delivery that cannot be used, kept with its reason and raw body.

    ``business_date`` is the order's when it can be told, else the date it was received;
    ``digest`` (SHA-256 of the body) keeps a sender's retries of the same body from piling up.
    """

    reason: str
    raw: bytes
    received_at: dt.datetime
    business_date: dt.date
    event_id: str | None = None
    order_id: str | None = None
    seq: int = 0
    deliveries: int = 1

    @property
    def digest(self) -> str:
        """SHA-256 of the raw body, in hex."""
        return hashlib.sha256(self.raw).hexdigest()


class _Unusable(ValueError):
    """Why a delivery is quarantined; carries what could be read before it failed."""

    def __init__(self, reason: str, **known: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.known = known


def read_delivery(
    raw: bytes, *, received_at: dt.datetime, dating: Dating
) -> InboxEvent | Quarantined:
    """Read one authenticated delivery's raw body; never raises for bad input."""
    try:
        return _event(raw, received_at, dating)
    except _Unusable as unusable:
        known = unusable.known
        received_date = business_date_of(received_at, dating.timezone, dating.cutoff)
        return Quarantined(
            reason=unusable.reason,
            raw=raw,
            received_at=received_at,
            business_date=known.get("business_date") or received_date,
            event_id=known.get("event_id"),
            order_id=_as_text(known.get("order_id")),
        )


def _as_text(value: object) -> str | None:
    return None if value is None else str(value)[:128]


def _event(raw: bytes, received_at: dt.datetime, dating: Dating) -> InboxEvent:
    body = _json_object(raw)
    event_id = _text(body.get("event_id"), "event_id")
    event_type = body.get("event_type")
    # A list or an object here is unhashable: a set lookup would raise instead of answering.
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        raise _Unusable(f"event_type {event_type!r} is not one of the six order events",
                        event_id=event_id)  # fmt: skip
    order = body.get("data")
    if not isinstance(order, dict):
        raise _Unusable("data is not an order object", event_id=event_id)
    try:
        order_id = read_id(order.get("order_id"), "data.order_id")
        occurred_at = read_timestamp(body.get("occurred_at"), "occurred_at", required=False)
        updated_at = read_timestamp(order.get("updated_at"), "data.updated_at")
    except InvalidOrderError as err:
        raise _Unusable(err.reason, event_id=event_id, order_id=order.get("order_id")) from err
    business_date = _business_date(order, dating, event_id=event_id, order_id=order_id)
    return InboxEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        order_id=order_id,  # type: ignore[arg-type]  # required=True never returns None
        updated_at=updated_at,  # type: ignore[arg-type]
        business_date=business_date,
        received_at=received_at,
        raw=raw,
    )


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _Unusable(f"body is not UTF-8 (byte {err.start})") from err
    try:
        body = loads(text)
    except RecursionError as err:  # the C decoder's depth guard; not a ValueError
        raise _Unusable("body is JSON nested too deeply to read") from err
    except ValueError as err:
        raise _Unusable(f"body is not JSON: {err}") from err
    if not isinstance(body, dict):
        raise _Unusable(f"body is a JSON {type(body).__name__}, not an object")
    return body


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Unusable(f"{field} is missing or not a non-empty string")
    return value


def _business_date(order: Mapping[str, Any], dating: Dating, **known: Any) -> dt.date:
    """The order's business date: its ``created_at`` on its store's clock (brief, "Business
    date"), the same rule the normaliser applies to pulled orders."""
    try:
        created_at = read_timestamp(order.get("created_at"), "data.created_at")
    except InvalidOrderError as err:
        raise _Unusable(err.reason, **known) from err
    store = order.get("store")
    tz_name = store.get("timezone") if isinstance(store, dict) else None
    try:
        zone(tz_name)  # type: ignore[arg-type]
    # OSError: zoneinfo looks the name up as a file, and a long one is ENAMETOOLONG.
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError) as err:
        raise _Unusable(f"data.store.timezone {tz_name!r} is not an IANA time zone",
                        **known) from err  # fmt: skip
    return business_date_of(created_at, tz_name, dating.cutoff)  # type: ignore[arg-type]


# Both inboxes select their columns in this order: seq, deliveries, then the record's own.
def event_from_row(row: tuple[Any, ...]) -> InboxEvent:
    """An event read back from an inbox's ``events`` table."""
    seq, deliveries, event_id, event_type, occurred, order_id, updated, date, received, raw = row
    return InboxEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=dt.datetime.fromisoformat(occurred) if occurred else None,
        order_id=order_id,
        updated_at=dt.datetime.fromisoformat(updated),
        business_date=_date(date),
        received_at=dt.datetime.fromisoformat(received),
        raw=bytes(raw),
        seq=seq,
        deliveries=deliveries,
    )


def quarantined_from_row(row: tuple[Any, ...]) -> Quarantined:
    """A quarantined delivery read back from an inbox's ``quarantine`` table."""
    seq, deliveries, reason, raw, received, date, event_id, order_id = row
    return Quarantined(
        reason=reason,
        raw=bytes(raw),
        received_at=dt.datetime.fromisoformat(received),
        business_date=_date(date),
        event_id=event_id,
        order_id=order_id,
        seq=seq,
        deliveries=deliveries,
    )


def _date(value: str | dt.date) -> dt.date:
    """SQLite hands a business date back as its text, PostgreSQL as a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
