"""Which rows of a chunk the SQL proved valid, and their merge keys, in Arrow.

``fastsql.CONV`` (and ``CONV_OTHER``) hand over every line's row with what judging it needs:
each value's own verdict (``ok``), the size and fraction facts of lines out of the canonical
layout, and, from ``listfacts.py``, the verdict on the order's lists. Combining them is a few
vectorised operations on flat columns; as a DuckDB statement storing a table, joined with the
zones and read back for the merge keys and for the lines left to Python, it cost more than the
work, on the critical path.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grafterr_pipeline.businessdate import zone
from grafterr_pipeline.normalise.fallback import KEYS_SCHEMA

__all__ = ["business_dates", "merge_keys", "proven", "unproven"]

# A fraction read through a float is exact only when the line's text has no exponent and no
# run of 16 digits; the few lines out of the canonical layout with such money are searched.
_INEXACT = r"[0-9][eE]|[0-9](\.?[0-9]){15}"
# What the merge and the business date need of a proven row.
_KEPT = [
    "cand", "order_id", "updated_at", "source", "event_kind", "occurred_at", "store_timezone",
    "created_at",
]  # fmt: skip


def proven(conv: pa.Table, zones: pa.Array, lines: pa.StringArray, first: int) -> pa.Table:
    """What the merge needs of the rows of ``conv`` whose every value is valid, whose zone is
    one of ``zones`` and whose length leaves room for no other key, by line; ``lines`` are the
    chunk's, the first numbered ``first``."""
    valid = _all(
        conv["ok"],
        conv["lists_ok"],
        pc.is_in(conv["store_timezone"], zones),
        pc.is_valid(conv["created_at"]),
        pc.is_valid(conv["updated_at"]),
        pc.or_kleene(pc.is_valid(conv["occurred_at"]), pc.invert(conv["occurred_given"])),
        pc.or_kleene(conv["canonical"], pc.equal(conv["size_left"], conv["lists_size"])),
    )
    fractions = pc.or_(conv["fractions"], conv["lists_fractions"])
    suspect = pc.fill_null(pc.and_(valid, pc.and_not(fractions, conv["canonical"])), False)
    if pc.any(suspect).as_py():
        valid = pc.and_(valid, pc.invert(_inexact(conv["cand"], suspect, lines, first)))
    good = conv.select(_KEPT).filter(valid)
    cand = good["cand"].to_numpy()
    return good if (np.diff(cand) > 0).all() else good.sort_by("cand")


def merge_keys(good: pa.Table, business_date: pa.Array | pa.ChunkedArray) -> pa.Table:
    """The merge keys (``KEYS_SCHEMA``) of :func:`proven`'s rows, given their business dates."""
    keys = {
        "cand": good["cand"],
        "order_id": good["order_id"],
        "updated_at": good["updated_at"],
        "is_event": pc.not_equal(good["source"], "api"),
        "kind": pc.fill_null(pc.equal(good["event_kind"], "updated"), False),
        "occurred_at": good["occurred_at"],
        "business_date": business_date,
    }
    return pa.table(keys).cast(KEYS_SCHEMA)


_HOUR = 3_600_000_000  # microseconds
_DAY = 24 * _HOUR
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def business_dates(
    created_at: pa.ChunkedArray, zones: pa.ChunkedArray, cutoff: dt.time
) -> pa.Array:
    """The business date of each instant of ``created_at`` (UTC) in the zone named beside it in
    ``zones`` (each known to ``zoneinfo``), as ``businessdate.business_date_of`` gives it.

    The offsets come from the same ``zoneinfo`` data as the reference's, not from DuckDB's ICU,
    which carries its own copy of the zone rules: a different tzdata release dates an order
    near the cut-off on another day. They are looked up once per zone and hour: no zone changes
    its offset twice within an hour (tzdata's closest transitions are days apart), so an hour
    whose first and last microsecond have the same offset has it throughout; in any other hour,
    each instant is looked up.
    """
    us = pc.cast(created_at, pa.int64()).to_numpy().astype(np.int64)
    encoded = pc.dictionary_encode(zones.combine_chunks())
    names = encoded.dictionary.to_pylist()
    code = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    if not len(us):
        return pa.array([], pa.date32())
    hour = us // _HOUR
    first_hour = int(hour.min())
    span = int(hour.max()) - first_hour + 1
    buckets, bucket = np.unique(code * span + (hour - first_hour), return_inverse=True)
    offsets = np.empty(len(buckets), dtype=np.int64)
    changes = np.zeros(len(buckets), dtype=bool)
    for n, key in enumerate(buckets.tolist()):
        tz = zone(names[key // span])
        start = (first_hour + key % span) * _HOUR
        offsets[n] = _offset(tz, start)
        changes[n] = _offset(tz, start + _HOUR - 1) != offsets[n]
    offset = offsets[bucket]
    for row in np.flatnonzero(changes[bucket]).tolist():
        offset[row] = _offset(zone(names[code[row]]), int(us[row]))
    cutoff_us = (cutoff.hour * 60 + cutoff.minute) * 60_000_000
    days = (us + offset - cutoff_us) // _DAY
    return pa.array(days.astype(np.int32)).cast(pa.date32())


def _offset(tz: ZoneInfo, us: int) -> int:
    """The UTC offset of ``tz``, in microseconds, at ``us`` microseconds after the epoch."""
    local = (_EPOCH + dt.timedelta(microseconds=us)).astimezone(tz)
    return (local.utcoffset() or dt.timedelta(0)) // dt.timedelta(microseconds=1)


def unproven(keys: pa.Table, count: int, first: int) -> np.ndarray:
    """The numbers of the ``count`` lines from ``first`` that have no proven row in ``keys``."""
    left = np.ones(count, dtype=bool)
    left[keys["cand"].to_numpy() - first] = False
    return np.flatnonzero(left) + first


def _all(*conditions: pa.ChunkedArray) -> pa.ChunkedArray:
    """Where every condition is true (a null counts as false)."""
    result = conditions[0]
    for condition in conditions[1:]:
        result = pc.and_kleene(result, condition)
    return pc.fill_null(result, False)


def _inexact(
    cand: pa.ChunkedArray, suspect: pa.ChunkedArray, lines: pa.StringArray, first: int
) -> pa.Array:
    """For each row, whether it is ``suspect`` and its line's money text may not survive a
    float."""
    rows = np.flatnonzero(suspect.to_numpy(zero_copy_only=False))
    texts = lines.take(pa.array(cand.to_numpy()[rows] - first))
    found = np.zeros(len(cand), dtype=bool)
    found[rows] = pc.match_substring_regex(texts, _INEXACT).to_numpy(zero_copy_only=False)
    return pa.array(found)
