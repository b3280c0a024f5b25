"""Business dates: which trading day an order belongs to.

A business day runs on the *store's* wall clock from the cut-off on one date to the cut-off on
the next (project brief, "Business date"). With the default 04:00 cut-off an order rung up at
01:30 on 1 December belongs to 30 November. The arithmetic is done on naive wall-clock values
so that a night when the clocks change is neither a hour longer nor shorter in this rule: what
counts is the time printed on the till.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EARLIEST_UTC_OFFSET",
    "LATEST_UTC_OFFSET",
    "business_date_of",
    "parse_cutoff",
    "pull_window",
    "zone",
]

# The widest offsets any IANA zone uses (Pacific/Kiritimati at +14:00, Etc/GMT+12 at -12:00).
# A partition's pull window is widened by these so that it catches every store, wherever it is,
# without knowing the stores' zones before the pull.
EARLIEST_UTC_OFFSET = dt.timedelta(hours=14)
LATEST_UTC_OFFSET = dt.timedelta(hours=12)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    """Return the time zone ``name``, cached; raises ``ZoneInfoNotFoundError`` if unknown."""
    try:
        return ZoneInfo(name)
    except OSError as err:
        # ZoneInfo reads the name as a file path: a very long or odd name (data from an
        # order) fails as OSError, which callers expect as an unknown zone.
        raise ZoneInfoNotFoundError(f"no time zone named {name[:64]!r}") from err


def parse_cutoff(text: str) -> dt.time:
    """Parse a cut-off such as ``"04:00"``; raises ``ValueError`` naming the allowed form."""
    try:
        hours, minutes = text.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError as err:
        raise ValueError(f"cut-off {text!r} is not a time of day as HH:MM, e.g. '04:00'") from err


def business_date_of(instant: dt.datetime, tz_name: str, cutoff: dt.time) -> dt.date:
    """Return the business date of ``instant`` for a store in ``tz_name``.

    ``instant`` must carry an offset: a naive timestamp is invalid input, not local time.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"timestamp {instant.isoformat()} has no UTC offset")
    wall_clock = instant.astimezone(zone(tz_name)).replace(tzinfo=None)
    since_cutoff = dt.timedelta(hours=cutoff.hour, minutes=cutoff.minute)
    return (wall_clock - since_cutoff).date()


def pull_window(business_date: dt.date, cutoff: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """Return the UTC ``[from, to)`` window that holds every order of ``business_date``.

    The day starts at the cut-off on the store's clock; the earliest such instant is in the
    zone furthest east and the latest end in the zone furthest west, so the window spans both.
    The caller keeps only the orders whose :func:`business_date_of` is ``business_date``.
    """
    local_start = dt.datetime.combine(business_date, cutoff)
    local_end = local_start + dt.timedelta(days=1)
    start = (local_start - EARLIEST_UTC_OFFSET).replace(tzinfo=dt.UTC)
    end = (local_end + LATEST_UTC_OFFSET).replace(tzinfo=dt.UTC)
    return start, end
