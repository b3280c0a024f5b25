"""Grafterr's webhook deliveries: a receiver, its durable inbox, and the pipeline's view of it.

``grafterr-pipeline webhooks serve`` runs :class:`WebhookServer`, whose app
(:func:`build_app`) authenticates each delivery, reads it (:func:`read_delivery`) and commits it
to an :class:`Inbox` before answering 200. The pipeline stages a business date's events
(:mod:`.deltas`) and reports how they compare with the API pull (:mod:`.reconcile`). Nothing
here imports Dagster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grafterr_pipeline.lazy import lazy_attributes
from grafterr_pipeline.webhooks.delivery import Dating, InboxEvent, Quarantined, read_delivery
from grafterr_pipeline.webhooks.inbox import (
    Inbox,
    InboxChanges,
    InboxCursor,
    InboxError,
    Outcome,
    SqliteInbox,
)

if TYPE_CHECKING:
    from grafterr_pipeline.webhooks.app import build_app
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

# The receiver's app and server load Starlette and uvicorn; the pipeline's runs only read the
# inbox, so these two are imported when first asked for (PEP 562), not with the package.
_SERVING = {
    "build_app": "grafterr_pipeline.webhooks.app",
    "WebhookServer": "grafterr_pipeline.webhooks.server",
}

__getattr__ = lazy_attributes(__name__, _SERVING)
