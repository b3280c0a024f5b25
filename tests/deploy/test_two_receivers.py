"""Two receivers behind one load balancer, one PostgreSQL inbox: every event stored once.

Each receiver is the real command, ``grafterr-pipeline webhooks serve``, in its own process with
``GRAFTERR_INBOX_URL`` naming the same database. The same stream, with repeats, goes to both at
once from several senders, as a sender retrying through a load balancer would spread it.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.deploy.pg import PostgresServer
from tests.webhooks.helpers import TOKEN, body, delivery

pytestmark = pytest.mark.slow

EVENTS = 400
REPEATS = 0.25  # share of the stream each receiver is sent a second time
BROKEN = [b"{not json", b'{"event_id": "evt_x"}']
SENDERS_PER_RECEIVER = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> str:
    script = Path(sys.executable).with_name("grafterr-pipeline")
    found = str(script) if script.exists() else shutil.which("grafterr-pipeline")
    assert found, "the grafterr-pipeline console script is not installed"
    return found


@dataclass
class Receiver:
    """One ``webhooks serve`` process on a free loopback port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/grafterr/{TOKEN}"

    @classmethod
    def start(cls, inbox_url: str, folder: Path) -> Receiver:
        port = _free_port()
        log = folder / f"receiver-{port}.log"
        env = {**os.environ, "GRAFTERR_WEBHOOK_TOKEN": TOKEN, "GRAFTERR_INBOX_URL": inbox_url,
               "GRAFTERR_DATA_DIR": str(folder)}  # fmt: skip
        argv = [_command(), "webhooks", "serve", "--host", "127.0.0.1", "--port", str(port)]
        with open(log, "wb") as out:
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        receiver = cls(process, port, log)
        receiver.wait_until_healthy()
        return receiver

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(
            f"receiver on {self.port} not healthy in 30 s:\n{self.log.read_text()}"
        )

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@dataclass
class Run:
    """What was sent, what each post was answered, and how the receivers ended."""

    bodies: list[bytes]
    statuses: list[int]
    sent: int
    exit_codes: list[int]
    logs: str


def _stream(bodies: list[bytes], seed: int) -> list[bytes]:
    draw = random.Random(seed)
    stream = bodies + draw.sample(bodies, int(len(bodies) * REPEATS)) + BROKEN
    draw.shuffle(stream)
    return stream


def _send(url: str, stream: list[bytes]) -> list[int]:
    with requests.Session() as session:
        return [session.post(url, data=raw, timeout=15).status_code for raw in stream]


@pytest.fixture(scope="module")
def run(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    inbox_url = postgres.create_database("shared_inbox")
    folder = tmp_path_factory.mktemp("receivers")
    bodies = [body(delivery(f"evt_{n:04d}", order_id=f"ord_{n}")) for n in range(EVENTS)]
    receivers = [Receiver.start(inbox_url, folder) for _ in range(2)]
    try:
        jobs = [
            (r.url, part)
            for seed, r in enumerate(receivers)
            for part in _split(_stream(bodies, seed), SENDERS_PER_RECEIVER)
        ]
        with ThreadPoolExecutor(len(jobs)) as pool:
            statuses = [s for done in pool.map(lambda job: _send(*job), jobs) for s in done]
    finally:
        exit_codes = [r.terminate() for r in receivers]
    logs = "".join(r.log.read_text() for r in receivers)
    yield Run(bodies, statuses, sum(len(part) for _, part in jobs), exit_codes, logs)


def _split(stream: list[bytes], parts: int) -> list[list[bytes]]:
    return [stream[n::parts] for n in range(parts)]


def _query(postgres: PostgresServer, sql: str) -> list[tuple[object, ...]]:
    conn = postgres.connect("shared_inbox")
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        conn.close()


def test_every_delivery_to_either_receiver_is_acknowledged(run: Run) -> None:
    assert len(run.statuses) == run.sent
    assert set(run.statuses) == {200}
    assert run.exit_codes == [0, 0]


def test_every_event_is_stored_exactly_once(postgres: PostgresServer, run: Run) -> None:
    stored = _query(postgres, "SELECT event_id, count(*) FROM webhook_inbox.events GROUP BY 1")

    assert sorted(event_id for event_id, _ in stored) == [f"evt_{n:04d}" for n in range(EVENTS)]
    assert {count for _, count in stored} == {1}


def test_every_repeat_is_counted_as_a_delivery_of_the_stored_event(
    postgres: PostgresServer, run: Run
) -> None:
    (events,) = _query(postgres, "SELECT sum(deliveries) FROM webhook_inbox.events")
    (broken,) = _query(postgres, "SELECT count(*), sum(deliveries) FROM webhook_inbox.quarantine")

    assert events[0] + broken[1] == run.sent
    assert broken == (len(BROKEN), 2 * len(BROKEN))


def test_neither_the_token_nor_the_database_password_reaches_the_logs(
    postgres: PostgresServer, run: Run
) -> None:
    assert TOKEN not in run.logs
    assert postgres.password not in run.logs
    assert "postgresql://grafterr:***@127.0.0.1" in run.logs
