"""Pull the windows of several business dates at once, reading each order of the range once.

A business date's pull window (:func:`~grafterr_pipeline.businessdate.pull_window`) is 50 hours
wide, so the windows of neighbouring dates overlap by 26 hours: pulled date by date, nearly
every order of a range is read twice. :func:`plan_slices` instead cuts the range where each
date's window starts, and pulls each slice once; a date's raw pull is then the pages of the
slices its window covers, and of a slice it only partly covers, the pages holding an order of
its window. That is every order a pull of the window alone returns, paged differently, plus a
few of the next hours on the shared pages, which the merge leaves to their own dates.

Slices are a day long or more, never a sliver: a window is only trusted once its pages agree
(``unsettled_reason`` in :mod:`grafterr_pipeline.client.paging`), and a one-page listing always
agrees with itself.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grafterr_pipeline.businessdate import pull_window
from grafterr_pipeline.client import GrafterrClient, PullStats
from grafterr_pipeline.settings import Settings
from grafterr_pipeline.warehouse.raw import RawPull, write_raw_pull

__all__ = ["RawPullSummary", "SlicePlan", "plan_slices", "pull_raw_dates"]

logger = logging.getLogger(__name__)

Window = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class RawPullSummary:
    """What one partition's pull fetched and where it is stored.

    ``stats`` are the client's figures for the date's own slice, ``stats_window``: from the
    date's window start to the next date's window start (to its own window end for the last
    date of a range, or a date pulled alone). Added up over a range's dates they count every
    request and order once; a date's ``orders`` is thus not the number of orders its window
    holds, which its stored pages (and ``merged_orders``) give.
    """

    business_date: dt.date
    window: Window
    stats: PullStats
    stats_window: Window
    path: Path
    bytes: int


@dataclass(frozen=True)
class SlicePlan:
    """The slices to pull for some business dates, oldest first, and each date's window."""

    windows: dict[dt.date, Window]
    slices: tuple[Window, ...]

    def slices_of(self, day: dt.date) -> list[int]:
        """The slices that hold any of ``day``'s window, in order."""
        start, end = self.windows[day]
        return [n for n, (a, b) in enumerate(self.slices) if a < end and start < b]

    def covers(self, day: dt.date, index: int) -> bool:
        """Whether slice ``index`` lies wholly inside ``day``'s window."""
        (start, end), (a, b) = self.windows[day], self.slices[index]
        return start <= a and b <= end


def plan_slices(dates: Sequence[dt.date], cutoff: dt.time) -> SlicePlan:
    """Slices from each date's window start to the next date's, the last to its window end.

    One date is one slice, its own window, so a single-date pull is unchanged.
    """
    windows = {day: pull_window(day, cutoff) for day in sorted(set(dates))}
    bounds = list(windows.values())
    slices = [
        (start, min(end, following[0]) if following else end)
        for (start, end), following in zip(bounds, [*bounds[1:], None], strict=True)
    ]
    return SlicePlan(windows, tuple(slices))


@dataclass(frozen=True)
class _Pulled:
    pages: list[bytes]
    stats: PullStats
    pulled_at: dt.datetime


def pull_raw_dates(
    settings: Settings, client: GrafterrClient, dates: Sequence[dt.date]
) -> list[RawPullSummary]:
    """Pull ``dates``' windows as slices and store each date's raw pull; oldest date first.

    A date is stored as soon as its last slice is in, and a slice is let go once every date
    that needs it is stored, so at most about one window's pages are held at a time.
    """
    plan = plan_slices(dates, settings.business_day_cutoff)
    pulled: dict[int, _Pulled] = {}
    waiting, summaries = sorted(plan.windows), []
    for index, (start, end) in enumerate(plan.slices):
        pulled[index] = _pull_slice(settings, client, start, end)
        for day in [d for d in waiting if plan.slices_of(d)[-1] == index]:
            summaries.append(_store(settings, plan, day, pulled))
            waiting.remove(day)
        needed = {n for day in waiting for n in plan.slices_of(day)}
        for done in [n for n in pulled if n not in needed]:
            del pulled[done]
    return summaries


def _pull_slice(
    settings: Settings, client: GrafterrClient, start: dt.datetime, end: dt.datetime
) -> _Pulled:
    """One slice's raw pages; the client's parsed orders are let go as soon as it returns, not
    held through the next slice's pull (the raw pages are what is stored)."""
    result = client.pull_orders(start, end, date_field=settings.api.field_created_at)
    return _Pulled(result.pages, result.stats, dt.datetime.now(dt.UTC))


def _store(
    settings: Settings, plan: SlicePlan, day: dt.date, pulled: dict[int, _Pulled]
) -> RawPullSummary:
    start, end = plan.windows[day]
    parts = [pulled[n] for n in plan.slices_of(day)]
    pages = []
    for n, part in zip(plan.slices_of(day), parts, strict=True):
        pages += part.pages if plan.covers(day, n) else _within(part.pages, settings, start, end)
    # The date's figures are those of the slice that starts at its window, the one it alone
    # needed: added up over the dates of a range, they count every request once.
    stats, covered = parts[0].stats, plan.slices[plan.slices_of(day)[0]]
    manifest = {
        "business_date": day.isoformat(),
        "window": {"from": start.isoformat(), "to": end.isoformat()},
        "date_field": settings.api.field_created_at,
        # The earliest read: an order heard of before it should be on these pages.
        "pulled_at": min(part.pulled_at for part in parts).isoformat(),
        # Every slice that overlaps the window; of one it only partly covers, just the pages
        # holding an order of the window are stored.
        "slices": [
            {"from": a.isoformat(), "to": b.isoformat()}
            for a, b in (plan.slices[n] for n in plan.slices_of(day))
        ],
        "stats": stats.as_metadata(),
        "stats_cover": {"from": covered[0].isoformat(), "to": covered[1].isoformat()},
    }
    size = write_raw_pull(settings.data_dir, day, pages, manifest)
    return RawPullSummary(
        day, (start, end), stats, covered, RawPull(settings.data_dir, day).pages, size
    )


def _within(
    pages: list[bytes], settings: Settings, start: dt.datetime, end: dt.datetime
) -> list[bytes]:
    """The pages holding an order whose date field is in ``[start, end)`` or cannot be read.

    An unreadable timestamp keeps its page: the normaliser quarantines that order, and it must
    reach every date it might belong to rather than none.
    """
    names = settings.api
    kept = []
    for page in pages:
        orders = json.loads(page)[names.key_data]
        stamps = [_instant(order.get(names.field_created_at)) for order in orders]
        if any(s is None or start <= s < end for s in stamps):
            kept.append(page)
    return kept


def _instant(value: object) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
