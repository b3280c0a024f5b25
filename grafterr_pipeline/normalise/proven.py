"""Which rows of a chunk the SQL proved valid, and their merge keys, in Arrow.

``fastsql.CONV`` (and ``CONV_OTHER``) hand over every line's row with what judging it needs:
each value's own verdict (``ok``), the size and fraction facts of lines out of the canonical
layout, and, from ``listfacts.py``, the verdict on the order's lists. Combining them is a few
vectorised operations on flat columns; as a DuckDB statement storing a table, joined with the
zones and read back for the merge keys and for the lines left to Python, it cost more than the
work, on the critical path.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from grafterr_pipeline.normalise.fallback import KEYS_SCHEMA

__all__ = ["merge_keys", "proven", "unproven"]

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
