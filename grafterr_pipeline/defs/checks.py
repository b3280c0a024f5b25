"""Asset checks on each landed partition: they fail, naming the orders, when the data is wrong.

``quarantine``: the partition quarantined orders; ``orders``: an ``order_id`` appears twice, or an
order breaks the sandbox's arithmetic (lines to subtotal to total, payments to total for completed
orders, within a penny). The audits themselves live in :mod:`grafterr_pipeline.normalise.audit`.
"""

import datetime as dt
import warnings
from collections.abc import Callable
from pathlib import Path

from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetKey,
    MetadataValue,
    Output,
    PartitionsDefinition,
    asset_check,
)

from grafterr_pipeline.defs.partitions import partition_date, partition_dates
from grafterr_pipeline.defs.resources import GrafterrResource
from grafterr_pipeline.normalise.audit import (
    Finding,
    arithmetic_breaks,
    quarantined_orders,
    repeated_order_ids,
)
from grafterr_pipeline.steps import warehouse_of

__all__ = ["build_table_checks"]

# Each check judges one business date, so it takes the assets' partitions. Dagster 1.13 calls
# partitioned checks a preview and warns at every definitions load, flooding the demo's output;
# the behaviour is covered by tests/normalise/test_contract_on_disk.py and the e2e tests.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", module="dagster"
)

# Enough to start looking; the count says how many there are in all.
_NAMED = 20

Audit = Callable[[Path, dt.date], list[Finding]]


def _result(findings: list[Finding], what: str) -> AssetCheckResult:
    named = [f"{f.order_id or '<no order_id>'}: {f.problem}" for f in findings[:_NAMED]]
    orders = sorted({f.order_id or "<no order_id>" for f in findings})
    description = (
        f"{len(orders)} order(s) {what}: " + ", ".join(orders[:_NAMED])
        if findings
        else f"no order {what}"
    )
    return AssetCheckResult(
        passed=not findings,
        description=description,
        metadata={
            "orders": MetadataValue.int(len(orders)),
            "findings": MetadataValue.md("\n".join(f"- {line}" for line in named) or "none"),
        },
    )


def _per_partition(
    result: AssetCheckResult, asset: str, name: str, day: dt.date
) -> AssetCheckEvaluation:
    # A check run over a range of partitions gets no partition of its own from Dagster 1.13
    # (AssetCheckResult takes the step's single partition key), so each date's verdict is
    # recorded on its partition as an evaluation of its own.
    return AssetCheckEvaluation(
        asset_key=AssetKey(asset),
        check_name=name,
        passed=result.passed,
        metadata=result.metadata,
        description=result.description,
        partition=day.isoformat(),
    )


def _check(
    partitions: PartitionsDefinition, asset: str, name: str, audit: Audit, what: str, doc: str
) -> AssetChecksDefinition:
    @asset_check(asset=AssetKey(asset), name=name, description=doc, partitions_def=partitions)
    def check(context: AssetCheckExecutionContext, grafterr: GrafterrResource):
        location = warehouse_of(grafterr.settings()).location
        if context.has_partition_key:
            yield _result(audit(location, partition_date(context.partition_key)), what)
            return
        for day in partition_dates(context):
            yield _per_partition(_result(audit(location, day), what), asset, name, day)
        yield Output(None)  # the check's step output, which Dagster expects once per step

    return check


def build_table_checks(partitions: PartitionsDefinition) -> list[AssetChecksDefinition]:
    """The checks of the warehouse tables, over ``partitions``."""
    return [
        _check(
            partitions,
            "quarantine",
            "no_quarantined_orders",
            quarantined_orders,
            "quarantined",
            "Fails, naming them and their reasons, when the partition quarantined any order.",
        ),
        _check(
            partitions,
            "orders",
            "order_id_unique",
            repeated_order_ids,
            "with a repeated order_id",
            "Fails, naming them, when an order_id appears more than once in the partition.",
        ),
        _check(
            partitions,
            "orders",
            "arithmetic_holds",
            arithmetic_breaks,
            "breaking the arithmetic",
            "Fails, naming them, when an order's money disagrees by more than a penny: each "
            "line_total must be quantity x (unit price + modifiers) - discount, the active "
            "lines must add up to the subtotal, the total must be subtotal - discount + "
            "service charge + tip, and a completed order's captured less refunded payments must "
            "equal its total.",
        ),
    ]
