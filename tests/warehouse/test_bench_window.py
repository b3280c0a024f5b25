"""The warehouse bench times queries over dates it built, never over an empty month."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.warehouse_bench import FIRST, window


@pytest.mark.parametrize("days", [31, 60, 180, 181, 365], ids=lambda d: f"{d}-days")
def test_the_bench_month_and_day_lie_inside_the_built_dates(days: int) -> None:
    last = FIRST + dt.timedelta(days=days - 1)

    (start, end), day = window(days)

    assert FIRST <= start <= day <= end <= last
    assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1  # a whole month


def test_a_build_without_a_whole_month_is_refused_with_the_days_to_ask_for() -> None:
    with pytest.raises(SystemExit, match="--days 31 or more"):
        window(30)
