"""Faults on demand: the transient failures the contract says a client must survive.

Each request first waits ``latency`` plus up to ``latency_jitter`` seconds, then draws once: by
the configured shares it is answered 500, 504 (after ``delay_504`` seconds) or 408 with API
Gateway's bodies (contract, "Other errors"), or its body is cut short after the headers promised
more, or it goes through untouched. A connection reset happens a level lower, in the HTTP
protocol, because only there is the socket at hand (see :func:`resetting_protocol`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.gateway import send_json

__all__ = ["FaultMiddleware", "InjectedFault", "quiet_injected_faults", "resetting_protocol"]

logger = logging.getLogger(__name__)

_ANSWERS = {
    500: {"message": "Internal server error"},
    504: {"message": "Endpoint request timed out"},
    408: {"message": "Request Timeout"},
}


class InjectedFault(Exception):
    """Raised on purpose to drop a connection mid-response; never a bug."""


def any_fault(config: SandboxConfig) -> bool:
    """Return whether ``config`` asks for any fault handled by :class:`FaultMiddleware`."""
    shares = (config.fail_500, config.fail_504, config.fail_408, config.truncate_share)
    return any(shares) or bool(config.latency or config.latency_jitter)


class FaultMiddleware:
    """Delay, fail or truncate requests by the shares of a :class:`SandboxConfig`."""

    def __init__(self, app: ASGIApp, *, config: SandboxConfig) -> None:
        self.app = app
        self.config = config
        self.rng = random.Random(f"{config.seed}|faults")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self._delay()
        fault = self._draw()
        if fault is None:
            await self.app(scope, receive, send)
        elif fault == "truncate":
            await self.app(scope, receive, _truncating(send))
        else:
            logger.debug("injecting a %d on %s", fault, scope["path"])
            if fault == 504:
                await asyncio.sleep(self.config.delay_504)
            await send_json(send, fault, _ANSWERS[fault])

    async def _delay(self) -> None:
        seconds = self.config.latency + self.rng.uniform(0, self.config.latency_jitter)
        if seconds > 0:
            await asyncio.sleep(seconds)

    def _draw(self) -> int | str | None:
        draw = self.rng.random()
        c = self.config
        shares = ((500, c.fail_500), (504, c.fail_504), (408, c.fail_408))
        for fault, share in (*shares, ("truncate", c.truncate_share)):
            if draw < share:
                return fault
            draw -= share
        return None


def _truncating(send: Send) -> Send:
    """Wrap ``send`` so the first body goes out half-sent, then the connection drops."""

    async def cut_short(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body = message.get("body", b"")
        await send(
            {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
        )
        logger.debug("cutting a %d-byte body short", len(body))
        raise InjectedFault("body cut short on purpose")

    return cut_short


def quiet_injected_faults(record: logging.LogRecord) -> bool:
    """Logging filter: drop the server's error report of an :class:`InjectedFault`."""
    exc = record.exc_info[1] if record.exc_info else None
    while exc is not None:
        if isinstance(exc, InjectedFault):
            return False
        exc = exc.__cause__ or exc.__context__
    return True


def resetting_protocol(share: float, seed: int) -> type[H11Protocol]:
    """Return an HTTP protocol for uvicorn that resets a ``share`` of requests' connections.

    The reset happens as the request arrives, before any byte of an answer: ``SO_LINGER`` with
    a zero timeout makes closing the socket send a TCP RST, which a client sees as "connection
    reset by peer".
    """
    rng = random.Random(f"{seed}|resets")

    class ResettingProtocol(H11Protocol):
        def data_received(self, data: bytes) -> None:
            if share and rng.random() < share:
                _reset(self.transport)
                return
            super().data_received(data)

    return ResettingProtocol


def _reset(transport: Any) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    logger.debug("resetting a connection on purpose")
    transport.abort()
