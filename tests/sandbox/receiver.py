"""A webhook receiver for the tests: a loopback HTTP server that records what it is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """Records posted JSON bodies; answers the statuses queued in ``answers``, then 200."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.answers = list(answers or [])
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, body: dict[str, Any]) -> int:
        """Record ``body`` and return the status to answer with."""
        with self.lock:
            self.bodies.append(body)
            return self.answers.pop(0) if self.answers else 200


@contextmanager
def receiving(answers: list[int] | None = None) -> Iterator[Receiver]:
    """Run a :class:`Receiver` on a free loopback port for the duration of the block."""
    receiver = Receiver(answers)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would offer

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            status = receiver.answer(json.loads(self.rfile.read(length)))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet: the tests look at ``bodies``, not at logs."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
