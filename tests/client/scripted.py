"""A tiny loopback server that answers from a script, for answers the sandbox never gives.

The sandbox covers the contract's faults; this covers what a client must survive beyond them:
a 200 whose body is not JSON or lacks the envelope, and ``Retry-After`` values such as
``3600``, ``soon`` or a date in the past. Real HTTP over ``127.0.0.1``, no patched internals.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ORDERS = [
    {
        "order_id": f"ord_{n:03d}",
        "created_at": f"2026-11-30T10:{n:02d}:00+00:00",
        "updated_at": f"2026-11-30T11:{n:02d}:00+00:00",
    }
    for n in range(5)
]
PAGE_SIZE = 2
TOKEN = "scripted-token-0123456789"


@dataclass(frozen=True)
class Answer:
    """One scripted answer to a ``GET /orders``."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


def good_page(page: int) -> bytes:
    """The contract's answer for ``page`` of :data:`ORDERS`."""
    chunk = ORDERS[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    meta = {"page": page, "page_size": PAGE_SIZE, "total": len(ORDERS), "total_pages": 3}
    return json.dumps({"data": chunk, "meta": meta}).encode()


class Script:
    """Answers to give, in order, before falling back to good pages; records what was asked."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: deque[Answer] = deque(answers)
        self.requests = 0
        self.lock = threading.Lock()

    def next(self, page: int) -> Answer:
        with self.lock:
            self.requests += 1
            if self.answers:
                return self.answers.popleft()
        return Answer(200, good_page(page))


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send(Answer(200, json.dumps(_token()).encode()))

        def do_GET(self) -> None:
            page = int(self.path.split("page=")[1].split("&")[0]) if "page=" in self.path else 1
            self._send(script.next(page))

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _token() -> dict[str, Any]:
    return {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}


@contextmanager
def scripted_server(script: Script) -> Iterator[str]:
    """Serve ``script`` on a free loopback port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
