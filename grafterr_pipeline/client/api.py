"""The Grafterr client: pull every order of a window, whatever the API throws at it.

:class:`GrafterrClient` composes the pieces of this package -- the shared rate limiter, the
token provider, the retrying transport and the paging rules -- behind two calls,
:meth:`~GrafterrClient.pull_orders` and :meth:`~GrafterrClient.get_order`. It never imports
Dagster; the assets wrap it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import quote

import requests

from grafterr_pipeline.client.auth import TokenProvider
from grafterr_pipeline.client.paging import (
    Page,
    PagingPolicy,
    envelope_problem,
    merge_keys,
    merge_orders,
    page_from,
    unsettled_reason,
)
from grafterr_pipeline.client.ratelimit import RateLimiter
from grafterr_pipeline.client.retry import RetryPolicy
from grafterr_pipeline.client.stats import PullStats, StatsRecorder
from grafterr_pipeline.client.transport import Call, Transport
from grafterr_pipeline.errors import IncompletePullError
from grafterr_pipeline.redact import Redactor
from grafterr_pipeline.settings import Settings

__all__ = ["GrafterrClient", "PullResult"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullResult:
    """Everything one window gave.

    ``pages`` are the raw bodies of the accepted read, in page order, for the raw archive;
    ``orders`` are their orders de-duplicated by ``order_id`` (latest ``updated_at`` wins) and
    sorted by (date field, ``order_id``), parsed from ``pages`` when first asked for: the pull
    itself keeps only what the merge needs (see :func:`page_from`).
    """

    pages: list[bytes]
    stats: PullStats
    picks: Sequence[tuple[int, int]] = field(default=(), repr=False)  # (page, entry) per order
    data_key: str = "data"

    @cached_property
    def orders(self) -> list[dict[str, Any]]:
        """The window's orders, one per ``order_id``, in the API's sort order."""
        entries = [json.loads(page.decode("utf-8"))[self.data_key] for page in self.pages]
        return [entries[page][entry] for page, entry in self.picks]


@dataclass(frozen=True)
class _Window:
    start: dt.datetime
    end: dt.datetime
    date_field: str
    channel: str | None
    store_id: str | None

    def describe(self) -> str:
        text = f"window {self.start.isoformat()} to {self.end.isoformat()} by {self.date_field}"
        filters = [f"{name}={value}" for name, value in self._filters() if value]
        return f"{text} ({', '.join(filters)})" if filters else text

    def _filters(self) -> list[tuple[str, str | None]]:
        return [("channel", self.channel), ("store_id", self.store_id)]


class GrafterrClient:
    """A thread-safe client for Grafterr's order endpoints; use it as a context manager.

    ``limiter`` defaults to the machine-wide budget for ``settings.api_key`` under
    ``settings.data_dir``; ``clock`` and ``sleep`` are injected so tests need not wait;
    ``max_workers`` bounds the pages fetched at once.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        paging: PagingPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_workers: int = 8,
    ) -> None:
        self._settings = settings
        self._names = settings.api
        self._clock = clock
        self._paging = paging or PagingPolicy()
        self._own_session = session is None
        self._session = session or requests.Session()
        self._limiter = limiter or RateLimiter.for_settings(settings, clock=clock, sleep=sleep)
        self._redactor = Redactor([settings.client_secret, settings.api_key])
        self._transport = Transport(
            settings,
            session=self._session,
            limiter=self._limiter,
            retry=retry or RetryPolicy(),
            redactor=self._redactor,
            clock=clock,
            sleep=sleep,
        )
        self._transport.tokens = TokenProvider(self._fetch_token, clock=clock)
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="grafterr-page")

    def __repr__(self) -> str:
        return f"GrafterrClient(base_url={self._settings.base_url!r}, limiter={self._limiter!r})"

    def __enter__(self) -> GrafterrClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the page pool and close the session if this client opened it."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._limiter.close()
        if self._own_session:
            self._session.close()

    def pull_orders(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        date_field: str = "created_at",
        channel: str | None = None,
        store_id: str | None = None,
    ) -> PullResult:
        """Every order whose ``date_field`` lies in ``[start, end)``, read until it holds still.

        Raises :class:`~grafterr_pipeline.errors.IncompletePullError` when the window keeps
        changing beyond :attr:`PagingPolicy.max_rereads` re-reads, and an
        :class:`~grafterr_pipeline.errors.ApiError` when Grafterr refuses or keeps failing.
        """
        window = self._window(start, end, date_field, channel, store_id)
        recorder, started = StatsRecorder(), self._clock()
        for read in range(self._paging.max_rereads + 1):
            pages = self._read_window(window, recorder)
            orders, duplicates = merge_orders(pages, names=self._names, date_field=date_field)
            problem = unsettled_reason(pages, len(orders))
            if problem is None:
                stats = recorder.finish(
                    pages=len(pages),
                    orders=len(orders),
                    duplicates=duplicates,
                    rereads=read,
                    elapsed=self._clock() - started,
                )
                logger.info("pulled %s: %s", window.describe(), stats.summary())
                return PullResult(
                    [page.content for page in pages],
                    stats,
                    _picks(pages, orders),
                    self._names.key_data,
                )
            logger.warning(
                "%s changed while it was paged (%s); reading it again (%d of at most %d)",
                window.describe(),
                problem,
                read + 1,
                self._paging.max_rereads,
            )
        raise IncompletePullError(
            f"{window.describe()} kept changing while it was paged: after "
            f"{self._paging.max_rereads} re-reads {problem}; run the pull again later"
        )

    def get_order(self, order_id: str) -> dict[str, Any]:
        """One order by id; a 404 raises :class:`~grafterr_pipeline.errors.RequestRejectedError`."""
        path = self._names.order_path.format(order_id=quote(order_id, safe=""))
        call = Call("GET", path, context=f"order {order_id}", validate=self._order_problem)
        return self._transport.send(call, StatsRecorder()).body

    def _window(
        self,
        start: dt.datetime,
        end: dt.datetime,
        date_field: str,
        channel: str | None,
        store_id: str | None,
    ) -> _Window:
        allowed = (self._names.field_created_at, self._names.field_updated_at)
        if date_field not in allowed:
            raise ValueError(f"date_field={date_field!r} is not one of {allowed}")
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("window bounds must carry a UTC offset; naive times are ambiguous")
        if not start < end:
            raise ValueError(
                f"window start {start.isoformat()} is not before end {end.isoformat()}"
            )
        return _Window(
            start.astimezone(dt.UTC), end.astimezone(dt.UTC), date_field, channel, store_id
        )

    def _read_window(self, window: _Window, recorder: StatsRecorder) -> list[Page]:
        first = self._fetch_page(window, 1, recorder)
        self._check_page_cap(window, first.total_pages)
        rest = range(2, first.total_pages + 1)
        # Only the pages the first one announced: had the window grown meanwhile, a later page
        # says so in its meta and the read is not accepted anyway (``unsettled_reason``), so
        # following the growth would only let a server that always reports one more page keep
        # the pull paging until max_pages.
        return [first, *self._pool.map(lambda n: self._fetch_page(window, n, recorder), rest)]

    def _check_page_cap(self, window: _Window, total_pages: int) -> None:
        if total_pages > self._paging.max_pages:
            raise IncompletePullError(
                f"{window.describe()} reports {total_pages} pages, more than the paging "
                f"policy's max_pages={self._paging.max_pages}; pull a narrower window"
            )

    def _fetch_page(self, window: _Window, number: int, recorder: StatsRecorder) -> Page:
        call = Call(
            "GET",
            self._names.orders_path,
            context=f"{window.describe()}, page {number}",
            params=self._params(window, number),
            validate=lambda body: envelope_problem(body, self._names),
        )
        reply = self._transport.send(call, recorder)
        keep = merge_keys(self._names, window.date_field)
        return page_from(number, reply.content, reply.body, self._names, keep=keep)

    def _params(self, window: _Window, page: int) -> dict[str, str | int]:
        names = self._names
        params: dict[str, str | int] = {
            names.param_from: window.start.isoformat(),
            names.param_to: window.end.isoformat(),
            names.param_date_field: window.date_field,
            names.param_page: page,
            names.param_page_size: self._settings.page_size,
        }
        if window.channel:
            params[names.param_channel] = window.channel
        if window.store_id:
            params[names.param_store_id] = window.store_id
        return params

    def _fetch_token(self, recorder: StatsRecorder) -> tuple[str, float]:
        names = self._names
        call = Call(
            "POST",
            names.token_path,
            context="token request",
            json={
                "client_id": self._settings.client_id,
                "client_secret": self._settings.client_secret.reveal(),
            },
            authenticated=False,
            validate=self._token_problem,
        )
        body = self._transport.send(call, recorder).body
        token = body[names.key_access_token]
        self._redactor.add(token)
        return token, float(body[names.key_expires_in])

    def _token_problem(self, body: Any) -> str | None:
        names = self._names
        if not isinstance(body, dict) or not isinstance(body.get(names.key_access_token), str):
            return f"the token answer has no {names.key_access_token!r} string"
        if not isinstance(body.get(names.key_expires_in), int | float):
            return f"the token answer has no numeric {names.key_expires_in!r}"
        return None

    def _order_problem(self, body: Any) -> str | None:
        if isinstance(body, dict) and self._names.field_order_id in body:
            return None
        return f"the body is not an order with {self._names.field_order_id!r}"


def _picks(pages: Sequence[Page], orders: Sequence[object]) -> list[tuple[int, int]]:
    """Where each of ``orders`` (entries of ``pages``' orders) sits: (page, entry) indexes."""
    where = {
        id(order): (number, entry)
        for number, page in enumerate(pages)
        for entry, order in enumerate(page.orders)
    }
    return [where[id(order)] for order in orders]
