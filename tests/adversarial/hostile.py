"""A loopback server that misbehaves on purpose, for answers neither Grafterr nor the sandbox give.

The token endpoint always works; every ``GET`` is answered by a :data:`Handler`, a plain function
of the request number and page, so each test states its hostility in one line. A handler may
answer, answer part and fall silent, or never answer at all. Real HTTP over ``127.0.0.1``
only, and every wait ends by itself when the server stops.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from grafterr_pipeline.settings import Secret, Settings, Timeouts

TOKEN = "hostile-token-5f0c2e81"
# The longest any handler holds a connection: the test has long given up by then.
_HOLD_SECONDS = 20.0


@dataclass(frozen=True)
class Answer:
    """What to send: a status, a body and headers.

    ``promise`` is the ``Content-Length`` to announce when it is not the body's: promise more
    and the server sends the body, then holds the connection in silence. ``drip`` sends the
    body one byte at a time, this many seconds apart.
    """

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    promise: int | None = None
    drip: float = 0.0


# None means: accept the request and never answer it.
Handler = Callable[[int, int], Answer | None]


@dataclass
class Hostile:
    """A running server: its URL and how many ``GET`` s it received."""

    base_url: str
    requests: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


def page(orders: list[Any], *, total: int | None = None, total_pages: int = 1) -> bytes:
    """A contract envelope around ``orders``."""
    meta = {"page": 1, "page_size": 200, "total": len(orders) if total is None else total}
    return json.dumps({"data": orders, "meta": {**meta, "total_pages": total_pages}}).encode()


def _handler_class(handler: Handler, state: Hostile) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Misbehaving(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            token = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
            self._send(Answer(200, json.dumps(token).encode()))

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            with lock:
                state.requests += 1
                number = state.requests
            answer = handler(number, int(query.get("page", ["1"])[0]))
            if answer is None:
                state.stop.wait(_HOLD_SECONDS)
                self.close_connection = True
                return
            self._send(answer)

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            length = len(answer.body) if answer.promise is None else answer.promise
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if answer.drip:
                self._drip(answer)
                return
            self.wfile.write(answer.body)
            if length > len(answer.body):
                self.wfile.flush()
                state.stop.wait(_HOLD_SECONDS)
                self.close_connection = True

        def _drip(self, answer: Answer) -> None:
            self.close_connection = True
            try:
                for index in range(len(answer.body)):
                    if state.stop.wait(answer.drip):
                        return
                    self.wfile.write(answer.body[index : index + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, as it should

        def log_message(self, *args: Any) -> None:
            pass

    return Misbehaving


@contextmanager
def hostile_server(handler: Handler) -> Iterator[Hostile]:
    """Serve ``handler`` on a free loopback port until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(handler, state := Hostile("")))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stop.set()
        server.shutdown()
        server.server_close()


def settings_for(base_url: str, data_dir: Path, **changes: object) -> Settings:
    """Settings pointing at a hostile server, with short timeouts: nothing here should wait."""
    settings = Settings(
        environment="local",
        base_url=base_url,
        client_id="hostile-client",
        client_secret=Secret("hostile-secret"),
        api_key=Secret("hostile-key"),
        data_dir=data_dir,
        rate_limit=500.0,
        pii_salt=Secret("hostile-salt"),
        timeouts=Timeouts(connect=1.0, read=0.3, answer=1.0),
    )
    return settings.with_changes(**changes) if changes else settings
