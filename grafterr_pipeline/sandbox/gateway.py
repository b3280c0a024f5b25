"""What API Gateway does before a request reaches Grafterr: the API key and the usage plan.

Every request needs a known ``x-api-key`` (403 otherwise), and each key is throttled by a token
bucket (429 past it, with ``Retry-After`` as configured). Bodies are the ones API Gateway sends
(contract, "Headers", "Rate limit").
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.ratelimit import RateLimiter, retry_after_header

__all__ = ["GatewayMiddleware", "send_json"]

logger = logging.getLogger(__name__)


async def send_json(
    send: Send, status: int, body: Any, *, headers: dict[str, str] | None = None
) -> None:
    """Send a complete JSON response through a raw ASGI ``send``."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class GatewayMiddleware:
    """Check the API key, then charge the request to that key's rate limit."""

    def __init__(self, app: ASGIApp, *, config: SandboxConfig, limiter: RateLimiter) -> None:
        self.app = app
        self.config = config
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api_key = _header(scope, b"x-api-key")
        if api_key != self.config.api_key:
            logger.debug("refused %s: missing or unknown x-api-key", scope["path"])
            await send_json(send, 403, {"message": "Forbidden"})
            return
        wait = self.limiter.take(api_key)
        if wait > 0:
            await self._throttle(send, wait)
            return
        await self.app(scope, receive, send)

    async def _throttle(self, send: Send, wait: float) -> None:
        value = retry_after_header(self.config.retry_after, wait)
        headers = {"Retry-After": value} if value is not None else {}
        logger.debug("throttled: next token in %.3f s", wait)
        await send_json(send, 429, {"message": "Too Many Requests"}, headers=headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None
