"""Run a sandbox on loopback in a background thread, for tests, the demo and by hand.

::

    with SandboxServer(SandboxConfig(seed=7)) as sandbox:
        requests.post(sandbox.base_url + "auth/token", ...)

The server binds ``127.0.0.1`` only, on a free port unless one is given, and is serving by the
time ``start()`` (or ``__enter__``) returns. With a ``webhook_url`` configured it also delivers
webhook events in the background until it stops.
"""

from __future__ import annotations

import logging
from types import TracebackType

import uvicorn

from grafterr_pipeline.sandbox.app import build_app
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.faults import quiet_injected_faults, resetting_protocol
from grafterr_pipeline.sandbox.webhooks import WebhookSender
from grafterr_pipeline.threaded_server import LOOPBACK, ThreadedServer

__all__ = ["LOOPBACK", "SandboxServer"]

logger = logging.getLogger(__name__)


class SandboxServer:
    """A sandbox served by uvicorn on ``127.0.0.1:port`` from a daemon thread."""

    def __init__(self, config: SandboxConfig | None = None, *, port: int = 0) -> None:
        self.config = config or SandboxConfig()
        self.app = build_app(self.config)
        self._server = ThreadedServer(
            self._uvicorn_config(), host=LOOPBACK, port=port, name="sandbox"
        )
        self.port: int = self._server.port
        self._webhooks = WebhookSender(self.config) if self.config.webhook_url else None

    @property
    def base_url(self) -> str:
        """The URL the API answers at, with a trailing slash, e.g. ``http://127.0.0.1:8765/``."""
        return f"http://{LOOPBACK}:{self.port}{self.config.base_path}/"

    def _uvicorn_config(self) -> uvicorn.Config:
        uvicorn_log = logging.getLogger("uvicorn.error")
        if quiet_injected_faults not in uvicorn_log.filters:
            uvicorn_log.addFilter(quiet_injected_faults)
        protocol = resetting_protocol(self.config.reset_share, self.config.seed)
        return uvicorn.Config(
            self.app,
            http=protocol if self.config.reset_share else "auto",
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )

    def start(self) -> SandboxServer:
        """Start serving and return once the server accepts requests."""
        self._server.start()
        if self._webhooks is not None:
            self._webhooks.start()
        logger.info("sandbox serving at %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._webhooks is not None:
            self._webhooks.stop()
        self._server.stop()
        logger.info("sandbox at %s stopped", self.base_url)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
