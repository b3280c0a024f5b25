"""``run`` and ``demo`` name a date's failed asset checks beside its landed orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from dagster import DagsterInstance

from grafterr_pipeline.cli.run import DayResult, materialise_dates
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from grafterr_pipeline.sandbox.environment import pipeline_environment
from grafterr_pipeline.settings import Settings
from grafterr_pipeline.webhooks import Dating, SqliteInbox, read_delivery
from tests.webhooks.helpers import body, delivery

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
CLEAN, BROKEN = dt.date(2026, 11, 14), dt.date(2026, 11, 15)
CONFIG = SandboxConfig(seed=13, scale=2, now=NOW)
QUARANTINED = "no_quarantined_orders"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[DayResult]]]:
    root = str(tmp_path_factory.mktemp("data"))
    with pytest.MonkeyPatch.context() as env, SandboxServer(CONFIG) as server:
        told = pipeline_environment(CONFIG, server.base_url, data_dir=root, rate_limit=200)
        for name, value in {**told, "GRAFTERR_PII_SALT": "check-salt"}.items():
            env.setenv(name, value)
        env.delenv("GRAFTERR_WEBHOOK_INBOX", raising=False)
        # A webhook whose order has a naive created_at: quarantined on BROKEN, its arrival date.
        broken = delivery("evt_bad", order_id="ord_bad", created_at="2026-11-15T12:00:00")
        arrived = dt.datetime(2026, 11, 15, 12, 30, tzinfo=dt.UTC)
        with SqliteInbox(Settings.from_env().inbox_path) as inbox:
            inbox.record(read_delivery(body(broken), received_at=arrived, dating=Dating()))
        with DagsterInstance.ephemeral() as instance:
            yield {
                "range": materialise_dates([CLEAN, BROKEN], instance=instance),
                "one date": materialise_dates([BROKEN], instance=instance),
            }


@pytest.mark.parametrize("how", ["range", "one date"])
def test_a_quarantined_order_is_named_as_a_failed_check_of_its_date(
    runs: dict[str, list[DayResult]], how: str
) -> None:
    result = next(r for r in runs[how] if r.business_date == BROKEN)

    assert result.success
    assert [check.split(":")[0] for check in result.failed_checks] == [f"quarantine {QUARANTINED}"]
    assert "ord_bad" in result.failed_checks[0]
    assert "1 check(s) FAILED: quarantine no_quarantined_orders" in result.summary()


def test_a_date_whose_checks_pass_reports_none(runs: dict[str, list[DayResult]]) -> None:
    (clean,) = [r for r in runs["range"] if r.business_date == CLEAN]

    assert clean.success
    assert clean.failed_checks == ()
    assert "FAILED" not in clean.summary()
