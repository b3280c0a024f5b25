"""The production instance: Dagster's run, event-log and schedule storage in PostgreSQL.

A temporary ``DAGSTER_HOME`` holds the committed ``dagster_home/dagster.postgres.yaml`` as its
``dagster.yaml``, exactly as docs/deployment.md says to install it, with the connection in the
``DAGSTER_PG_*`` variables. Two business dates are materialised against the sandbox through the
unchanged definitions, in one run over both, then the history is read back through a fresh
instance and straight from PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from grafterr_pipeline.cli.run import JOB_NAME, DayResult, materialise_dates
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer, ground_truth
from tests.deploy.pg import PostgresServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_YAML = ROOT / "dagster_home" / "dagster.postgres.yaml"
SQLITE_YAML = ROOT / "dagster_home" / "dagster.yaml"
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
DATES = [dt.date(2026, 11, 17), dt.date(2026, 11, 18)]
CONFIG = SandboxConfig(seed=11, scale=20, now=NOW)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _pg_env(postgres: PostgresServer, database: str) -> dict[str, str]:
    return {
        "DAGSTER_PG_HOST": postgres.host,
        "DAGSTER_PG_PORT": str(postgres.port),
        "DAGSTER_PG_USER": postgres.user,
        "DAGSTER_PG_PASSWORD": postgres.password,
        "DAGSTER_PG_DB": database,
    }


def _sandbox_env(server: SandboxServer, data: Path) -> dict[str, str]:
    return {
        "GRAFTERR_BASE_URL": server.base_url,
        "GRAFTERR_CLIENT_ID": CONFIG.client_id,
        "GRAFTERR_CLIENT_SECRET": CONFIG.client_secret,
        "GRAFTERR_API_KEY": CONFIG.api_key,
        "GRAFTERR_DATA_DIR": str(data),
        "GRAFTERR_PII_SALT": "deploy-salt",
        "GRAFTERR_RATE_LIMIT": "200",
    }


@pytest.fixture(scope="module")
def home(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, list[DayResult]]]:
    """A DAGSTER_HOME on PostgreSQL after two dates were materialised; the env stays set."""
    postgres.create_database("dagster")
    home = tmp_path_factory.mktemp("dagster_home_pg")
    shutil.copyfile(POSTGRES_YAML, home / "dagster.yaml")
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as env, SandboxServer(CONFIG) as sandbox:
        for name, value in {**_pg_env(postgres, "dagster"), **_sandbox_env(sandbox, data)}.items():
            env.setenv(name, value)
        env.setenv("DAGSTER_HOME", str(home))
        with DagsterInstance.get() as instance:
            results = materialise_dates(DATES, instance=instance)
        yield home, results


def test_two_business_dates_materialise_through_the_postgres_instance(
    home: tuple[Path, list[DayResult]],
) -> None:
    _, results = home

    outcome = [(r.business_date, r.success) for r in results]

    assert outcome == [(day, True) for day in DATES]
    assert [r.orders for r in results] == [
        ground_truth(CONFIG, d, as_of=NOW).day.orders for d in DATES
    ]


def test_a_fresh_instance_reads_back_both_runs_and_their_materialisations(
    home: tuple[Path, list[DayResult]],
) -> None:
    _, results = home

    with DagsterInstance.get() as fresh:
        runs = fresh.get_runs(filters=RunsFilter(job_name=JOB_NAME))
        orders = fresh.fetch_materializations(AssetKey("orders"), limit=10).records

    assert {r.run_id for r in runs} == {r.run_id for r in results}
    assert {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
    # Consecutive dates run as one run over their partition range.
    assert [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in runs] == [
        (DATES[0].isoformat(), DATES[-1].isoformat())
    ]
    assert sorted(m.asset_materialization.partition for m in orders) == [
        d.isoformat() for d in DATES
    ]


def test_the_history_is_in_postgres_and_not_in_the_home_folder(
    postgres: PostgresServer, home: tuple[Path, list[DayResult]]
) -> None:
    folder, results = home

    conn = postgres.connect("dagster")
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT run_id FROM runs")
            run_ids = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = ANY(%s)", [list(run_ids)]
            )
            events = cursor.fetchone()[0]
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
            tables = {row[0] for row in cursor.fetchall()}
    finally:
        conn.close()

    assert run_ids == {r.run_id for r in results}
    assert events > 20
    assert {"instigators", "jobs", "job_ticks"} <= tables  # schedule storage
    assert not list(folder.rglob("*.db")), "a SQLite storage file was created in DAGSTER_HOME"


def test_both_instance_files_share_the_concurrency_limits() -> None:
    postgres = yaml.safe_load(POSTGRES_YAML.read_text())
    local = yaml.safe_load(SQLITE_YAML.read_text())

    assert postgres["concurrency"] == local["concurrency"]
    assert "storage" not in local
    connection = postgres["storage"]["postgres"]["postgres_db"]
    assert connection.pop("scheme") == "postgresql+psycopg2"
    assert sorted(value["env"] for value in connection.values()) == sorted(
        f"DAGSTER_PG_{part}" for part in ("HOST", "PORT", "USER", "PASSWORD", "DB")
    )
