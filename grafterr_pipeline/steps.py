"""The pipeline's steps for one business date, free of any orchestrator.

Dagster assets (:mod:`grafterr_pipeline.defs`) call these; each step reads what the previous
one stored under the data root, so any step can be rerun alone:

1. :func:`pull_raw` / :func:`pull_raw_dates`: the API pages of the partitions' windows into
   ``raw/`` (several dates pulled together read each order once, see :mod:`~.pulls`);
2. :func:`stage_webhook_deltas`: the inbox's events of the date, snapshotted in ``staging/``;
   :func:`merge_with_webhooks` / :func:`merge_orders`: raw pages and those webhook deltas into
   the versions of the date's orders, in ``staging/`` (chosen by their keys, see
   :mod:`~.staging`), with a report of how the two sources compare;
3. :func:`land_tables`: normalised tables and the quarantine into ``warehouse/``; landing
   validates every staged version and keeps the latest valid one of each order.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, dumps, loads
from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.normalise.fast import normalise_staged
from grafterr_pipeline.normalise.schema import QUARANTINE
from grafterr_pipeline.pulls import RawPullSummary, pull_raw_dates
from grafterr_pipeline.settings import Settings
from grafterr_pipeline.staging import StagedDay, stage_day
from grafterr_pipeline.warehouse import Warehouse, WrittenPartition, read_raw_orders
from grafterr_pipeline.warehouse.files import atomic_write
from grafterr_pipeline.warehouse.raw import read_raw_manifest
from grafterr_pipeline.webhooks.deltas import StagedDeltas, read_staged_deltas, stage_deltas
from grafterr_pipeline.webhooks.inboxes import open_inbox
from grafterr_pipeline.webhooks.reconcile import SourceReport, reconcile

__all__ = [
    "LandedDay",
    "MergeReport",
    "RawPullSummary",
    "land_tables",
    "merge_orders",
    "merge_with_webhooks",
    "normalise_options",
    "pull_raw",
    "pull_raw_dates",
    "read_merged",
    "stage_webhook_deltas",
    "warehouse_of",
    "with_webhook_quarantine",
]

logger = logging.getLogger(__name__)


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
    return pull_raw_dates(settings, client, [business_date])[0]


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
    settings: Settings,
    business_date: dt.date,
    deltas: Iterable[Candidate] = (),
    *,
    pulled: Iterable[Any] | None = None,
) -> StagedDay:
    """Stage the versions of ``business_date``'s orders from the raw pull and webhook ``deltas``.

    ``pulled`` are the raw pull's orders, read from ``raw/`` when not given.
    """
    if pulled is None:
        pulled = read_raw_orders(settings.data_dir, business_date, data_key=settings.api.key_data)
    candidates = itertools.chain((Candidate(order=o, source="api") for o in pulled), deltas)
    staged = stage_day(
        candidates,
        business_date=business_date,
        options=normalise_options(settings),
        encode=_candidate_line,
    )

    def write(temp: Path) -> None:
        # The staged file lives until landing: fast compression, as it is written and read once.
        with gzip.open(temp, "wb", compresslevel=1) as out:
            out.writelines(staged.lines)

    atomic_write(_staging_path(settings.data_dir, business_date), write)
    return staged


@dataclass(frozen=True)
class MergeReport:
    """A merged business date, and how its webhook events compared with its pull."""

    merged: StagedDay
    deltas: StagedDeltas
    sources: SourceReport


def stage_webhook_deltas(settings: Settings, business_date: dt.date) -> StagedDeltas:
    """Snapshot the inbox's events of ``business_date`` into staging for the merge."""
    inbox = open_inbox(settings.inbox_url, default=settings.inbox_path)
    try:
        return stage_deltas(inbox, settings.data_dir, business_date)
    finally:
        inbox.close()


def merge_with_webhooks(settings: Settings, business_date: dt.date) -> MergeReport:
    """Merge the raw pull with the staged webhook deltas, and compare the two sources."""
    deltas = read_staged_deltas(settings.data_dir, business_date)
    pulled = read_raw_orders(settings.data_dir, business_date, data_key=settings.api.key_data)
    both: list[Any] = []  # reconcile reads only the pulled orders that webhooks also named
    named = {event.order_id for event in deltas.events}
    pulled = _collecting(pulled, named, into=both)
    merged = merge_orders(settings, business_date, deltas=deltas.candidates(), pulled=pulled)
    pulled_at = read_raw_manifest(settings.data_dir, business_date).get("pulled_at")
    sources = reconcile(
        both, deltas.events, pulled_at=dt.datetime.fromisoformat(pulled_at) if pulled_at else None
    )
    if sources.missing_from_pull:
        logger.warning(
            "%s: %d order(s) known only from webhooks, heard of before the pull, are missing "
            "from it: %s",
            business_date, len(sources.missing_from_pull), ", ".join(sources.missing_from_pull),
        )  # fmt: skip
    return MergeReport(merged, deltas, sources)


def _collecting(orders: Iterable[Any], named: set[str], *, into: list[Any]) -> Iterator[Any]:
    """Yield ``orders``, keeping those whose ``order_id`` reads as one of ``named``."""
    for order in orders:
        if named and isinstance(order, Mapping) and str(order.get("order_id")) in named:
            into.append(order)
        yield order


def read_merged(settings: Settings, business_date: dt.date) -> Iterator[Candidate]:
    """Yield the versions :func:`merge_orders` staged for ``business_date``, in their order."""
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
    """Normalise the merged orders of ``business_date`` and land every table.

    The staged lines are read by the fast path (:mod:`grafterr_pipeline.normalise.fast`), which
    gives the same tables as :func:`~grafterr_pipeline.normalise.normalise_day` on
    :func:`read_merged`'s candidates.
    """
    day = normalise_staged(
        [_staging_path(settings.data_dir, business_date)],
        business_date=business_date,
        options=normalise_options(settings),
    )
    day = with_webhook_quarantine(day, read_staged_deltas(settings.data_dir, business_date))
    written = warehouse_of(settings).land(day)
    return LandedDay(day, written)


def with_webhook_quarantine(day: NormalisedDay, deltas: StagedDeltas) -> NormalisedDay:
    """``day`` with the date's unusable webhook deliveries added to its quarantine.

    The inbox keeps their exact bytes; the warehouse row keeps their text (undecodable bytes
    escaped) and reason, so the partition's quarantine check names them too.
    """
    if not deltas.quarantined:
        return day
    rows = [
        {
            "source": "webhook",
            "order_id": item.order_id,
            "business_date": day.business_date,
            "reason": item.reason,
            "raw_json": item.raw.decode("utf-8", errors="backslashreplace"),
            "quarantined_at": item.received_at,
        }
        for item in deltas.quarantined
    ]
    extra = pa.Table.from_pylist(rows, schema=QUARANTINE)
    return replace(day, quarantine=pa.concat_tables([day.quarantine, extra]))


def warehouse_of(settings: Settings) -> Warehouse:
    """The warehouse the settings point at: the data root and ``GRAFTERR_WAREHOUSE_URI``."""
    return Warehouse(settings.data_dir, settings.warehouse_uri)
