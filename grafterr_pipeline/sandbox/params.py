"""The query parameters of ``GET /orders``, checked as the contract says (section "Orders")."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from grafterr_pipeline.sandbox.data import DateField

__all__ = ["CHANNELS", "DATE_FIELDS", "MAX_PAGE_SIZE", "ListingQuery", "parse_listing_query"]

CHANNELS = ("pos", "web", "selfkiosk")
DATE_FIELDS: tuple[DateField, ...] = ("created_at", "updated_at")
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 100
# The sandbox generates data on demand; a window longer than this would take too long.
MAX_WINDOW = dt.timedelta(days=92)
_SPACED_OFFSET = re.compile(r" (\d\d:?\d\d)$")


@dataclass(frozen=True)
class ListingQuery:
    """A valid listing request: the window, the filters and the page wanted."""

    start: dt.datetime
    end: dt.datetime
    date_field: DateField = "created_at"
    channel: str | None = None
    store_id: str | None = None
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    def window_key(self) -> tuple[object, ...]:
        """Return what identifies the listing being paged, whatever the page."""
        return (self.start, self.end, self.date_field, self.channel, self.store_id, self.page_size)


def parse_listing_query(params: Mapping[str, str]) -> ListingQuery | dict[str, str]:
    """Return the query ``params`` describe, or a dict of parameter name to what is wrong."""
    errors: dict[str, str] = {}
    start = _instant(params, "from", errors)
    end = _instant(params, "to", errors)
    date_field = params.get("date_field", "created_at")
    if date_field not in DATE_FIELDS:
        errors["date_field"] = f"must be one of {', '.join(DATE_FIELDS)}, not {date_field!r}"
    channel = params.get("channel") or None
    if channel is not None and channel not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}, not {channel!r}"
    page = _integer(params, "page", 1, 1, None, errors)
    page_size = _integer(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, errors)
    if start and end and not start < end:
        errors["to"] = "must be later than 'from'"
    elif start and end and end - start > MAX_WINDOW:
        errors["to"] = f"window is longer than the sandbox's {MAX_WINDOW.days} days: split it"
    if errors or start is None or end is None:
        return errors
    return ListingQuery(
        start, end, date_field, channel, params.get("store_id") or None, page, page_size
    )  # type: ignore[arg-type]


def _instant(params: Mapping[str, str], name: str, errors: dict[str, str]) -> dt.datetime | None:
    text = params.get(name)
    if not text:
        errors[name] = "is required: an ISO-8601 instant with an offset, e.g. 2026-11-30T00:00:00Z"
        return None
    # An unescaped '+' in a query string decodes as a space; read it back as the offset sign.
    text = _SPACED_OFFSET.sub(r"+\1", text.strip())
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        errors[name] = f"{text!r} is not an ISO-8601 instant, e.g. 2026-11-30T00:00:00Z"
        return None
    if value.utcoffset() is None:
        errors[name] = f"{text!r} has no UTC offset: add 'Z' or '+00:00'"
        return None
    return value.astimezone(dt.UTC)


def _integer(
    params: Mapping[str, str],
    name: str,
    default: int,
    low: int,
    high: int | None,
    errors: dict[str, str],
) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        errors[name] = f"{text!r} is not a whole number"
        return default
    if value < low or (high is not None and value > high):
        errors[name] = f"{value} is outside {low}..{high}" if high else f"{value} is below {low}"
    return value
