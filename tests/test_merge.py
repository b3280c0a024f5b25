"""The merge rule, one tie at a time: which version of an order wins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from grafterr_pipeline.merge import Candidate, pick_latest, version_rank

T = dt.datetime(2026, 11, 30, 19, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Parsed:
    """Stands in for a parsed order: the rule reads only ``updated_at``."""

    name: str
    updated_at: dt.datetime


def api(updated: dt.datetime = T) -> tuple[Candidate, Parsed]:
    return Candidate({}, source="api"), Parsed("api", updated)


def event(
    name: str, kind: str, updated: dt.datetime = T, occurred: dt.datetime | None = None
) -> tuple[Candidate, Parsed]:
    candidate = Candidate({}, source="webhook", event_kind=kind, occurred_at=occurred)
    return candidate, Parsed(name, updated)


LATER = T + dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("versions", "winner"),
    [
        pytest.param(
            [api(LATER), event("ev", "updated", T)], "api", id="later-updated-at-wins-api"
        ),
        pytest.param(
            [api(T), event("ev", "created", LATER)], "ev", id="later-updated-at-wins-even-created"
        ),
        pytest.param(
            [event("old", "updated", T, LATER), event("new", "created", LATER, T)],
            "new",
            id="updated-at-beats-occurred-at-and-kind",
        ),
        pytest.param(
            [event("c", "created", T, LATER), event("u", "updated", T, T)],
            "u",
            id="tie-updated-event-beats-created-event",
        ),
        pytest.param(
            [event("early", "updated", T, T), event("late", "updated", T, LATER)],
            "late",
            id="tie-same-kind-later-occurred-at-wins",
        ),
        pytest.param(
            [event("none", "updated", T, None), event("dated", "updated", T, T)],
            "dated",
            id="tie-missing-occurred-at-loses-to-any",
        ),
        pytest.param(
            [api(T), event("ev", "created", T)], "ev", id="tie-api-loses-to-created-event"
        ),
        pytest.param(
            [event("ev", "updated", T), api(T)], "ev", id="tie-api-loses-to-updated-event"
        ),
        pytest.param([api(T)], "api", id="single-version-wins"),
    ],
)
def test_merge_rule_picks_the_documented_winner(
    versions: list[tuple[Candidate, Parsed]], winner: str
) -> None:
    assert pick_latest(versions).name == winner


def test_merge_rule_does_not_depend_on_arrival_order() -> None:
    versions = [
        api(T),
        event("c", "created", T, LATER),
        event("u1", "updated", T, T),
        event("u2", "updated", T, LATER),
    ]

    winners = {pick_latest(versions[i:] + versions[:i]).name for i in range(len(versions))}

    assert winners == {"u2"}


def test_version_rank_orders_updated_at_first() -> None:
    older_but_richer = Candidate({}, source="webhook", event_kind="updated", occurred_at=LATER)
    newer_api = Candidate({}, source="api")

    assert version_rank(newer_api, LATER) > version_rank(older_but_richer, T)


def test_pick_latest_refuses_an_empty_list() -> None:
    with pytest.raises(ValueError, match="at least one version"):
        pick_latest([])
