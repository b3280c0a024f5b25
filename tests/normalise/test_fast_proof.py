"""Values the canonical pattern and the strict reading accept, but that only a calendar or the
zone database can judge, send their line to the Python reference, in either layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grafterr_pipeline.normalise import dumps
from grafterr_pipeline.normalise.fast import iter_chunks, normalise_staged
from tests.factories import make_order
from tests.normalise.fastcheck import (
    DAY,
    LAYOUTS,
    NOW,
    OPTIONS,
    Order,
    assert_bad_order_left_to_python,
    stage,
)


@LAYOUTS
@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"store": {"store_id": "st_1", "name": "Moon", "timezone": "Moon/Base"}}, "time zone"),
        ({"created_at": "2026-02-30T19:42:11+00:00"}, "ISO-8601"),
        ({"updated_at": "2026-11-31T19:58:40+00:00"}, "ISO-8601"),
    ],
    ids=["unknown-zone", "impossible-created-at", "impossible-updated-at"],
)
def test_values_only_a_calendar_or_zone_can_judge_are_left_to_python(
    tmp_path: Path, layout: Callable[[Order], Order], changes: dict[str, Any], word: str
) -> None:
    broken = make_order(order_id="ord_bad", **changes)
    path = stage(tmp_path / "staged.jsonl.gz", [layout(broken), layout(make_order())])

    assert_bad_order_left_to_python(path, word)


def test_an_event_time_no_calendar_has_is_left_to_python(tmp_path: Path) -> None:
    record = {"source": "webhook", "event_kind": "updated", "order": make_order()}
    line = dumps({**record, "occurred_at": "2026-02-30T21:00:00+00:00"})
    path = tmp_path / "staged.jsonl"
    path.write_text(line + "\n")

    fast = normalise_staged([path], business_date=DAY, options=OPTIONS, now=NOW)
    chunks = iter_chunks([path], business_date=DAY, options=OPTIONS, now=NOW)

    assert fast.tables["orders"].num_rows == 0
    assert fast.quarantine.num_rows == 1
    assert "not a candidate" in fast.quarantine["reason"][0].as_py()
    assert sum(chunk.python_lines for chunk in chunks) == 1
