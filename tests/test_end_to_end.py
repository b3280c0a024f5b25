"""The whole flow, through Dagster, against the sandbox over loopback HTTP.

Two business dates are pulled, merged, normalised and landed, and what DuckDB answers is
compared with the sandbox's ground truth for its seed: exact order ids, row counts and money.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance

from grafterr_pipeline.cli.run import materialise_dates
from grafterr_pipeline.sandbox import (
    SandboxConfig,
    SandboxServer,
    ground_truth,
    pipeline_environment,
)
from grafterr_pipeline.warehouse import Warehouse

pytestmark = pytest.mark.slow

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
DATES = [dt.date(2026, 11, 17), dt.date(2026, 11, 18)]
CONFIG = SandboxConfig(seed=7, now=NOW)


@dataclass(frozen=True)
class Landed:
    warehouse: Warehouse
    metadata: dict[tuple[str, str], dict[str, object]]


def _latest_metadata(instance: DagsterInstance) -> dict[tuple[str, str], dict[str, object]]:
    found: dict[tuple[str, str], dict[str, object]] = {}
    for key in instance.get_asset_keys():
        for record in instance.fetch_materializations(key, limit=100).records:
            event = record.asset_materialization
            found.setdefault(
                (key.to_user_string(), event.partition),
                {name: value.value for name, value in event.metadata.items()},
            )
    return found


@pytest.fixture(scope="module")
def landed_run(tmp_path_factory: pytest.TempPathFactory) -> Landed:
    root = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as env, SandboxServer(CONFIG) as server:
        told = pipeline_environment(CONFIG, server.base_url, data_dir=str(root), rate_limit=200)
        for name, value in {**told, "GRAFTERR_PII_SALT": "test-salt"}.items():
            env.setenv(name, value)
        with DagsterInstance.ephemeral() as instance:
            results = materialise_dates(DATES, instance=instance)
            rerun = materialise_dates(DATES[:1], instance=instance)
            metadata = _latest_metadata(instance)
    assert [r.success for r in results + rerun] == [True, True, True]
    return Landed(Warehouse(Path(root)), metadata)


@pytest.fixture(scope="module")
def landed(landed_run: Landed) -> Warehouse:
    return landed_run.warehouse


@pytest.mark.parametrize("day", DATES, ids=str)
def test_warehouse_holds_exactly_the_orders_of_the_business_date(
    landed: Warehouse, day: dt.date
) -> None:
    truth = ground_truth(CONFIG, day, as_of=NOW)

    rows = landed.query("SELECT order_id FROM orders WHERE business_date = ?", [day]).rows

    assert sorted(r[0] for r in rows) == sorted(truth.orders)
    assert len(truth.orders) > 100


@pytest.mark.parametrize("day", DATES, ids=str)
def test_every_table_has_the_row_count_the_seed_implies(landed: Warehouse, day: dt.date) -> None:
    truth = ground_truth(CONFIG, day, as_of=NOW)

    counts = {
        table: landed.query(f"SELECT count(*) FROM {table} WHERE business_date = ?", [day]).rows[0][
            0
        ]
        for table in truth.rows
    }

    assert counts == dict(truth.rows)
    assert landed.query("SELECT count(*) FROM quarantine").rows[0][0] == 0


@pytest.mark.parametrize("day", DATES, ids=str)
def test_daily_sales_match_the_ground_truth_to_the_penny(landed: Warehouse, day: dt.date) -> None:
    truth = ground_truth(CONFIG, day, as_of=NOW)

    result = landed.query(
        "SELECT channel, sum(orders), sum(cancelled_orders), sum(items), sum(gross_revenue), "
        "sum(refunds), sum(net_revenue) FROM daily_sales WHERE business_date = ? "
        "GROUP BY channel ORDER BY channel",
        [day],
    )

    expected = [
        (ch, t.orders, t.cancelled, t.items, t.gross, t.refunds, t.net)
        for ch, t in sorted(truth.per_channel.items())
    ]
    assert [tuple(r) for r in result.rows] == expected


@pytest.mark.parametrize("day", DATES, ids=str)
def test_materialisations_record_counts_money_and_client_figures(
    landed_run: Landed, day: dt.date
) -> None:
    truth = ground_truth(CONFIG, day, as_of=NOW)
    key = day.isoformat()

    orders = landed_run.metadata[("orders", key)]
    raw = landed_run.metadata[("raw_orders", key)]
    items = landed_run.metadata[("order_items", key)]

    assert orders["rows"] == truth.rows["orders"]
    assert items["rows"] == truth.rows["order_items"]
    assert sum(orders[f"orders_{c}"] for c in truth.per_channel) == truth.day.orders
    assert raw["requests"] >= raw["pages"] > 0
    assert raw["throttled_429"] == 0
    assert "| order_id |" in orders["preview"]
    assert orders["bytes"] > 0


@pytest.mark.parametrize("day", DATES, ids=str)
def test_orders_metadata_gives_money_per_currency_exactly_never_summed_across(
    landed_run: Landed, day: dt.date
) -> None:
    truth = ground_truth(CONFIG, day, as_of=NOW)
    orders = landed_run.metadata[("orders", day.isoformat())]

    assert len(truth.per_currency) > 1  # a day of several currencies
    for currency, tally in truth.per_currency.items():
        # Whole hundredths (the warehouse keeps 2 decimals): exact, and a number Dagster plots.
        assert orders[f"gross_revenue_{currency}_hundredths"] == int(tally.gross * 100)
        assert orders[f"net_revenue_{currency}_hundredths"] == int(tally.net * 100)
        assert (
            f"| {currency} | {tally.gross} | {tally.refunds} | {tally.net} |" in (orders["revenue"])
        )
    assert not [name for name in orders if name in ("gross_revenue", "net_revenue")]
    assert not [
        name for name, value in orders.items() if "revenue" in name and isinstance(value, float)
    ]
