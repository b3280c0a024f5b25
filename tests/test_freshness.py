"""The warehouse is stale when its newest business date completed more than 30 hours ago."""

from __future__ import annotations

import datetime as dt

import pytest

from grafterr_pipeline.freshness import completed_at, freshness

CUTOFF = dt.time(4, 0)


def test_a_business_date_completes_at_the_next_cutoff_on_the_home_clock() -> None:
    summer = completed_at(dt.date(2026, 7, 1), timezone="Europe/London", cutoff=CUTOFF)
    winter = completed_at(dt.date(2026, 12, 1), timezone="Europe/London", cutoff=CUTOFF)

    assert summer == dt.datetime(2026, 7, 2, 3, 0, tzinfo=dt.UTC)
    assert winter == dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "fresh"),
    [
        pytest.param("2026-12-03T05:00:00+00:00", True, id="after-the-daily-run"),
        pytest.param("2026-12-03T10:00:00+00:00", True, id="exactly-30-hours"),
        pytest.param("2026-12-03T10:01:00+00:00", False, id="one-missed-run"),
    ],
)
def test_freshness_turns_stale_past_30_hours(now: str, fresh: bool) -> None:
    landed = [dt.date(2026, 11, 30), dt.date(2026, 12, 1)]

    verdict = freshness(
        landed, now=dt.datetime.fromisoformat(now), timezone="Europe/London", cutoff=CUTOFF
    )

    assert verdict.latest == dt.date(2026, 12, 1)
    assert verdict.fresh is fresh


def test_an_empty_warehouse_is_not_fresh() -> None:
    verdict = freshness([], now=dt.datetime.now(dt.UTC), timezone="UTC", cutoff=CUTOFF)

    assert not verdict.fresh
    assert "no business date" in verdict.describe()
