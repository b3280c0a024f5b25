"""The fast path gives the reference's tables; valid orders land exactly, invalid ones are held.

Orders are generated inside the contract and broken in known ways (``strategies.py``), staged as
``merge_orders`` stages them, and normalised by both paths.
"""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, dumps, loads, normalise_day
from grafterr_pipeline.normalise.day import NormalisedDay, best_effort_date
from grafterr_pipeline.normalise.fast import iter_chunks, normalise_staged
from grafterr_pipeline.normalise.values import read_timestamp
from tests.factories import make_order
from tests.normalise.fastcheck import keys_reversed
from tests.normalise.strategies import invalid_orders, valid_orders

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
OPTIONS = NormaliseOptions(pii="hash", pii_salt="pepper")
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _stage(path: Path, orders: list[Any], *, source: str = "api") -> Path:
    record = {"source": source, "event_kind": None, "occurred_at": None}
    with gzip.open(path, "wb") as out:
        for order in orders:
            out.write(dumps({**record, "order": order}).encode() + b"\n")
    return path


def _reference(path: Path, business_date: dt.date, options: NormaliseOptions) -> NormalisedDay:
    with gzip.open(path, "rb") as lines:
        records = [loads(line) for line in lines]
    candidates = [Candidate(r["order"], source=r["source"]) for r in records]
    return normalise_day(candidates, business_date=business_date, options=options, now=NOW)


def _both(
    path: Path, business_date: dt.date, options: NormaliseOptions = OPTIONS, **kwargs: Any
) -> tuple[NormalisedDay, NormalisedDay]:
    fast = normalise_staged([path], business_date=business_date, options=options, now=NOW, **kwargs)
    return fast, _reference(path, business_date, options)


def _assert_same(fast: NormalisedDay, reference: NormalisedDay) -> None:
    for name, table in reference.tables.items():
        assert fast.tables[name].schema.equals(table.schema, check_metadata=True), name
        assert fast.tables[name].to_pylist() == table.to_pylist(), name
    assert fast.quarantine.to_pylist() == reference.quarantine.to_pylist()


def _python_lines(path: Path, business_date: dt.date) -> int:
    chunks = iter_chunks([path], business_date=business_date, options=OPTIONS, now=NOW)
    return sum(chunk.python_lines for chunk in chunks)


def _business_date(order: dict[str, Any]) -> dt.date:
    created = read_timestamp(order["created_at"], "created_at")
    return business_date_of(created, order["store"]["timezone"], OPTIONS.cutoff)


@PROPERTY
@given(orders=st.lists(valid_orders(), min_size=1, max_size=4), broken=st.data())
def test_fast_path_gives_the_reference_tables_for_any_mix_of_orders(
    tmp_path: Path, orders: list[dict[str, Any]], broken: st.DataObject
) -> None:
    for n, order in enumerate(orders):
        order["order_id"] = f"ord_{n}"
    bad = [
        broken.draw(invalid_orders(f"ord_bad_{n}"))[0]
        for n in range(broken.draw(st.integers(0, 2)))
    ]
    path = _stage(tmp_path / "staged.jsonl.gz", [*orders, *bad])

    fast, reference = _both(path, _business_date(orders[0]))

    _assert_same(fast, reference)


@PROPERTY
@given(order=valid_orders())
def test_every_valid_order_lands_with_its_exact_totals(
    tmp_path: Path, order: dict[str, Any]
) -> None:
    path = _stage(tmp_path / "staged.jsonl.gz", [order])

    fast, _ = _both(path, _business_date(order))

    assert _python_lines(path, _business_date(order)) == 0
    row = fast.tables["orders"].to_pylist()[0]
    assert fast.quarantine.num_rows == 0
    for key, sent in order["totals"].items():
        assert row[key] == Decimal(str(sent)), key
    assert fast.tables["order_items"].num_rows == len(order["items"])
    assert row["line_count"] == len(order["items"])
    assert row["payment_count"] == len(order["payments"])


@PROPERTY
@given(broken=invalid_orders())
def test_every_invalid_order_is_quarantined_with_a_reason(
    tmp_path: Path, broken: tuple[dict[str, Any], str]
) -> None:
    order, word = broken
    day = best_effort_date(Candidate(order), OPTIONS)
    good = make_order(order_id="ord_ok")
    if day is not None:  # the partition the broken order belongs to, with a good one beside it
        good.update(created_at=order["created_at"], store=order["store"])
    path = _stage(tmp_path / "staged.jsonl.gz", [order, good])

    fast, reference = _both(path, day or _business_date(good))

    assert fast.tables["orders"]["order_id"].to_pylist() == ["ord_ok"]
    assert fast.quarantine.num_rows == 1
    assert word in fast.quarantine["reason"][0].as_py()
    _assert_same(fast, reference)


