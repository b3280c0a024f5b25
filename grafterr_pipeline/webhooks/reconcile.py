"""How a business date's webhook events compare with its API pull.

For the orders known from both, the API snapshot is compared with the order's latest event
(by the merge rule) field by field over the contract's fields, reading money and timestamps by
value so that ``"25.85"`` equals ``25.85`` and ``+01:00`` equals the same instant in UTC.
The lag of each event is the time from its order's ``updated_at`` to its arrival. An order
known only from webhooks whose first event arrived before the pull yet that the pull did not
return is named: Grafterr either lost it or changed its date.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from grafterr_pipeline.merge import Candidate, version_rank
from grafterr_pipeline.webhooks.delivery import InboxEvent

__all__ = ["SourceReport", "reconcile", "sources_metadata"]

# The contract's fields (contract, "The order object"); unknown extra fields are not compared.
_LINE_FIELDS = "line_id product_id name category quantity unit_price discount tax line_total status"
_LINE = {
    **dict.fromkeys(_LINE_FIELDS.split()),
    "modifiers": [dict.fromkeys(["modifier_id", "name", "quantity", "unit_price"])],
}
_SHAPE: dict[str, Any] = {
    **dict.fromkeys(["order_id", "order_number", "channel", "order_type", "status"]),
    "store": dict.fromkeys(["store_id", "name", "timezone"]),
    **dict.fromkeys(["created_at", "updated_at", "currency", "covers", "table_number"]),
    "customer": dict.fromkeys(["customer_id", "name", "email", "phone"]),
    "totals": dict.fromkeys(["subtotal", "discount", "service_charge", "tax", "tip", "total"]),
    "items": [_LINE],
    "payments": [dict.fromkeys(["payment_id", "method", "amount", "tip", "status", "paid_at"])],
}
_NAMED_AT_MOST = 50


@dataclass(frozen=True)
class SourceReport:
    """What the webhooks of one business date added to, and disagreed with, its pull."""

    both: int = 0
    disagreements: int = 0
    disagreement_fields: dict[str, int] = field(default_factory=dict)
    lag_median_seconds: float | None = None
    lag_max_seconds: float | None = None
    missing_from_pull: list[str] = field(default_factory=list)
    awaiting_pull: int = 0

    def as_metadata(self) -> dict[str, Any]:
        """Plain numbers and short texts for the materialisation."""
        fields = ", ".join(f"{name} ({n})" for name, n in sorted(self.disagreement_fields.items()))
        metadata: dict[str, Any] = {
            "disagreements": self.disagreements,
            "disagreement_fields": fields or "none",
            "webhook_only_missing_from_pull": len(self.missing_from_pull),
            "webhook_only_missing_ids": ", ".join(self.missing_from_pull[:_NAMED_AT_MOST]),
            "webhook_only_after_pull": self.awaiting_pull,
        }
        if self.lag_median_seconds is not None and self.lag_max_seconds is not None:
            metadata["webhook_lag_median_seconds"] = round(self.lag_median_seconds, 3)
            metadata["webhook_lag_max_seconds"] = round(self.lag_max_seconds, 3)
        return metadata


# How MergedDay.sources names the ways an order was known, and what the metadata calls them.
_KNOWN_FROM = {"api": "pull_only", "webhook": "webhooks_only", "api+webhook": "both"}


def sources_metadata(sources: Mapping[str, int]) -> dict[str, int]:
    """``known_from_pull_only``, ``known_from_webhooks_only`` and ``known_from_both``, always
    all three, from a merged day's ``sources`` counts."""
    return {f"known_from_{name}": sources.get(key, 0) for key, name in _KNOWN_FROM.items()}


def reconcile(
    pulled: Iterable[Mapping[str, Any]],
    events: Sequence[InboxEvent],
    *,
    pulled_at: dt.datetime | None,
) -> SourceReport:
    """Compare one business date's ``events`` with the orders of its pull, pulled at
    ``pulled_at`` (``None`` if unknown: then no webhook-only order counts as missing)."""
    api = {str(order.get("order_id")): order for order in pulled if isinstance(order, Mapping)}
    latest = _latest_events(events)
    differing = {
        order_id: _differing_fields(api[order_id], event.order())
        for order_id, event in latest.items()
        if order_id in api
    }
    fields: dict[str, int] = {}
    for names in differing.values():
        for name in names:
            fields[name] = fields.get(name, 0) + 1
    missing, awaiting = _webhook_only(events, api.keys(), pulled_at)
    lags = [(e.received_at - e.updated_at).total_seconds() for e in events]
    return SourceReport(
        both=len(differing),
        disagreements=sum(1 for names in differing.values() if names),
        disagreement_fields=dict(sorted(fields.items())),
        lag_median_seconds=statistics.median(lags) if lags else None,
        lag_max_seconds=max(lags) if lags else None,
        missing_from_pull=missing,
        awaiting_pull=awaiting,
    )


def _latest_events(events: Iterable[InboxEvent]) -> dict[str, InboxEvent]:
    latest: dict[str, InboxEvent] = {}
    for event in events:
        held = latest.get(event.order_id)
        if held is None or _rank(event) > _rank(held):
            latest[event.order_id] = event
    return latest


def _rank(event: InboxEvent) -> tuple[Any, ...]:
    # The rank reads only where a version came from, not the order itself.
    bare = Candidate(
        order={}, source="webhook", event_kind=event.kind, occurred_at=event.occurred_at
    )
    return version_rank(bare, event.updated_at)


def _webhook_only(
    events: Iterable[InboxEvent], pulled_ids: Iterable[str], pulled_at: dt.datetime | None
) -> tuple[list[str], int]:
    """Webhook-only orders first heard of before the pull (missing), and after it."""
    first_heard: dict[str, dt.datetime] = {}
    for event in events:
        known = first_heard.get(event.order_id)
        first_heard[event.order_id] = min(known, event.received_at) if known else event.received_at
    pulled = set(pulled_ids)
    only = {k: v for k, v in first_heard.items() if k not in pulled}
    if pulled_at is None:
        return [], len(only)
    missing = sorted(order_id for order_id, heard in only.items() if heard < pulled_at)
    return missing, len(only) - len(missing)


def _differing_fields(api: Mapping[str, Any], event: Mapping[str, Any]) -> list[str]:
    return [
        name
        for name, shape in _SHAPE.items()
        if _project(api.get(name), shape) != _project(event.get(name), shape)
    ]


def _project(value: Any, shape: Any) -> Any:
    """``value`` reduced to the contract's fields of ``shape``, scalars read by value."""
    if isinstance(shape, dict) and isinstance(value, Mapping):
        return tuple(_project(value.get(name), sub) for name, sub in shape.items())
    if isinstance(shape, list) and isinstance(value, list):
        return tuple(_project(item, shape[0]) for item in value)
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        return _text_value(value)
    return repr(value)


def _text_value(text: str) -> Any:
    try:
        return Decimal(text)
    except InvalidOperation:
        pass
    try:
        instant = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    return instant.astimezone(dt.UTC) if instant.tzinfo else text
