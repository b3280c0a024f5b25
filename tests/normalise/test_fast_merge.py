"""Within one chunk, the fast path keeps the version of each order the reference keeps.

A chunk whose orders each have one version, all read by SQL, skips the merge query; these
cases do not, and must still agree with the reference line for line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, dumps, loads, normalise_day
from grafterr_pipeline.normalise.fast import FastNormaliser, iter_chunks, normalise_staged
from tests.factories import make_order

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
DAY = dt.date(2026, 11, 30)
OPTIONS = NormaliseOptions(pii="hash", pii_salt="pepper")
LATER = "2026-11-30T21:00:00+00:00"


def _line(order: dict[str, Any], *, source: str = "api", kind: str | None = None) -> str:
    occurred = LATER if kind else None
    record = {"source": source, "event_kind": kind, "occurred_at": occurred, "order": order}
    return dumps(record)


def _unknown_field(order: dict[str, Any]) -> dict[str, Any]:
    return {**order, "loyalty": {"points": 3}}  # read by the Python reference, not SQL


@pytest.mark.parametrize(
    "lines",
    [
        [_line(make_order(status="open")), _line(make_order(updated_at=LATER))],
        [_line(make_order(updated_at=LATER)), _line(make_order(status="open"))],
        [_line(make_order()), _line(make_order(status="refunded"), source="webhook")],
        [
            _line(make_order(), source="webhook", kind="created"),
            _line(make_order(status="refunded"), source="webhook", kind="updated"),
        ],
        [_line(make_order()), _line(_unknown_field(make_order(updated_at=LATER)))],
        [_line(_unknown_field(make_order())), _line(make_order(updated_at=LATER))],
        [_line(make_order(order_id="ord_2")), _line(_unknown_field(make_order()))],
    ],
    ids=[
        "newer-second",
        "newer-first",
        "tie-webhook-wins",
        "tie-updated-event-wins",
        "newer-read-by-python",
        "older-read-by-python",
        "distinct-orders-one-by-python",
    ],
)
def test_versions_in_one_chunk_merge_as_in_the_reference(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "staged.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines))
    records = [loads(line) for line in lines]
    candidates = [
        Candidate(
            r["order"],
            source=r["source"],
            event_kind=r["event_kind"],
            occurred_at=dt.datetime.fromisoformat(r["occurred_at"]) if r["occurred_at"] else None,
        )
        for r in records
    ]

    fast = normalise_staged([path], business_date=DAY, options=OPTIONS, now=NOW)
    [chunk] = iter_chunks([path], business_date=DAY, options=OPTIONS, now=NOW)
    reference = normalise_day(candidates, business_date=DAY, options=OPTIONS, now=NOW)

    for name, table in reference.tables.items():
        assert fast.tables[name].to_pylist() == table.to_pylist(), name
        assert chunk.tables[name].num_rows == table.num_rows, name
    assert fast.tables["orders"].num_rows == len({r["order"]["order_id"] for r in records})


def test_a_normaliser_started_on_one_thread_goes_back_to_duckdbs_default() -> None:
    # iter_chunks queries a date's first chunk on one DuckDB thread and the rest on the default.
    default = duckdb.connect().execute("SELECT current_setting('threads')").fetchone()
    normaliser = FastNormaliser(DAY, OPTIONS, NOW, threads=1)
    try:
        one = normaliser.con.execute("SELECT current_setting('threads')").fetchone()
        normaliser.use_default_threads()
        back = normaliser.con.execute("SELECT current_setting('threads')").fetchone()
    finally:
        normaliser.close()

    assert (one, back, normaliser.threads) == ((1,), default, None)
