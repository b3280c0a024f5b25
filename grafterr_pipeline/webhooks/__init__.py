"""Grafterr's webhook deliveries: a receiver, its durable inbox, and the pipeline's view of it.

``grafterr-pipeline webhooks serve`` runs :class:`WebhookServer`, whose app
(:func:`build_app`) authenticates each delivery, reads it (:func:`read_delivery`) and commits it
to an :class:`Inbox` before answering 200. The pipeline stages a business date's events
(:mod:`.deltas`) and reports how they compare with the API pull (:mod:`.reconcile`). Nothing
here imports Dagster.
"""

from __future__ import annotations

from grafterr_pipeline.webhooks.app import build_app
from grafterr_pipeline.webhooks.delivery import Dating, InboxEvent, Quarantined, read_delivery
from grafterr_pipeline.webhooks.inbox import (
    Inbox,
    InboxChanges,
    InboxCursor,
    InboxError,
    Outcome,
    SqliteInbox,
)
from grafterr_pipeline.webhooks.server import WebhookServer

__all__ = [
    "Dating",
    "Inbox",
    "InboxChanges",
    "InboxCursor",
    "InboxError",
    "InboxEvent",
    "Outcome",
    "Quarantined",
    "SqliteInbox",
    "WebhookServer",
    "build_app",
    "read_delivery",
]
