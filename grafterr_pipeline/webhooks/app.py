"""The receiver's ASGI app: authenticate, bound, read and durably store each delivery.

Answers (webhooks issue, "What each delivery gets"):

* 200 once the delivery is committed to the inbox: a new event, a repeat of a stored
  ``event_id``, or an authenticated body that cannot be used (kept in the quarantine, so the
  sender stops retrying it);
* 401 for a wrong or missing token or signature, with nothing stored, counted in the log;
* 413 for a body over the limit, 405 for a method other than POST;
* 503 when the inbox cannot commit: nothing was acknowledged, so the sender retries.

The token travels in the URL (contract, "Webhooks"), so the app never logs a path and the
server runs without an access log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import itertools
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from grafterr_pipeline.settings import WebhookSettings
from grafterr_pipeline.webhooks.delivery import Dating, Quarantined, read_delivery
from grafterr_pipeline.webhooks.inbox import WRITE_TIMEOUT, Inbox, InboxError

__all__ = ["RECEIVER_PATH", "build_app"]

logger = logging.getLogger(__name__)

RECEIVER_PATH = "/webhooks/grafterr/{token}"
_SIGNATURE_PREFIX = "sha256="


class _TooLarge(Exception):
    pass


class _Receiver:
    """The state one app holds: its settings, its inbox and a count of refusals."""

    def __init__(
        self, settings: WebhookSettings, inbox: Inbox, clock: Callable[[], dt.datetime]
    ) -> None:
        self.settings = settings
        self.inbox = inbox
        self.clock = clock
        self.dating = Dating(cutoff=settings.business_day_cutoff, timezone=settings.timezone)
        self._refused = itertools.count(1)

    async def receive(self, request: Request) -> JSONResponse:
        if not self._token_ok(request.path_params.get("token", "")):
            return self._refuse(request, "wrong or missing token")
        try:
            raw = await _body(request, self.settings.max_body_bytes)
        except _TooLarge:
            logger.warning(
                "webhook delivery refused: body over %d bytes", self.settings.max_body_bytes
            )
            return JSONResponse({"message": "Payload Too Large"}, status_code=413)
        if not self._signature_ok(request, raw):
            return self._refuse(request, "wrong or missing signature")
        return await self._store(raw)

    async def _store(self, raw: bytes) -> JSONResponse:
        delivery = read_delivery(raw, received_at=self.clock(), dating=self.dating)
        try:
            pending = asyncio.wrap_future(self.inbox.submit(delivery))
            outcome = await asyncio.wait_for(pending, timeout=WRITE_TIMEOUT)
        except (InboxError, TimeoutError) as err:
            logger.error("webhook delivery not acknowledged: %s", err)
            return JSONResponse({"message": "Inbox unavailable"}, status_code=503)
        if isinstance(delivery, Quarantined):
            logger.warning(
                "webhook delivery quarantined (event %s): %s", delivery.event_id, delivery.reason
            )
        else:
            logger.debug("webhook %s: %s", delivery.event_id, outcome.value)
        return JSONResponse({"status": outcome.value})

    def _token_ok(self, given: str) -> bool:
        expected = self.settings.token
        if expected is None:  # --insecure-no-token, loopback only
            return True
        return hmac.compare_digest(given.encode("utf-8"), expected.reveal().encode("utf-8"))

    def _signature_ok(self, request: Request, raw: bytes) -> bool:
        secret = self.settings.secret
        if secret is None:
            return True
        given = request.headers.get(self.settings.signature_header, "").strip().lower()
        given = given.removeprefix(_SIGNATURE_PREFIX)
        expected = hmac.new(secret.reveal().encode("utf-8"), raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))

    def _refuse(self, request: Request, why: str) -> JSONResponse:
        client = request.client.host if request.client else "unknown"
        logger.warning(
            "webhook delivery refused from %s: %s (%d refused since start)",
            client, why, next(self._refused),
        )  # fmt: skip
        return JSONResponse({"message": "Unauthorized"}, status_code=401)

    async def healthz(self, request: Request) -> JSONResponse:
        try:
            await run_in_threadpool(self.inbox.check_writable)
        except InboxError as err:
            logger.error("health check failed: %s", err)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})


async def _body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(
    settings: WebhookSettings,
    inbox: Inbox,
    *,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Starlette:
    """The receiver for ``settings``, storing into ``inbox``; ``clock`` stamps arrivals."""
    receiver = _Receiver(settings, inbox, clock)
    routes = [
        Route(RECEIVER_PATH, receiver.receive, methods=["POST"]),
        # Without a token segment: refused with 401 like a wrong token, not a bare 404.
        Route(RECEIVER_PATH.removesuffix("/{token}"), receiver.receive, methods=["POST"]),
        Route(RECEIVER_PATH.removesuffix("{token}"), receiver.receive, methods=["POST"]),
        Route("/healthz", receiver.healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes)
