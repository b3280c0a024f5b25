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
import socket
import threading
import time
from types import TracebackType

import uvicorn

from grafterr_pipeline.sandbox.app import build_app
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.faults import quiet_injected_faults, resetting_protocol
from grafterr_pipeline.sandbox.webhooks import WebhookSender

__all__ = ["LOOPBACK", "SandboxServer"]

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
_STARTUP_TIMEOUT = 10.0


class SandboxServer:
    """A sandbox served by uvicorn on ``127.0.0.1:port`` from a daemon thread."""

    def __init__(self, config: SandboxConfig | None = None, *, port: int = 0) -> None:
        self.config = config or SandboxConfig()
        self._socket = _bind(port)
        self.port: int = self._socket.getsockname()[1]
        self.app = build_app(self.config)
        self._server = uvicorn.Server(self._uvicorn_config())
        self._webhooks = WebhookSender(self.config) if self.config.webhook_url else None
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True,
            name=f"sandbox-{self.port}",
        )  # fmt: skip

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
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox on port {self.port} did not start")
            time.sleep(0.01)
        if self._webhooks is not None:
            self._webhooks.start()
        logger.info("sandbox serving at %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._webhooks is not None:
            self._webhooks.stop()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=_STARTUP_TIMEOUT)
        self._socket.close()
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


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    return sock
