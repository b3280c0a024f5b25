"""Serve the receiver with uvicorn: in the foreground for the command line, or from a thread.

::

    with WebhookServer(settings) as receiver:
        requests.post(receiver.url_for(token), data=body)

The server binds ``127.0.0.1`` unless told otherwise, runs without uvicorn's access log (the
token is part of every path it would print), and closes its inbox -- committing what is queued --
when it stops.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import TracebackType

import uvicorn

from grafterr_pipeline.settings import WebhookSettings
from grafterr_pipeline.threaded_server import LOOPBACK, ThreadedServer
from grafterr_pipeline.webhooks.app import build_app
from grafterr_pipeline.webhooks.inbox import Inbox
from grafterr_pipeline.webhooks.inboxes import open_inbox

__all__ = ["LOOPBACK", "WebhookServer"]

logger = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class WebhookServer:
    """The receiver on ``host:port`` (a free loopback port by default), over one inbox."""

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        inbox: Inbox | None = None,
    ) -> None:
        self.settings = settings
        if inbox is None:
            inbox = open_inbox(settings.inbox_url, default=settings.inbox_path)
        self.inbox = inbox
        self.host = host
        self._server = ThreadedServer(self._uvicorn_config(), host=host, port=port, name="webhooks")
        self.port: int = self._server.port

    @property
    def base_url(self) -> str:
        """``http://host:port``, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, token: str) -> str:
        """The delivery URL for ``token``: what would be registered with Grafterr."""
        return f"{self.base_url}/webhooks/grafterr/{token}"

    def _uvicorn_config(self) -> uvicorn.Config:
        return uvicorn.Config(
            build_app(self.settings, self.inbox),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )

    def run(self, stop: threading.Event | None = None) -> None:
        """Serve until SIGINT or SIGTERM (or ``stop`` is set), then finish the requests in
        flight, close the inbox and return.

        uvicorn serves from a thread so that the signals are ours: uvicorn's own handlers
        re-raise the signal after shutting down, which would end the process before the inbox
        is closed and with a non-zero status.
        """
        stop = stop or threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
        try:
            self.start()
            logger.info("webhook receiver serving at %s", self.base_url)
            stop.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop()

    def start(self) -> WebhookServer:
        """Serve from a daemon thread; return once requests are accepted."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving, wait for the requests in flight, then close the inbox."""
        self._server.stop()
        self.inbox.close()
        logger.info("webhook receiver on %s stopped", self.base_url)

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
