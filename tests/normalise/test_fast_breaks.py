"""Inputs found to make the fast path disagree with the reference (branch break-fast5).

Each case stages hand-made lines and checks the fast path against the Python reference, or,
for a line that is not JSON, against the fast path's own promise: quarantined with a reason,
the rest of the day loaded.
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pyarrow as pa
import pytest

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import dumps, loads, normalise_day
from grafterr_pipeline.normalise.fast import normalise_staged
from grafterr_pipeline.normalise.proven import business_dates
from grafterr_pipeline.normalise.values import read_timestamp
from tests.factories import make_order
from tests.normalise.fastcheck import NOW, OPTIONS, stage


@pytest.mark.parametrize(
    ("timezone", "created_at"),
    [
        ("America/Vancouver", "2026-11-30T11:30:00+00:00"),
        ("America/Winnipeg", "2026-11-30T09:30:00+00:00"),
        ("Europe/Amsterdam", "1900-01-27T03:50:00+00:00"),
        ("Asia/Kuwait", "1920-03-28T00:50:00+00:00"),
    ],
)
def test_business_date_follows_the_zone_rules_the_reference_uses(
    tmp_path: Path, timezone: str, created_at: str
) -> None:
    """DuckDB's ICU carries its own copy of the zone rules, which need not be the tzdata that
    Python's ``zoneinfo`` reads: the fast path must date an order as the reference does, so
    the order lands on one partition, the reference's, and on no other."""
    order = make_order(created_at=created_at, updated_at=created_at)
    order["store"] = {**order["store"], "timezone": timezone}
    path = stage(tmp_path / "staged.jsonl.gz", [order])
    home = business_date_of(read_timestamp(created_at, "created_at"), timezone, OPTIONS.cutoff)

    for day in (home - dt.timedelta(days=1), home, home + dt.timedelta(days=1)):
        fast = normalise_staged([path], business_date=day, options=OPTIONS, now=NOW)
        reference = normalise_day([Candidate(order)], business_date=day, options=OPTIONS, now=NOW)
        for name, table in reference.tables.items():
            assert fast.tables[name].to_pylist() == table.to_pylist(), (day, name)
        assert fast.tables["orders"].num_rows == (day == home), day


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"quantity":2', '"quantity":02'),
        ('"covers":2', '"covers":-02'),
        ('"product_id":"p_1"', '"product_id":007'),
        ('"unit_price":"4.50"', '"unit_price":04.5'),
    ],
    ids=["int", "negative-int", "id", "money"],
)
def test_a_number_with_a_leading_zero_is_quarantined_not_a_crash(
    tmp_path: Path, old: str, new: str
) -> None:
    """JSON forbids leading zeros; a line in the canonical layout but for such a number must
    be quarantined like any line that is not JSON, and the rest of the day load."""
    record = {"source": "api", "event_kind": None, "occurred_at": None}
    bad = dumps({**record, "order": make_order(order_id="ord_bad")})
    assert old in bad
    good = dumps({**record, "order": make_order()})
    path = tmp_path / "staged.jsonl"
    path.write_text(bad.replace(old, new, 1) + "\n" + good + "\n")

    fast = normalise_staged([path], business_date=dt.date(2026, 11, 30), options=OPTIONS, now=NOW)

    assert fast.tables["orders"]["order_id"].to_pylist() == ["ord_1"]
    assert fast.quarantine.num_rows == 1
    assert "not a candidate" in fast.quarantine["reason"][0].as_py()


@pytest.mark.parametrize("timezone", ["America/Vancouver", "Australia/Lord_Howe", "Asia/Kuwait"])
@pytest.mark.parametrize("year", [1900, 2026])
def test_business_dates_in_arrow_are_the_reference_dates(timezone: str, year: int) -> None:
    """Every 1,201 seconds of a year (LMT offsets in seconds, half-hour daylight shifts), at a
    cut-off that is not on the hour."""
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    instants = [start + dt.timedelta(seconds=s) for s in range(0, 366 * 86400, 1201)]
    cutoff = dt.time(4, 30)

    dates = business_dates(
        pa.chunked_array([pa.array(instants, pa.timestamp("us", tz="UTC"))]),
        pa.chunked_array([pa.array([timezone] * len(instants))]),
        cutoff,
    )

    assert dates.to_pylist() == [business_date_of(i, timezone, cutoff) for i in instants]


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        (b"\xff", "not a candidate"),
        (b"\xed\xa0\x80", "not valid Unicode"),
        (b"\xf4\x90\x80\x80", "not a candidate"),
    ],
    ids=["not-utf8", "surrogate", "beyond-unicode"],
)
def test_a_line_that_is_not_utf8_is_quarantined_not_a_crash(
    tmp_path: Path, sent: bytes, reason: str
) -> None:
    """Bytes that are not UTF-8 (here in a product name of a line otherwise in the canonical
    layout) are not JSON text: the line is quarantined as the reference's reader
    (``json.loads`` of the bytes) finds it, and the rest of the day loads."""
    record = {"source": "api", "event_kind": None, "occurred_at": None}
    bad = dumps({**record, "order": make_order(order_id="ord_bad")}).encode()
    good = dumps({**record, "order": make_order()}).encode()
    path = tmp_path / "staged.jsonl"
    path.write_bytes(bad.replace(b'"Tea"', b'"T' + sent + b'a"') + b"\n" + good + b"\n")

    fast = normalise_staged([path], business_date=dt.date(2026, 11, 30), options=OPTIONS, now=NOW)

    assert fast.tables["orders"]["order_id"].to_pylist() == ["ord_1"]
    [row] = fast.quarantine.to_pylist()
    assert reason in row["reason"]
    assert '"T\\' in row["raw_json"]  # the bytes kept, escaped


def test_a_line_with_a_byte_order_mark_is_read_as_the_reference_reads_it(tmp_path: Path) -> None:
    """``steps.read_merged`` parses the staged bytes, where ``json.loads`` skips a UTF-8 byte
    order mark; the fast path's Python reader must read the line the same way."""
    order = make_order()
    line = dumps({"source": "api", "event_kind": None, "occurred_at": None, "order": order})
    path = tmp_path / "staged.jsonl.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"\xef\xbb\xbf" + line.encode() + b"\n")
    with gzip.open(path, "rb") as lines:
        candidates = [Candidate(loads(raw)["order"], source="api") for raw in lines]

    fast = normalise_staged([path], business_date=dt.date(2026, 11, 30), options=OPTIONS, now=NOW)
    reference = normalise_day(
        candidates, business_date=dt.date(2026, 11, 30), options=OPTIONS, now=NOW
    )

    for name, table in reference.tables.items():
        assert fast.tables[name].to_pylist() == table.to_pylist(), name
    assert fast.tables["orders"].num_rows == 1
    assert fast.quarantine.num_rows == reference.quarantine.num_rows == 0
