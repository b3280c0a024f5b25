"""``grafterr-pipeline demo`` reports only the business dates it loaded."""

from __future__ import annotations

from grafterr_pipeline.cli.demo import demo_summary
from grafterr_pipeline.warehouse import Warehouse
from tests.warehouse.helpers import DATES


def test_the_demo_summary_lists_only_the_dates_it_was_given(landed: Warehouse) -> None:
    everything = landed.query("SELECT DISTINCT business_date FROM daily_sales").rows

    summary = demo_summary(landed, [DATES[-1]])

    assert len(everything) == len(DATES) > 1  # an earlier date is there to leave out
    assert summary.rows
    assert {row[0] for row in summary.rows} == {DATES[-1]}
