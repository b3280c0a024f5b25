"""Staging hand-made orders and landing them by both paths, for the fast path's focused tests.

Each order can be staged in the canonical layout or with its keys reversed, which the SQL
reads the other way (``fastsql.CONV_OTHER``), so a rule is checked in both readings.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path
from typing import Any

import pytest

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, dumps, loads, normalise_day
from grafterr_pipeline.normalise.fast import iter_chunks, normalise_staged

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 30)
OPTIONS = NormaliseOptions(pii="hash", pii_salt="pepper")
Order = dict[str, Any]


def keys_reversed(value: Any) -> Any:
    """``value`` with every object's keys in reverse order: out of the canonical layout."""
    if isinstance(value, dict):
        return {key: keys_reversed(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [keys_reversed(item) for item in value]
    return value


LAYOUTS = pytest.mark.parametrize(
    "layout", [lambda o: o, keys_reversed], ids=["canonical", "other"]
)


def stage(path: Path, orders: list[Order]) -> Path:
    """``orders`` staged as ``merge_orders`` stages the pull's, gzipped."""
    record = {"source": "api", "event_kind": None, "occurred_at": None}
    with gzip.open(path, "wb") as out:
        for order in orders:
            out.write(dumps({**record, "order": order}).encode() + b"\n")
    return path


def land(path: Path) -> tuple[dict[str, list[Order]], list[Order], int]:
    """The fast path's tables and quarantine as rows, checked against the reference's, and how
    many lines it left to the Python reader."""
    fast = normalise_staged([path], business_date=DAY, options=OPTIONS, now=NOW)
    with gzip.open(path, "rb") as lines:
        candidates = [Candidate(loads(line)["order"], source="api") for line in lines]
    reference = normalise_day(candidates, business_date=DAY, options=OPTIONS, now=NOW)
    tables = {name: table.to_pylist() for name, table in fast.tables.items()}
    assert tables == {name: table.to_pylist() for name, table in reference.tables.items()}
    assert fast.quarantine.to_pylist() == reference.quarantine.to_pylist()
    chunks = iter_chunks([path], business_date=DAY, options=OPTIONS, now=NOW)
    return tables, fast.quarantine.to_pylist(), sum(c.python_lines for c in chunks)


def assert_bad_order_left_to_python(path: Path, word: str) -> None:
    """Of ``path``'s orders ``ord_bad`` (the Python reader's only line) is quarantined with
    ``word`` in its reason, and ``ord_1`` lands."""
    tables, quarantine, python_lines = land(path)
    assert [row["order_id"] for row in tables["orders"]] == ["ord_1"]
    assert [row["order_id"] for row in quarantine] == ["ord_bad"]
    assert word in quarantine[0]["reason"]
    assert python_lines == 1
