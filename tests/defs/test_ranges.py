"""A range of business dates runs as one Dagster run, and every date keeps its own records."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance

from grafterr_pipeline.cli.run import DayResult, _arrow_allocator, materialise_dates, runs_of
from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, ground_truth
from grafterr_pipeline.sandbox.environment import pipeline_environment

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
DATES = [dt.date(2026, 11, 14) + dt.timedelta(days=n) for n in range(3)]
CONFIG = SandboxConfig(seed=13, scale=3, now=NOW)
CHECKS = {"no_quarantined_orders", "order_id_unique", "arithmetic_holds"}


def _d(day: int) -> dt.date:
    return dt.date(2026, 11, day)


@pytest.mark.parametrize(
    ("dates", "most", "expected"),
    [
        pytest.param([_d(3), _d(1), _d(2)], 31, [[_d(1), _d(2), _d(3)]], id="consecutive"),
        pytest.param([_d(1), _d(2), _d(5)], 31, [[_d(1), _d(2)], [_d(5)]], id="a-gap"),
        pytest.param([_d(1), _d(2), _d(3)], 2, [[_d(1), _d(2)], [_d(3)]], id="at-most-two"),
        pytest.param([_d(1), _d(1)], 31, [[_d(1)]], id="repeated"),
    ],
)
def test_dates_run_in_ranges_of_consecutive_days(
    dates: list[dt.date], most: int, expected: list[list[dt.date]]
) -> None:
    assert runs_of(dates, most=most) == expected


@pytest.fixture(scope="module")
def ranged(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[DagsterInstance, list[DayResult]]]:
    root = str(tmp_path_factory.mktemp("data"))
    with pytest.MonkeyPatch.context() as env, SandboxServer(CONFIG) as server:
        told = pipeline_environment(CONFIG, server.base_url, data_dir=root, rate_limit=200)
        for name, value in {**told, "GRAFTERR_PII_SALT": "range-salt"}.items():
            env.setenv(name, value)
        with DagsterInstance.ephemeral() as instance:
            yield instance, materialise_dates(DATES, instance=instance)


def test_the_range_is_one_run_and_every_date_lands(
    ranged: tuple[DagsterInstance, list[DayResult]],
) -> None:
    _, results = ranged

    assert [r.business_date for r in results] == DATES
    assert {r.run_id for r in results} == {results[0].run_id}
    assert all(r.success for r in results)
    assert [r.orders for r in results] == [
        ground_truth(CONFIG, day, as_of=NOW).day.orders for day in DATES
    ]


def test_each_partition_gets_its_own_materialisation_and_window(
    ranged: tuple[DagsterInstance, list[DayResult]],
) -> None:
    instance, _ = ranged

    raw = instance.fetch_materializations(AssetKey("raw_orders"), limit=10).records
    windows = {r.asset_materialization.partition: r.asset_materialization.metadata for r in raw}

    assert sorted(windows) == [d.isoformat() for d in DATES]
    assert len({m["window_from"].value for m in windows.values()}) == len(DATES)
    # The client's figures say which part of the range's pull they cover: the date's own slice,
    # from its window start to the next date's, the last date's to its window end.
    ordered = [windows[d.isoformat()] for d in DATES]
    for this, following in zip(ordered, [*ordered[1:], None], strict=True):
        assert this["stats_from"].value == this["window_from"].value
        end = following["window_from"] if following else this["window_to"]
        assert this["stats_to"].value == end.value


def test_each_check_judges_each_partition_of_the_range(
    ranged: tuple[DagsterInstance, list[DayResult]],
) -> None:
    instance, results = ranged

    evaluations = [
        entry.dagster_event.event_specific_data
        for entry in instance.all_logs(
            results[0].run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
        )
    ]
    # The freshness check judges the table as a whole, once per run.
    evaluations = [e for e in evaluations if e.check_name in CHECKS]
    judged = Counter((e.check_name, e.partition) for e in evaluations)

    assert judged == Counter({(c, d.isoformat()): 1 for c in CHECKS for d in DATES})
    assert all(e.passed for e in evaluations)


def test_a_date_without_a_partition_is_refused_by_name(
    ranged: tuple[DagsterInstance, list[DayResult]],
) -> None:
    instance, _ = ranged
    future = dt.date.today() + dt.timedelta(days=3)

    with pytest.raises(ConfigurationError, match=future.isoformat()):
        materialise_dates([DATES[-1], future], instance=instance)


@pytest.mark.parametrize(
    ("told", "backend"),
    [pytest.param(None, "system", id="default"), pytest.param("mimalloc", None, id="told")],
)
def test_a_run_gives_arrow_the_system_allocator_unless_the_environment_picks_one(
    monkeypatch: pytest.MonkeyPatch, told: str | None, backend: str | None
) -> None:
    before = pa.default_memory_pool()
    if told:
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", told)
    else:
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    pa.set_memory_pool(pa.mimalloc_memory_pool())

    try:
        _arrow_allocator()
        chosen = pa.default_memory_pool().backend_name
    finally:
        pa.set_memory_pool(before)

    assert chosen == (backend or "mimalloc")
