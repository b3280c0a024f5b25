"""The Dagster code location loads, with every asset, job and schedule a user expects."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from grafterr_pipeline.definitions import build_definitions
from grafterr_pipeline.defs.schedules import business_dates_for_tick
from grafterr_pipeline.errors import ConfigurationError

ASSET_NAMES = (
    "raw_orders",
    "webhook_deltas",
    "merged_orders",
    "orders",
    "order_items",
    "order_item_modifiers",
    "payments",
    "quarantine",
    "duckdb_views",
)
ENV = {"GRAFTERR_TIMEZONE": "Europe/London", "GRAFTERR_START_DATE": "2026-01-01"}


def test_definitions_load_without_any_credentials_set() -> None:
    defs = build_definitions(ENV)

    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}

    assert keys == set(ASSET_NAMES)
    assert defs.resolve_job_def("grafterr_orders_job") is not None
    dg.Definitions.validate_loadable(defs)


def test_every_asset_has_a_description_and_a_group() -> None:
    graph = build_definitions(ENV).resolve_asset_graph()

    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, key
        assert node.group_name in {"ingest", "warehouse"}, key


def test_a_partition_exists_only_after_its_cutoff() -> None:
    partitions = build_definitions(ENV).resolve_job_def("grafterr_orders_job").partitions_def
    before = dt.datetime(2026, 12, 2, 3, 59, tzinfo=dt.UTC)
    after = dt.datetime(2026, 12, 2, 4, 1, tzinfo=dt.UTC)

    assert partitions.get_partition_keys(current_time=before)[-1] == "2026-11-30"
    assert partitions.get_partition_keys(current_time=after)[-1] == "2026-12-01"


@pytest.mark.parametrize(
    ("tick", "expected_first"),
    [
        pytest.param("2026-12-02T05:00:00+00:00", "2026-12-01", id="ordinary-day"),
        pytest.param("2026-03-29T05:00:00+01:00", "2026-03-28", id="clocks-go-forward"),
        pytest.param("2026-10-25T05:00:00+00:00", "2026-10-24", id="clocks-go-back"),
    ],
)
def test_schedule_tick_rebuilds_yesterday_and_the_lookback(tick: str, expected_first: str) -> None:
    dates = business_dates_for_tick(
        dt.datetime.fromisoformat(tick),
        timezone="Europe/London",
        cutoff=dt.time(4, 0),
        lookback_days=3,
    )

    first = dt.date.fromisoformat(expected_first)
    assert dates == [first - dt.timedelta(days=n) for n in range(4)]


@pytest.mark.parametrize(
    ("tick", "expected"),
    [
        pytest.param("2026-12-02T05:00:00+00:00", "2026-12-01", id="ordinary-day"),
        pytest.param("2026-03-29T04:00:00+00:00", "2026-03-28", id="clocks-go-forward"),
        pytest.param("2026-10-25T05:00:00+00:00", "2026-10-24", id="clocks-go-back"),
    ],
)
def test_schedule_requests_one_keyed_run_over_the_recent_business_dates(
    tick: str, expected: str
) -> None:
    defs = build_definitions(ENV)
    schedule = defs.resolve_schedule_def("daily_grafterr_orders")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime.fromisoformat(tick),
        repository_def=defs.get_repository_def(),
    )

    [request] = list(schedule.evaluate_tick(context).run_requests or [])

    newest = dt.date.fromisoformat(expected)
    oldest = newest - dt.timedelta(days=3)
    assert request.partition_key_range == dg.PartitionKeyRange(str(oldest), str(newest))
    assert request.run_key == f"{oldest}..{newest}@{tick[:10]}"


def test_schedule_fires_an_hour_after_the_cutoff_in_the_home_zone() -> None:
    schedule = build_definitions(ENV).resolve_schedule_def("daily_grafterr_orders")

    assert schedule.cron_schedule == "0 5 * * *"
    assert schedule.execution_timezone == "Europe/London"
    assert schedule.description


@pytest.mark.parametrize(
    ("landed", "passed"),
    [pytest.param(1, True, id="yesterday-landed"), pytest.param(5, False, id="days-behind")],
)
def test_freshness_check_fails_when_the_newest_date_is_too_old(landed: int, passed: bool) -> None:
    defs = build_definitions(ENV)
    newest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=landed)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization("orders", partition=newest.isoformat())
        )
        job = defs.resolve_job_def("grafterr_freshness_job")

        result = job.execute_in_process(instance=instance, raise_on_error=False)

    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed is passed


def test_dagster_cli_validates_the_workspace(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dagster = Path(sys.executable).parent / "dagster"

    result = subprocess.run(
        [dagster, "definitions", "validate", "-w", str(root / "workspace.yaml")],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr
    assert "passed validation" in result.stderr + result.stdout


def test_the_committed_instance_config_loads_with_its_pools_and_run_queue(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "dagster.yaml").write_text((root / "dagster_home" / "dagster.yaml").read_text())

    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        settings = instance.get_concurrency_config()

    assert settings.pool_config.default_pool_limit == 2
    assert settings.run_queue_config.max_concurrent_runs == 4


def test_only_the_asset_that_calls_grafterr_takes_a_slot_of_the_api_pool() -> None:
    graph = build_definitions(ENV).resolve_asset_graph()

    pools = {key.to_user_string(): graph.get(key).pools for key in graph.get_all_asset_keys()}

    assert pools["raw_orders"] == {"grafterr_api"}
    assert all(not p for name, p in pools.items() if name != "raw_orders")


@pytest.mark.parametrize(
    "name",
    [
        "GRAFTERR_START_DATE",
        "GRAFTERR_LOOKBACK_DAYS",
        "GRAFTERR_RATE_LIMIT",
        "GRAFTERR_PAGE_SIZE",
        "GRAFTERR_BUSINESS_DAY_CUTOFF",
    ],
)
def test_a_malformed_setting_fails_the_code_location_naming_it(name: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        build_definitions({**ENV, name: "2026-13-01x"})


def test_the_warehouse_uri_reaches_the_assets_resource(tmp_path: Path) -> None:
    uri = (tmp_path / "elsewhere").as_uri()
    defs = build_definitions({**ENV, "GRAFTERR_WAREHOUSE_URI": uri})

    resource = defs.resources["grafterr"]

    assert resource.warehouse_uri == uri


def test_the_daily_and_freshness_schedules_run_once_a_daemon_is_up() -> None:
    defs = build_definitions(ENV)

    for name in ("daily_grafterr_orders", "hourly_freshness_check"):
        assert defs.resolve_schedule_def(name).default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_job_says_it_covers_up_to_a_month_of_dates() -> None:
    description = build_definitions(ENV).resolve_job_def("grafterr_orders_job").description

    assert "one business date" not in description
    assert "31" in description


@pytest.mark.parametrize(
    ("inbox_url", "kind"),
    [
        ("", "sqlite"),
        ("sqlite:///tmp/inbox.sqlite3", "sqlite"),
        ("postgresql://u@h/db", "postgres"),
    ],
)
def test_webhook_deltas_is_labelled_with_the_inbox_it_reads(inbox_url: str, kind: str) -> None:
    graph = build_definitions({**ENV, "GRAFTERR_INBOX_URL": inbox_url}).resolve_asset_graph()

    kinds = graph.get(dg.AssetKey("webhook_deltas")).kinds

    assert kind in kinds
    assert not ({"sqlite", "postgres"} - {kind}) & kinds


def test_no_check_description_speaks_of_the_sandbox() -> None:
    graph = build_definitions(ENV).resolve_asset_graph()

    for key in graph.asset_check_keys:
        assert "sandbox" not in graph.get(key).description.lower(), key
