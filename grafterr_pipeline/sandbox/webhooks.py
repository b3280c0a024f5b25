"""Webhook deliveries: the six order events of the contract, posted as orders change.

Every version of an order is an event: its first version ``<channel>_order_created``, each later
one ``<channel>_order_updated``, with the body ``{"event_id", "event_type", "occurred_at",
"data": Order}`` (contract, "Webhooks"). Delivery is what the contract warns of: at least once
(``webhook_duplicates`` of events come twice, with the same ``event_id``), in no particular order
(``webhook_out_of_order`` of events come late, after the next event of the same order when there
is one), retried with doubling backoff when the receiver does not answer 2xx within
``webhook_timeout``, and paced at ``webhook_rate`` deliveries a second.

:func:`deliver_events` sends the events of a stretch of time and returns a report: tests use it.
:class:`WebhookSender` follows the sandbox clock in a background thread: ``serve`` uses it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.sandbox.liberties import Liberties

__all__ = ["DeliveryReport", "Event", "WebhookSender", "deliver_events", "events_between"]

logger = logging.getLogger(__name__)

# The event follows the change it announces by a moment, as in the contract's example.
_EVENT_LAG = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class Event:
    """One webhook event: which order version it announces, and the body to post."""

    event_id: str
    event_type: str
    occurred_at: dt.datetime
    order_id: str
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """Return the JSON body a delivery posts."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at.isoformat(timespec="seconds"),
            "data": self.data,
        }


@dataclass
class DeliveryReport:
    """What a run of deliveries did: posts made, events acknowledged and those given up on."""

    attempts: int = 0
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def events_between(config: SandboxConfig, start: dt.datetime, end: dt.datetime) -> list[Event]:
    """Return the events of the order versions made in ``[start, end)``, oldest first."""
    liberties = Liberties(config)
    end = min(end, config.clock())
    return [
        Event(
            event_id=f"evt_{order.order_id.removeprefix('ord_')}_{index}",
            event_type=f"{order.channel}_order_{'updated' if index else 'created'}",
            occurred_at=(version.updated_at + _EVENT_LAG).astimezone(dt.UTC),
            order_id=order.order_id,
            data=dict(liberties.order(version.body)),
        )
        for order, index, version in OrderBook.from_config(config).versions_between(start, end)
    ]


def delivery_order(events: list[Event], config: SandboxConfig, rng: random.Random) -> list[Event]:
    """Return ``events`` in the order they are posted, with duplicates and late ones mixed in."""
    keyed: list[tuple[float, Event]] = []
    for index, event in enumerate(events):
        key = float(index)
        if rng.random() < config.webhook_out_of_order:
            key = _late_key(events, index, rng)
        keyed.append((key, event))
        if rng.random() < config.webhook_duplicates:
            keyed.append((key + rng.uniform(0.5, 10), event))
    keyed.sort(key=lambda pair: pair[0])
    return [event for _, event in keyed]


def _late_key(events: list[Event], index: int, rng: random.Random) -> float:
    """Place an event after the next one of its order, or a few places later if it has none."""
    order_id = events[index].order_id
    for later in range(index + 1, len(events)):
        if events[later].order_id == order_id:
            return later + 0.25
    return index + rng.randint(1, 5) + 0.25


def deliver_events(
    config: SandboxConfig,
    start: dt.datetime,
    end: dt.datetime,
    *,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """Post the events of ``[start, end)`` to ``config.webhook_url``; return what happened."""
    if config.webhook_url is None:
        raise ValueError("webhook_url is not set: there is nowhere to deliver events to")
    rng = random.Random(f"{config.seed}|webhooks|{start.isoformat()}")
    poster = _Poster(config, session or requests.Session(), sleep)
    report = DeliveryReport()
    for event in delivery_order(events_between(config, start, end), config, rng):
        if stop is not None and stop.is_set():
            break
        poster.deliver(event, report)
    logger.info(
        "webhooks: %d events delivered, %d given up, %d posts",
        len(report.delivered), len(report.failed), report.attempts,
    )  # fmt: skip
    return report


class _Poster:
    """Posts one event at a time at the configured pace, retrying until 2xx or out of tries."""

    def __init__(
        self, config: SandboxConfig, session: requests.Session, sleep: Callable[[float], None]
    ) -> None:
        self.config = config
        self.session = session
        self.sleep = sleep
        self._next_at = time.monotonic()

    def deliver(self, event: Event, report: DeliveryReport) -> None:
        for attempt in range(1, self.config.webhook_max_attempts + 1):
            self._pace()
            report.attempts += 1
            if self._post(event):
                report.delivered.append(event.event_id)
                return
            if attempt < self.config.webhook_max_attempts:
                self.sleep(self.config.webhook_backoff * 2 ** (attempt - 1))
        logger.warning("webhook %s given up after %d attempts", event.event_id, attempt)
        report.failed.append(event.event_id)

    def _post(self, event: Event) -> bool:
        try:
            response = self.session.post(
                self.config.webhook_url,  # type: ignore[arg-type]
                json=event.payload(),
                timeout=(self.config.webhook_timeout, self.config.webhook_timeout),
            )
        except requests.RequestException as err:
            logger.debug("webhook %s not delivered: %s", event.event_id, err)
            return False
        logger.debug("webhook %s answered %d", event.event_id, response.status_code)
        return 200 <= response.status_code < 300

    def _pace(self) -> None:
        wait = self._next_at - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._next_at = max(self._next_at, time.monotonic()) + 1.0 / self.config.webhook_rate


class WebhookSender:
    """Delivers events as the sandbox clock passes them, from a daemon thread."""

    def __init__(self, config: SandboxConfig, *, poll: float = 1.0) -> None:
        self.config = config
        self.poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="sandbox-webhooks")

    def start(self) -> WebhookSender:
        """Start delivering in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the delivery in flight and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=self.config.webhook_timeout + 1)

    def _run(self) -> None:
        since = self.config.webhook_since or self.config.clock()
        while not self._stop.is_set():
            now = self.config.clock()
            if now > since:
                deliver_events(self.config, since, now, stop=self._stop, sleep=self._stop.wait)
                since = now
            self._stop.wait(self.poll)