@pytest.mark.parametrize("pii", ["hash", "keep", "drop"])
def test_fast_path_applies_the_privacy_mode_as_the_reference_does(tmp_path: Path, pii: str) -> None:
    path = _stage(tmp_path / "staged.jsonl.gz", [make_order()])

    fast, reference = _both(path, dt.date(2026, 11, 30), NormaliseOptions(pii=pii, pii_salt="s"))

    _assert_same(fast, reference)


def test_orders_with_unknown_fields_keep_them_through_the_fast_path(tmp_path: Path) -> None:
    order = make_order(loyalty={"points": 3})
    order["items"][0]["allergens"] = ["milk"]
    path = _stage(tmp_path / "staged.jsonl.gz", [order])

    fast, reference = _both(path, dt.date(2026, 11, 30))

    _assert_same(fast, reference)
    assert '"loyalty":{"points":3}' in fast.tables["orders"]["extra_json"][0].as_py()


def test_money_numbers_too_long_for_a_float_are_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "staged.jsonl"
    line = dumps({"source": "api", "order": make_order()}).replace(
        '"total":"11.50"', '"total":0.1000000000000000000001'
    )
    path.write_text(line + "\n")

    fast = normalise_staged([path], business_date=dt.date(2026, 11, 30), options=OPTIONS, now=NOW)

    assert fast.tables["orders"].num_rows == 0
    assert "two decimals" in fast.quarantine["reason"][0].as_py()


def test_a_line_that_is_not_json_is_quarantined_and_the_day_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "staged.jsonl"
    good = dumps({"source": "api", "order": make_order()})
    path.write_text("{not json\n" + good + "\n")

    fast = normalise_staged([path], business_date=dt.date(2026, 11, 30), options=OPTIONS, now=NOW)

    assert fast.tables["orders"].num_rows == 1
    assert "not a candidate" in fast.quarantine["reason"][0].as_py()


def test_latest_version_wins_across_chunks(tmp_path: Path) -> None:
    old = make_order(status="completed")
    new = make_order(status="refunded", updated_at="2026-12-02T10:00:00+00:00")
    others = [make_order(order_id=f"ord_{n}") for n in range(30)]
    path = _stage(tmp_path / "staged.jsonl.gz", [new, *others, old])

    fast, reference = _both(path, dt.date(2026, 11, 30), chunk_bytes=4096)

    _assert_same(fast, reference)
    rows = fast.tables["orders"].to_pylist()
    assert {r["order_id"]: r["status"] for r in rows}["ord_1"] == "refunded"


def test_empty_staging_gives_every_table_with_its_schema(tmp_path: Path) -> None:
    path = _stage(tmp_path / "staged.jsonl.gz", [])

    fast, reference = _both(path, dt.date(2026, 11, 30))

    _assert_same(fast, reference)
    assert all(t.num_rows == 0 for t in fast.tables.values())
    assert isinstance(fast.quarantine, pa.Table)


@PROPERTY
@given(order=valid_orders())
def test_valid_orders_with_their_keys_in_another_order_are_still_read_by_sql(
    tmp_path: Path, order: dict[str, Any]
) -> None:
    path = _stage(tmp_path / "staged.jsonl.gz", [keys_reversed(order)])

    fast, reference = _both(path, _business_date(order))

    assert _python_lines(path, _business_date(order)) == 0
    _assert_same(fast, reference)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"line_id":"l_1"', '"line_id":"l_1","allergens":null'),
        ('"order_id":"ord_1"', '"order_id": "ord_1"'),
        ('"total":"11.50"', '"total":1.15e1'),
        ('"name":"Tea"', '"name":"T\\u00e9a"'),
    ],
    ids=["unknown-null-field", "blank-between-tokens", "exponent", "escape"],
)
def test_lines_sql_cannot_prove_are_read_by_python_with_the_same_result(
    tmp_path: Path, old: str, new: str
) -> None:
    line = dumps({"source": "api", "event_kind": None, "occurred_at": None, "order": make_order()})
    path = tmp_path / "staged.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(line.replace(old, new) + "\n")

    fast, reference = _both(path, dt.date(2026, 11, 30))

    assert _python_lines(path, dt.date(2026, 11, 30)) == 1
    assert fast.tables["orders"].num_rows == 1
    _assert_same(fast, reference)
