"""An ASGI app served by uvicorn from a daemon thread, on a socket bound before it starts.

The sandbox and the webhook receiver both serve this way: binding first gives the caller the
port (a free one when asked for port 0) before anything runs, and serving from a thread leaves
the caller's own signal handlers in place.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn

__all__ = ["LOOPBACK", "ThreadedServer"]

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT = 10.0


class ThreadedServer:
    """uvicorn serving ``config``'s app on ``host:port`` from a daemon thread named ``name``."""

    def __init__(self, config: uvicorn.Config, *, host: str, port: int, name: str) -> None:
        self.host = host
        self._socket = _bind(host, port)
        self.port: int = self._socket.getsockname()[1]
        import uvicorn  # here, so that LOOPBACK can be imported without loading it

        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True,
            name=f"{name}-{self.port}",
        )  # fmt: skip

    def start(self) -> None:
        """Start serving; return once requests are accepted."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self._thread.name}: uvicorn did not start serving")
            time.sleep(0.01)

    def stop(self) -> None:
        """Ask uvicorn to finish the requests in flight, wait for its thread, free the port."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=STARTUP_TIMEOUT)
        self._socket.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock
