"""The fast path's fallback: staged lines the SQL could not prove valid, read by the reference.

Each such line is parsed exactly as :func:`grafterr_pipeline.steps.read_merged` parses it and
given to :func:`grafterr_pipeline.normalise.orders.order_rows`; a valid order yields rows and the
keys the merge needs, an invalid one a quarantine row with its reason. A line that is not even
a staged candidate (not JSON, no ``order``) is quarantined too, rather than stopping the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from grafterr_pipeline.errors import InvalidOrderError
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise.day import best_effort_date, parse_candidate, quarantine_row
from grafterr_pipeline.normalise.orders import NormaliseOptions, OrderRows
from grafterr_pipeline.normalise.schema import QUARANTINE
from grafterr_pipeline.normalise.values import loads

__all__ = ["KEYS_SCHEMA", "Fallback", "python_rows"]

Row = dict[str, Any]
_UNKNOWN_SOURCE = "unknown"

# What the merge needs of each valid version (merge.version_rank), and the line it came from.
KEYS_SCHEMA = pa.schema(
    [
        ("cand", pa.int64()),
        ("order_id", pa.string()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("is_event", pa.bool_()),
        ("kind", pa.bool_()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("business_date", pa.date32()),
    ]
)


@dataclass
class Fallback:
    """Rows, merge keys and quarantine of the lines the Python reference read."""

    rows: dict[str, list[Row]] = field(default_factory=dict)
    key_rows: list[Row] = field(default_factory=list)
    quarantine_rows: list[Row] = field(default_factory=list)
    lines: int = 0

    @property
    def keys(self) -> pa.Table:
        """The merge keys of the valid orders, for the SQL's ``python_keys``."""
        return pa.Table.from_pylist(self.key_rows, schema=KEYS_SCHEMA)

    @property
    def quarantine(self) -> pa.Table:
        """The quarantine rows, in line order."""
        return pa.Table.from_pylist(self.quarantine_rows, schema=QUARANTINE)

    def table(self, name: str, schema: pa.Schema) -> pa.Table:
        """The rows of table ``name`` with ``schema`` (which has ``_cand``)."""
        return pa.Table.from_pylist(self.rows.get(name, []), schema=schema)

    def add(self, cand: int, candidate: Candidate, rows: OrderRows) -> None:
        """Keep a valid order's rows, tagged with its line, and its merge keys."""
        for name, table_rows in rows.tables.items():
            self.rows.setdefault(name, []).extend({**r, "_cand": cand} for r in table_rows)
        self.key_rows.append(
            {
                "cand": cand,
                "order_id": rows.order_id,
                "updated_at": rows.updated_at,
                "is_event": candidate.source != "api",
                "kind": candidate.event_kind == "updated",
                "occurred_at": candidate.occurred_at,
                "business_date": rows.business_date,
            }
        )


def _candidate(line: bytes) -> Candidate | str:
    """The candidate a staged line holds, or why it holds none. The line is parsed as bytes,
    as ``steps.read_merged`` parses it: ``json.loads`` then skips a byte order mark, and bytes
    that are not UTF-8 fail as a ``ValueError``."""
    try:
        record = loads(line)
        occurred = record.get("occurred_at")
        if not isinstance(record["source"], str):
            raise TypeError(f"source {record['source']!r} is not text")
        return Candidate(
            order=record["order"],
            source=record["source"],
            event_kind=record.get("event_kind"),
            occurred_at=dt.datetime.fromisoformat(occurred) if occurred else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        return f"staged line is not a candidate order: {type(err).__name__}: {err}"


def python_rows(
    lines: Iterable[tuple[int, bytes]],
    *,
    business_date: dt.date,
    options: NormaliseOptions,
    now: dt.datetime,
) -> Fallback:
    """Read ``(line number, bytes)`` pairs with the Python reference."""
    fallback = Fallback()
    for cand, line in lines:
        fallback.lines += 1
        candidate = _candidate(line)
        if isinstance(candidate, str):
            fallback.quarantine_rows.append(_unreadable(line, candidate, business_date, now))
            continue
        parsed = parse_candidate(candidate, options)
        if isinstance(parsed, OrderRows):
            fallback.add(cand, candidate, parsed)
        elif best_effort_date(candidate, options) in (None, business_date):
            fallback.quarantine_rows.append(quarantine_row(candidate, parsed, business_date, now))
    return fallback


def _unreadable(line: bytes, reason: str, business_date: dt.date, now: dt.datetime) -> Row:
    error = InvalidOrderError(reason)
    return {
        "source": _UNKNOWN_SOURCE,
        "order_id": error.order_id,
        "business_date": business_date,
        "reason": error.reason,
        # bytes that are not UTF-8 are kept escaped, so the text stays exact
        "raw_json": line.decode("utf-8", "backslashreplace").rstrip("\r\n"),
        "quarantined_at": now,
    }
