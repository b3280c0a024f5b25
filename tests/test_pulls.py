"""Several business dates pulled together: each order read once, each date's raw pull whole."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest

from grafterr_pipeline.businessdate import pull_window
from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.pulls import plan_slices, pull_raw_dates
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.warehouse import read_raw_manifest, read_raw_orders
from tests.client.conftest import settings_for

CUTOFF = dt.time(4, 0)
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
FIRST = dt.date(2026, 11, 16)
WEEK = [FIRST + dt.timedelta(days=n) for n in range(4)]
CONFIG = SandboxConfig(seed=5, scale=6, now=NOW)


def _days(*offsets: int) -> list[dt.date]:
    return [FIRST + dt.timedelta(days=n) for n in offsets]


def test_one_date_is_pulled_as_its_own_window() -> None:
    plan = plan_slices([FIRST], CUTOFF)

    assert plan.slices == (pull_window(FIRST, CUTOFF),)


def test_consecutive_dates_are_cut_where_each_window_starts_and_never_into_slivers() -> None:
    plan = plan_slices(WEEK, CUTOFF)

    starts = [a for a, _ in plan.slices]
    lengths = {b - a for a, b in plan.slices}

    assert starts == [pull_window(day, CUTOFF)[0] for day in WEEK]
    assert all(b == a for (_, b), (a, _) in itertools.pairwise(plan.slices))
    assert plan.slices[-1][1] == pull_window(WEEK[-1], CUTOFF)[1]
    assert min(lengths) >= dt.timedelta(days=1)


@pytest.mark.parametrize("dates", [WEEK, _days(0, 2), _days(0, 5, 6)], ids=str)
def test_each_window_is_exactly_the_slices_it_touches(dates: list[dt.date]) -> None:
    plan = plan_slices(dates, CUTOFF)

    for day in dates:
        start, end = pull_window(day, CUTOFF)
        touched = [plan.slices[n] for n in plan.slices_of(day)]
        assert touched[0][0] == start
        assert touched[-1][0] < end <= touched[-1][1]
        assert all(b == a for (_, b), (a, _) in itertools.pairwise(touched))


def _window_ids(day: dt.date, last: dt.date | None = None) -> set[str]:
    start, end = pull_window(day, CUTOFF)[0], pull_window(last or day, CUTOFF)[1]
    listed = OrderBook.from_config(CONFIG).listing(start, end, clock=NOW, date_field="created_at")
    return {entry.history.order_id for entry in listed}


def _stored_ids(root: Path, day: dt.date) -> set[str]:
    start, end = pull_window(day, CUTOFF)
    return {
        order["order_id"]
        for order in read_raw_orders(root, day, data_key="data")
        if start <= dt.datetime.fromisoformat(order["created_at"]) < end
    }


@pytest.mark.parametrize(
    "faults", [{}, {"drift_share": 0.2, "drift_pages": 4}], ids=["calm", "drifting"]
)
def test_a_range_stores_every_order_of_each_window_and_reads_each_once(
    tmp_path: Path, faults: dict[str, object]
) -> None:
    with SandboxServer(CONFIG.with_changes(**faults)) as server:
        settings = settings_for(server, tmp_path)
        with GrafterrClient(settings) as client:
            summaries = pull_raw_dates(settings, client, WEEK)

    # Each date's figures are its own slice's: together, every order of the range once.
    orders = sum(summary.stats.orders for summary in summaries)
    slices = [len(read_raw_manifest(tmp_path, d)["slices"]) for d in (WEEK[0], WEEK[-1])]

    assert [s.business_date for s in summaries] == WEEK
    for day in WEEK:
        assert _stored_ids(tmp_path, day) == _window_ids(day), day
    assert slices == [3, 1]
    assert orders == len(_window_ids(WEEK[0], WEEK[-1]))
    # And each date says which part of the pull its figures cover: its own slice.
    plan = plan_slices(WEEK, CUTOFF)
    for n, (day, summary) in enumerate(zip(WEEK, summaries, strict=True)):
        covered = read_raw_manifest(tmp_path, day)["stats_cover"]
        assert summary.stats_window == plan.slices[n], day
        assert covered == {
            "from": plan.slices[n][0].isoformat(),
            "to": plan.slices[n][1].isoformat(),
        }
