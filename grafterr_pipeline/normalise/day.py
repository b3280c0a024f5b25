"""A business date's candidate order versions into the four tables and a quarantine.

Candidates come from the API pull and from webhook events. :func:`merge_day` validates each,
keeps one version per ``order_id`` by the rule in :mod:`grafterr_pipeline.merge`, and keeps the
orders whose business date is the partition's. :func:`normalise_day` turns the result into
Arrow tables with the schemas of :mod:`grafterr_pipeline.normalise.schema`. An invalid order
never stops the day: it becomes a quarantine row with its reason and raw JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from grafterr_pipeline.businessdate import business_date_of
from grafterr_pipeline.errors import InvalidOrderError
from grafterr_pipeline.merge import Candidate, MergedDay, pick_latest
from grafterr_pipeline.normalise.orders import NormaliseOptions, OrderRows, order_rows
from grafterr_pipeline.normalise.schema import QUARANTINE, TABLES
from grafterr_pipeline.normalise.values import dumps, read_timestamp

__all__ = [
    "NormalisedDay",
    "best_effort_date",
    "merge_day",
    "normalise_day",
    "parse_candidate",
    "quarantine_row",
]

logger = logging.getLogger(__name__)

Row = dict[str, object]


@dataclass(frozen=True)
class NormalisedDay:
    """The four tables and the quarantine of one business date."""

    business_date: dt.date
    tables: dict[str, pa.Table]
    quarantine: pa.Table

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per table, quarantine included."""
        counts = {name: table.num_rows for name, table in self.tables.items()}
        return {**counts, "quarantine": self.quarantine.num_rows}


def parse_candidate(
    candidate: Candidate, options: NormaliseOptions
) -> OrderRows | InvalidOrderError:
    """The rows of a candidate's order, or the error that sends it to the quarantine."""
    try:
        return order_rows(candidate.order, source=candidate.source, options=options)
    except InvalidOrderError as err:
        return err


def best_effort_date(candidate: Candidate, options: NormaliseOptions) -> dt.date | None:
    """The business date of an invalid order, when its timestamp and zone can still be read."""
    order = candidate.order
    try:
        created_at = read_timestamp(order.get("created_at"), "created_at")
        return business_date_of(created_at, order["store"]["timezone"], options.cutoff)
    except (InvalidOrderError, AttributeError, KeyError, TypeError, ValueError):
        return None


def merge_day(
    candidates: Iterable[Candidate], *, business_date: dt.date, options: NormaliseOptions
) -> MergedDay:
    """Keep the latest valid version of each order of ``business_date``.

    An invalid version is kept in ``unreadable`` when its business date is this one or cannot
    be told; one that plainly belongs to another date is left to that date's partition.
    """
    valid: dict[str, list[tuple[Candidate, OrderRows]]] = {}
    unreadable: list[Candidate] = []
    for candidate in candidates:
        parsed = parse_candidate(candidate, options)
        if isinstance(parsed, OrderRows):
            valid.setdefault(parsed.order_id, []).append((candidate, parsed))
        elif best_effort_date(candidate, options) in (None, business_date):
            unreadable.append(candidate)

    winners: list[Candidate] = []
    sources: dict[str, int] = {}
    duplicates = 0
    for versions in valid.values():
        winner = pick_latest(versions)
        if winner.business_date != business_date:
            continue
        winners.extend(c for c, rows in versions if rows is winner)
        known = "+".join(sorted({c.source for c, _ in versions}))
        sources[known] = sources.get(known, 0) + 1
        duplicates += len(versions) - 1
    return MergedDay(business_date, winners, unreadable, sources, duplicates)


def normalise_day(
    candidates: Iterable[Candidate],
    *,
    business_date: dt.date,
    options: NormaliseOptions,
    now: dt.datetime | None = None,
) -> NormalisedDay:
    """Validate, merge and tabulate the candidates of ``business_date``."""
    now = now or dt.datetime.now(dt.UTC)
    rows: dict[str, list[Row]] = {name: [] for name in TABLES}
    quarantine: list[Row] = []
    merged = merge_day(candidates, business_date=business_date, options=options)

    for candidate in merged.winners:
        parsed = parse_candidate(candidate, options)
        assert isinstance(parsed, OrderRows)  # winners were validated by merge_day
        for name, table_rows in parsed.tables.items():
            rows[name].extend(table_rows)
    for candidate in merged.unreadable:
        err = parse_candidate(candidate, options)
        assert isinstance(err, InvalidOrderError)  # merge_day found it unreadable
        quarantine.append(quarantine_row(candidate, err, business_date, now))

    if quarantine:
        logger.warning("%s: %d order version(s) quarantined", business_date, len(quarantine))
    return NormalisedDay(
        business_date=business_date,
        tables={name: _table(rows[name], schema) for name, schema in TABLES.items()},
        quarantine=pa.Table.from_pylist(quarantine, schema=QUARANTINE),
    )


def quarantine_row(
    candidate: Candidate, err: InvalidOrderError, business_date: dt.date, now: dt.datetime
) -> Row:
    """The quarantine row of an invalid candidate."""
    return {
        "source": candidate.source,
        "order_id": err.order_id,
        "business_date": business_date,
        "reason": err.reason,
        "raw_json": dumps(candidate.order),
        "quarantined_at": now,
    }


def _table(rows: list[Row], schema: pa.Schema) -> pa.Table:
    rows.sort(key=lambda r: (r["created_at"], r["order_id"]))
    return pa.Table.from_pylist(rows, schema=schema)
