"""Which order versions a business date stages for landing, chosen by their keys alone.

The merge rule (:mod:`grafterr_pipeline.merge`) picks the latest *valid* version of an order,
and only the landing step validates a version in full (:mod:`grafterr_pipeline.normalise.fast`
judges every staged line, ranks the valid versions of each order by that rule and keeps the
orders of the date). Validating every version here as well cost more than the landing itself,
so :func:`stage_day` reads only each version's keys: its ``order_id``, ``updated_at``, and the
business date of its ``created_at`` in its store's zone.

A date stages every version of each order that may be the date's: one version of it at least
has this date, or a date that cannot be read. An order whose versions all read as another date
cannot land here, and an invalid version of it would be quarantined by that date, so it is left
out; so is a version without readable keys (certainly invalid) that plainly belongs to another
date. Lines keep the order in which they were read, which is how ties of the rule are broken
(the first version wins). So landing what is staged gives the same tables and quarantine as
validating and merging every version first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from grafterr_pipeline.errors import InvalidOrderError
from grafterr_pipeline.merge import Candidate, version_rank
from grafterr_pipeline.normalise import NormaliseOptions
from grafterr_pipeline.normalise.day import best_effort_date
from grafterr_pipeline.normalise.values import read_id, read_timestamp

__all__ = ["StagedDay", "stage_day"]


@dataclass(frozen=True)
class _Version:
    rank: Candidate  # the version without its order: only where it came from counts
    updated_at: dt.datetime
    business_date: dt.date | None


@dataclass(frozen=True)
class StagedDay:
    """The lines one business date staged, in the order read, and what their keys say.

    ``orders`` counts the orders whose newest version by the keys has this date, ``sources``
    counts them by how they were known (``api``, ``webhook`` or ``api+webhook``), and
    ``superseded`` counts their older versions. ``unkeyed`` counts staged versions whose
    ``order_id`` or ``updated_at`` cannot be read: they are invalid and will be quarantined.
    Landing settles the rest: a newest version that fails validation is quarantined and the
    newest valid one lands instead.
    """

    business_date: dt.date
    lines: list[bytes]
    orders: int
    unkeyed: int
    superseded: int
    sources: dict[str, int] = field(default_factory=dict)


def _keys(candidate: Candidate) -> tuple[str, dt.datetime] | None:
    """The version's ``order_id`` and ``updated_at`` as validation reads them, if readable."""
    order = candidate.order
    if not isinstance(order, Mapping):
        return None
    try:
        order_id = read_id(order.get("order_id"), "order_id")
        updated_at = read_timestamp(order.get("updated_at"), "updated_at")
    except InvalidOrderError:
        return None
    assert order_id is not None and updated_at is not None  # both are required
    return order_id, updated_at


def stage_day(
    candidates: Iterable[Candidate],
    *,
    business_date: dt.date,
    options: NormaliseOptions,
    encode: Callable[[Candidate], bytes],
) -> StagedDay:
    """Choose the versions ``business_date`` stages (see the module's docstring).

    Each version is ``encode``-d as it is read, so only its line and keys are held, never all
    the orders at once.
    """
    read: list[tuple[bytes, str | None]] = []
    orders: dict[str, list[_Version]] = {}
    unkeyed = 0
    for candidate in candidates:
        day = best_effort_date(candidate, options)
        keys = _keys(candidate)
        if keys is None:
            if day in (None, business_date):
                read.append((encode(candidate), None))
                unkeyed += 1
            continue
        order_id, updated_at = keys
        read.append((encode(candidate), order_id))
        rank = Candidate({}, candidate.source, candidate.event_kind, candidate.occurred_at)
        version = _Version(rank, updated_at, day)
        orders.setdefault(order_id, []).append(version)

    kept = {o: versions for o, versions in orders.items() if _may_be(versions, business_date)}
    lines = [line for line, order_id in read if order_id is None or order_id in kept]
    return _summary(business_date, lines, list(kept.values()), unkeyed)


def _may_be(versions: list[_Version], business_date: dt.date) -> bool:
    """Whether any version of an order has ``business_date``, or a date that cannot be read."""
    return any(v.business_date in (None, business_date) for v in versions)


def _summary(
    business_date: dt.date, lines: list[bytes], kept: list[list[_Version]], unkeyed: int
) -> StagedDay:
    sources: dict[str, int] = {}
    superseded = 0
    for versions in kept:
        newest = max(versions, key=lambda v: version_rank(v.rank, v.updated_at))
        if newest.business_date != business_date:
            continue
        known = "+".join(sorted({v.rank.source for v in versions}))
        sources[known] = sources.get(known, 0) + 1
        superseded += len(versions) - 1
    orders = sum(sources.values())
    return StagedDay(business_date, lines, orders, unkeyed, superseded, sources)
