"""Pages of a window: checking each envelope, merging them, and deciding if the read holds.

Contract, "Orders": pages are computed when each request arrives, so an order created or
updated during a pull can appear twice or slide onto a page already read. A read is accepted
only when every page reported the same ``meta.total`` and the distinct orders match it;
otherwise the window is read again (:class:`PagingPolicy` bounds how often).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grafterr_pipeline.settings import ApiNames

__all__ = [
    "Page",
    "PagingPolicy",
    "envelope_problem",
    "merge_keys",
    "merge_orders",
    "unsettled_reason",
]

_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class PagingPolicy:
    """How many times a changing window is re-read, and the most pages one read may have.

    ``max_pages`` guards against a window whose ``total_pages`` keeps growing (or a server that
    misreports it): past it the pull fails instead of paging forever.
    """

    max_rereads: int = 3
    max_pages: int = 5_000


@dataclass(frozen=True)
class Page:
    """One page as read: its raw body, its orders and what its ``meta`` said.

    The client keeps of each order only the fields the merge reads (:func:`page_from`'s
    ``keep``): the whole orders are in ``content``.
    """

    number: int
    content: bytes
    orders: list[Mapping[str, Any]]
    total: int
    total_pages: int


def envelope_problem(body: Any, names: ApiNames) -> str | None:
    """What is wrong with a page's JSON body, or ``None`` if it has the contract's envelope."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    data, meta = body.get(names.key_data), body.get(names.key_meta)
    if not isinstance(data, list):
        return f"the body has no {names.key_data!r} list"
    if not isinstance(meta, dict):
        return f"the body has no {names.key_meta!r} object"
    for key in (names.key_total, names.key_total_pages):
        if not isinstance(meta.get(key), int) or meta[key] < 0:
            return f"{names.key_meta}.{key} is not a non-negative whole number"
    if not all(isinstance(order, dict) and names.field_order_id in order for order in data):
        return f"an entry of {names.key_data!r} is not an order with {names.field_order_id!r}"
    return None


def page_from(
    number: int,
    content: bytes,
    body: dict[str, Any],
    names: ApiNames,
    *,
    keep: Collection[str] | None = None,
) -> Page:
    """Build a :class:`Page` from a body that passed :func:`envelope_problem`.

    With ``keep``, each order is cut down to those fields, so the parsed page can be let go
    while its window is still being read: a window's orders parsed whole all at once left the
    pull ~20 MiB of Python memory that it kept to the end of the run.
    """
    meta = body[names.key_meta]
    orders = body[names.key_data]
    if keep is not None:
        orders = [{k: order[k] for k in keep if k in order} for order in orders]
    return Page(
        number=number,
        content=content,
        orders=orders,
        total=meta[names.key_total],
        total_pages=meta[names.key_total_pages],
    )


def merge_keys(names: ApiNames, date_field: str) -> tuple[str, ...]:
    """The fields of an order that :func:`merge_orders` reads."""
    return (names.field_order_id, names.field_updated_at, date_field)


def merge_orders(
    pages: Sequence[Page], *, names: ApiNames, date_field: str
) -> tuple[list[Mapping[str, Any]], int]:
    """De-duplicate by ``order_id`` (latest ``updated_at`` wins), sort, count the drops.

    Returns the orders sorted by (``date_field``, ``order_id``), as the API sorts them, and the
    number of copies dropped. Of two copies with the same ``updated_at`` the later-read wins.
    """
    kept: dict[str, Mapping[str, Any]] = {}
    seen = 0
    for page in pages:
        for order in page.orders:
            seen += 1
            order_id = str(order[names.field_order_id])
            current = kept.get(order_id)
            if current is None or _instant(order, names.field_updated_at) >= _instant(
                current, names.field_updated_at
            ):
                kept[order_id] = order
    ordered = sorted(
        kept.values(),
        key=lambda order: (_instant(order, date_field), str(order[names.field_order_id])),
    )
    return ordered, seen - len(kept)


def unsettled_reason(pages: Sequence[Page], distinct: int) -> str | None:
    """Why a read cannot be trusted (the window moved while paging), or ``None`` if it holds."""
    totals = sorted({page.total for page in pages})
    if len(totals) > 1:
        return f"meta.total moved between {totals[0]} and {totals[-1]} while paging"
    counts = sorted({page.total_pages for page in pages})
    if len(counts) > 1:
        return f"meta.total_pages moved between {counts[0]} and {counts[-1]} while paging"
    if distinct != totals[0]:
        return f"{distinct} distinct orders came back but meta.total says {totals[0]}"
    return None


def _instant(order: Mapping[str, Any], name: str) -> dt.datetime:
    # Timestamps carry an offset (contract, "The order object"); a missing or unreadable one
    # sorts last here and is quarantined later by the normaliser, not dropped by the client.
    value = order.get(name)
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return _FAR_FUTURE
    return parsed if parsed.tzinfo else _FAR_FUTURE
