"""The pipeline's steps for one business date, free of any orchestrator.

Dagster assets (:mod:`grafterr_pipeline.defs`) call these; each step reads what the previous
one stored under the data root, so any step can be rerun alone:

1. :func:`pull_raw`: the API pages of the partition's window into ``raw/``;
2. :func:`merge_orders`: raw pages and webhook deltas into one version per order, in
   ``staging/``;
3. :func:`land_tables`: normalised tables and the quarantine into ``warehouse/``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafterr_pipeline.businessdate import pull_window
from grafterr_pipeline.client import GrafterrClient, PullStats
from grafterr_pipeline.merge import Candidate, MergedDay
from grafterr_pipeline.normalise import NormaliseOptions, dumps, loads, normalise_day
from grafterr_pipeline.normalise.day import NormalisedDay, merge_day
from grafterr_pipeline.settings import Settings
from grafterr_pipeline.warehouse import Warehouse, WrittenPartition, read_raw_orders
from grafterr_pipeline.warehouse.files import atomic_write
from grafterr_pipeline.warehouse.raw import RawPull, write_raw_pull

__all__ = [
    "LandedDay",
    "RawPullSummary",
    "land_tables",
    "merge_orders",
    "normalise_options",
    "pull_raw",
    "read_merged",
    "warehouse_of",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawPullSummary:
    """What one partition's pull fetched and where it is stored."""

    business_date: dt.date
    window: tuple[dt.datetime, dt.datetime]
    stats: PullStats
    path: Path
    bytes: int


@dataclass(frozen=True)
class LandedDay:
    """The tables of one business date as landed."""

    day: NormalisedDay
    written: list[WrittenPartition]


def normalise_options(settings: Settings) -> NormaliseOptions:
    """The normalisation options the settings imply."""
    salt = settings.pii_salt.reveal() if settings.pii_salt else ""
    return NormaliseOptions(cutoff=settings.business_day_cutoff, pii=settings.pii, pii_salt=salt)


def pull_raw(settings: Settings, client: GrafterrClient, business_date: dt.date) -> RawPullSummary:
    """Pull every order created in ``business_date``'s window and store the raw pages."""
    start, end = pull_window(business_date, settings.business_day_cutoff)
    result = client.pull_orders(start, end, date_field=settings.api.field_created_at)
    manifest = {
        "business_date": business_date.isoformat(),
        "window": {"from": start.isoformat(), "to": end.isoformat()},
        "date_field": settings.api.field_created_at,
        "pulled_at": dt.datetime.now(dt.UTC).isoformat(),
        "stats": result.stats.as_metadata(),
    }
    size = write_raw_pull(settings.data_dir, business_date, result.pages, manifest)
    path = RawPull(settings.data_dir, business_date).pages
    return RawPullSummary(business_date, (start, end), result.stats, path, size)


def _staging_path(root: Path, business_date: dt.date) -> Path:
    name = f"business_date={business_date.isoformat()}"
    return root / "staging" / "orders" / name / "orders.jsonl.gz"


def _candidate_line(candidate: Candidate) -> bytes:
    record: dict[str, Any] = {
        "source": candidate.source,
        "event_kind": candidate.event_kind,
        "occurred_at": candidate.occurred_at.isoformat() if candidate.occurred_at else None,
        "order": candidate.order,
    }
    return dumps(record).encode("utf-8") + b"\n"


def merge_orders(
    settings: Settings, business_date: dt.date, deltas: Iterable[Candidate] = ()
) -> MergedDay:
    """Merge the raw pull with webhook ``deltas`` and store one version per order."""
    pulled = (
        Candidate(order=order, source="api")
        for order in read_raw_orders(
            settings.data_dir, business_date, data_key=settings.api.key_data
        )
    )
    merged = merge_day(
        [*pulled, *deltas], business_date=business_date, options=normalise_options(settings)
    )

    def write(temp: Path) -> None:
        with gzip.open(temp, "wb", compresslevel=6) as out:
            for candidate in [*merged.winners, *merged.unreadable]:
                out.write(_candidate_line(candidate))

    atomic_write(_staging_path(settings.data_dir, business_date), write)
    return merged


def read_merged(settings: Settings, business_date: dt.date) -> Iterator[Candidate]:
    """Yield the candidates :func:`merge_orders` stored for ``business_date``."""
    with gzip.open(_staging_path(settings.data_dir, business_date), "rb") as lines:
        for line in lines:
            record = loads(line)
            occurred = record.get("occurred_at")
            yield Candidate(
                order=record["order"],
                source=record["source"],
                event_kind=record.get("event_kind"),
                occurred_at=dt.datetime.fromisoformat(occurred) if occurred else None,
            )


def land_tables(settings: Settings, business_date: dt.date) -> LandedDay:
    """Normalise the merged orders of ``business_date`` and land every table."""
    day = normalise_day(
        read_merged(settings, business_date),
        business_date=business_date,
        options=normalise_options(settings),
    )
    written = warehouse_of(settings).land(day)
    return LandedDay(day, written)


def warehouse_of(settings: Settings) -> Warehouse:
    """The warehouse the settings point at: the data root and ``GRAFTERR_WAREHOUSE_URI``."""
    return Warehouse(settings.data_dir, settings.warehouse_uri)
