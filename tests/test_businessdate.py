"""Business dates follow the store's wall clock less the cut-off, on every kind of day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfoNotFoundError

import pytest

from grafterr_pipeline.businessdate import business_date_of, parse_cutoff, pull_window
from grafterr_pipeline.businessdate import zone as get_zone

CUTOFF = dt.time(4, 0)


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        pytest.param("2026-12-01T01:30:00+00:00", "Europe/London", "2026-11-30", id="small-hours"),
        pytest.param("2026-12-01T04:00:00+00:00", "Europe/London", "2026-12-01", id="at-cutoff"),
        pytest.param(
            "2026-12-01T03:59:59+00:00", "Europe/London", "2026-11-30", id="before-cutoff"
        ),
        # 2026-03-29: London springs forward at 01:00 UTC; 04:30 BST is 03:30 UTC.
        pytest.param("2026-03-29T03:30:00+00:00", "Europe/London", "2026-03-29", id="spring-fwd"),
        # 2026-10-25: London falls back at 01:00 UTC; 04:30 GMT is 04:30 UTC.
        pytest.param("2026-10-25T04:30:00+00:00", "Europe/London", "2026-10-25", id="fall-back"),
        pytest.param("2026-10-25T03:30:00+00:00", "Europe/London", "2026-10-24", id="fall-back-3"),
        # Kolkata is +05:30: 22:00 UTC is 03:30 local the next day, still the day before.
        pytest.param("2026-11-30T22:00:00+00:00", "Asia/Kolkata", "2026-11-30", id="kolkata"),
        pytest.param("2026-11-30T23:00:00+00:00", "Asia/Kolkata", "2026-12-01", id="kolkata-4:30"),
        # New York is -05:00 in winter: 08:00 UTC is 03:00 local.
        pytest.param("2026-12-01T08:00:00+00:00", "America/New_York", "2026-11-30", id="new-york"),
        pytest.param("2026-12-01T03:30:00+05:30", "Asia/Kolkata", "2026-11-30", id="offset-input"),
    ],
)
def test_business_date_is_the_store_wall_clock_less_the_cutoff(
    instant: str, zone: str, expected: str
) -> None:
    result = business_date_of(dt.datetime.fromisoformat(instant), zone, CUTOFF)

    assert result == dt.date.fromisoformat(expected)


def test_naive_timestamp_is_refused_rather_than_read_as_local_time() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        business_date_of(dt.datetime(2026, 12, 1, 12), "Europe/London", CUTOFF)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Europe/London", "Etc/GMT+12"])
def test_pull_window_holds_the_whole_business_day_in_any_zone(zone: str) -> None:
    day = dt.date(2026, 11, 30)
    start, end = pull_window(day, CUTOFF)
    first = dt.datetime(2026, 11, 30, 4, 0).replace(tzinfo=dt.UTC)

    # Every local instant of the day, converted to UTC, falls inside the window.
    for hours in (0, 12, 23.99):
        local = dt.datetime.combine(day, CUTOFF) + dt.timedelta(hours=hours)
        instant = local.replace(tzinfo=get_zone(zone))
        assert start <= instant < end
        assert business_date_of(instant, zone, CUTOFF) == day
    assert start < first < end


@pytest.mark.parametrize("text", ["4", "25:00", "ab:cd", ""])
def test_cutoff_must_be_a_time_of_day(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_cutoff(text)


def test_a_zone_name_too_long_for_a_path_is_an_unknown_zone() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        get_zone("Europe/" + "x" * 5000)
