"""Which version of an order wins when the API pull and webhook events disagree.

The rule, in one place (webhooks issue, "Into the pipeline"): the version with the latest
``updated_at`` wins; on a tie an ``updated`` event beats a ``created`` one, a later
``occurred_at`` beats an earlier one, and the API snapshot loses to any event carrying the same
``updated_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Candidate", "MergedDay", "pick_latest", "version_rank"]

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Candidate:
    """One version of an order and where it came from.

    ``source`` is ``"api"`` or ``"webhook"``; for a webhook, ``event_kind`` is ``"created"`` or
    ``"updated"`` and ``occurred_at`` the event's own timestamp.
    """

    order: Mapping[str, Any]
    source: str = "api"
    event_kind: str | None = None
    occurred_at: dt.datetime | None = None


class _Versioned(Protocol):
    updated_at: dt.datetime


V = TypeVar("V", bound=_Versioned)


def version_rank(candidate: Candidate, updated_at: dt.datetime) -> tuple[Any, ...]:
    """The sort key of the merge rule: the greatest key wins."""
    is_event = candidate.source != "api"
    kind = 1 if candidate.event_kind == "updated" else 0
    return (updated_at, is_event, kind, candidate.occurred_at or _EPOCH)


def pick_latest(versions: Sequence[tuple[Candidate, V]]) -> V:
    """Return the winning parsed version among ``(candidate, parsed)`` pairs of one order."""
    if not versions:
        raise ValueError("pick_latest needs at least one version")
    _, winner = max(versions, key=lambda pair: version_rank(pair[0], pair[1].updated_at))
    return winner


@dataclass(frozen=True)
class MergedDay:
    """The winning version of each order of one business date, and what could not be read.

    ``unreadable`` holds versions that fail validation: they go on to the quarantine.
    ``sources`` counts orders by how they were known (``api``, ``webhook`` or
    ``api+webhook``); ``duplicates`` counts the versions that lost.
    """

    business_date: dt.date
    winners: list[Candidate]
    unreadable: list[Candidate]
    sources: dict[str, int]
    duplicates: int
