"""How stale the warehouse is: the age of the last complete business date it holds.

A business date is complete once its cut-off has passed on the home clock (the next date at
``cutoff``). The warehouse is stale when the newest date it holds completed more than
``max_age`` ago: with the default 30 hours and a schedule at 05:00, one missed daily run is
enough to say so by 10:00 the next day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from grafterr_pipeline.businessdate import zone

__all__ = ["DEFAULT_MAX_AGE", "Freshness", "completed_at", "freshness"]

DEFAULT_MAX_AGE = dt.timedelta(hours=30)


@dataclass(frozen=True)
class Freshness:
    """The verdict on the warehouse's newest business date."""

    latest: dt.date | None
    age: dt.timedelta | None
    max_age: dt.timedelta

    @property
    def fresh(self) -> bool:
        """Whether the newest complete business date is recent enough."""
        return self.age is not None and self.age <= self.max_age

    def describe(self) -> str:
        """One sentence for the check's description in the UI."""
        if self.latest is None or self.age is None:
            return "no business date has been landed yet"
        hours = self.age.total_seconds() / 3600
        limit = self.max_age.total_seconds() / 3600
        return f"newest business date {self.latest} completed {hours:.1f} h ago (limit {limit:g} h)"


def completed_at(business_date: dt.date, *, timezone: str, cutoff: dt.time) -> dt.datetime:
    """When ``business_date`` closed: the next date's cut-off on the home clock, in UTC."""
    closing = dt.datetime.combine(business_date + dt.timedelta(days=1), cutoff)
    return closing.replace(tzinfo=zone(timezone)).astimezone(dt.UTC)


def freshness(
    landed: Iterable[dt.date],
    *,
    now: dt.datetime,
    timezone: str,
    cutoff: dt.time,
    max_age: dt.timedelta = DEFAULT_MAX_AGE,
) -> Freshness:
    """Judge the warehouse holding the business dates ``landed`` at ``now``."""
    latest = max(landed, default=None)
    if latest is None:
        return Freshness(None, None, max_age)
    age = now - completed_at(latest, timezone=timezone, cutoff=cutoff)
    return Freshness(latest, age, max_age)
