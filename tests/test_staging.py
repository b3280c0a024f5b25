"""Staging by keys, then landing, gives what validating and merging every version first gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import normalise_day
from grafterr_pipeline.settings import Settings
from grafterr_pipeline.steps import land_tables, merge_orders, normalise_options, read_merged
from tests.factories import make_order, offline_settings, write_pull

DAY = dt.date(2026, 11, 30)
NEXT_DAY = "2026-12-01T19:42:11+00:00"
LATER = "2026-12-02T09:00:00+00:00"
NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return offline_settings(tmp_path)


def _pull(settings: Settings, orders: list[Any]) -> None:
    write_pull(settings.data_dir, DAY, orders)


def _event(order: dict[str, Any], kind: str = "updated") -> Candidate:
    occurred = dt.datetime.fromisoformat(order["updated_at"])
    return Candidate(order=order, source="webhook", event_kind=kind, occurred_at=occurred)


# Each case: the pulled orders, the webhook versions, and what the keys alone say.
CASES = {
    "newest-version-invalid-older-valid-lands": (
        [make_order(order_id="ord_1")],
        [_event(make_order(order_id="ord_1", updated_at=LATER, totals="broken"))],
    ),
    "order-of-the-next-date-is-left-out": (
        [make_order(order_id="ord_1"), make_order(order_id="ord_2", created_at=NEXT_DAY)],
        [],
    ),
    "moved-to-the-next-date-by-a-later-version": (
        [make_order(order_id="ord_1")],
        [_event(make_order(order_id="ord_1", created_at=NEXT_DAY, updated_at=LATER))],
    ),
    "invalid-newest-version-of-the-next-date-leaves-the-order-here": (
        [make_order(order_id="ord_1")],
        [_event(make_order(order_id="ord_1", created_at=NEXT_DAY, updated_at=LATER, items=7))],
    ),
    "invalid-version-of-the-next-date-is-not-quarantined-here": (
        [make_order(order_id="ord_1"), make_order(order_id="ord_2", created_at=NEXT_DAY)],
        [_event(make_order(order_id="ord_2", created_at=NEXT_DAY, totals="broken"))],
    ),
    "unkeyed-versions-of-this-or-no-date-are-quarantined": (
        [
            make_order(order_id="ord_1"),
            make_order(order_id=None),
            make_order(order_id="ord_3", updated_at="yesterday"),
            make_order(order_id="ord_4", created_at="soon"),
            make_order(order_id=None, created_at=NEXT_DAY),
            "not an order",
        ],
        [],
    ),
    "tie-keeps-the-first-version-read": (
        [make_order(order_id="ord_1", status="completed")],
        [
            _event(make_order(order_id="ord_1", status="refunded", updated_at=LATER)),
            _event(make_order(order_id="ord_1", status="cancelled", updated_at=LATER)),
        ],
    ),
}


@pytest.mark.parametrize(("pulled", "events"), CASES.values(), ids=CASES.keys())
def test_landing_the_staged_versions_equals_merging_every_validated_version(
    settings: Settings, pulled: list[Any], events: list[Candidate]
) -> None:
    _pull(settings, pulled)
    everything = [*(Candidate(order=o, source="api") for o in pulled), *events]
    reference = normalise_day(
        everything, business_date=DAY, options=normalise_options(settings), now=NOW
    )

    merge_orders(settings, DAY, deltas=events)
    landed = land_tables(settings, DAY).day

    for name, table in reference.tables.items():
        assert landed.tables[name].equals(table), name
    keys = ["order_id", "reason", "raw_json"]
    assert (
        landed.quarantine.select(keys).to_pylist() == reference.quarantine.select(keys).to_pylist()
    )


def test_keys_count_orders_by_their_newest_version(settings: Settings) -> None:
    pulled = [make_order(order_id="ord_1"), make_order(order_id="ord_2", created_at=NEXT_DAY)]
    _pull(settings, [*pulled, make_order(order_id=None)])
    events = [_event(make_order(order_id="ord_1", updated_at=LATER))]

    staged = merge_orders(settings, DAY, deltas=events)

    assert [c.order["order_id"] for c in read_merged(settings, DAY)] == ["ord_1", None, "ord_1"]
    assert (staged.orders, staged.unkeyed, staged.superseded) == (1, 1, 1)
    assert staged.sources == {"api+webhook": 1}
