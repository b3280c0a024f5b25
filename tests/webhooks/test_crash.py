"""Kill the receiver with SIGKILL mid-stream: every delivery it acknowledged survives, once.

The receiver runs as the real command, ``grafterr-pipeline webhooks serve``, in its own process.
SIGKILL leaves no chance to flush anything, so what is in the inbox afterwards is what was
committed before each 200 went out. (A power cut would also drop the page cache; that part of
the guarantee rests on ``synchronous=FULL``, checked in ``test_inbox.py``.)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.webhooks.helpers import TOKEN, body, delivery, rows

EVENTS = 3000
KILL_AFTER_ACKS = 200
SENDERS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("grafterr-pipeline")
    found = str(script) if script.exists() else shutil.which("grafterr-pipeline")
    assert found, "the grafterr-pipeline console script is not installed"
    return [found, "webhooks", "serve", "--host", "127.0.0.1"]


class Receiver:
    """The receiver as a child process over one data folder."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/grafterr/{TOKEN}"
        self.log = data / "receiver.log"
        env = {**os.environ, "GRAFTERR_WEBHOOK_TOKEN": TOKEN, "GRAFTERR_DATA_DIR": str(data)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*_command(), "--port", str(self.port)], env=env, stdout=log, stderr=log
            )
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the receiver did not become healthy within 30 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)


def _stream(receiver: Receiver, bodies: list[bytes], acked: set[int], lock: threading.Lock) -> None:
    """Post from several senders until the receiver dies; remember what got a 2xx."""
    cursor = iter(range(len(bodies)))

    def sender() -> None:
        with requests.Session() as session:
            for index in cursor:
                try:
                    answer = session.post(receiver.url, data=bodies[index], timeout=5)
                except requests.RequestException:
                    return
                if 200 <= answer.status_code < 300:
                    with lock:
                        acked.add(index)

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    while len(acked) < KILL_AFTER_ACKS:
        time.sleep(0.005)
    receiver.kill()
    for thread in threads:
        thread.join(timeout=30)


@dataclass
class Crash:
    """The outcome of one stream cut short by SIGKILL, with the receiver started again."""

    bodies: list[bytes]
    acked: set[int]
    killed: Receiver
    restarted: Receiver
    inbox: Path


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crash]:
    data = tmp_path_factory.mktemp("crash")
    bodies = [body(delivery(f"evt_{n:05d}", order_id=f"ord_{n}")) for n in range(EVENTS)]
    acked: set[int] = set()
    killed = Receiver(data)
    try:
        _stream(killed, bodies, acked, threading.Lock())
        restarted = Receiver(data)
    finally:
        if killed.process.poll() is None:
            killed.kill()
    try:
        yield Crash(bodies, acked, killed, restarted, data / "inbox" / "webhooks.sqlite3")
    finally:
        if restarted.process.poll() is None:
            restarted.kill()


def _stored(inbox: Path) -> dict[str, int]:
    return dict(rows(inbox, "SELECT event_id, count(*) FROM events GROUP BY event_id"))


@pytest.mark.slow
def test_every_delivery_acknowledged_before_sigkill_is_stored_exactly_once(crash: Crash) -> None:
    stored = _stored(crash.inbox)

    assert crash.killed.process.returncode == -signal.SIGKILL
    assert KILL_AFTER_ACKS <= len(crash.acked) < EVENTS, "the kill must land mid-stream"
    assert [n for n in sorted(crash.acked) if stored.get(f"evt_{n:05d}") != 1] == []
    assert rows(crash.inbox, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.slow
def test_deliveries_resent_after_the_crash_are_still_stored_once(crash: Crash) -> None:
    resend = range(max(crash.acked) + 50)

    with requests.Session() as session:
        answers = [
            session.post(crash.restarted.url, data=crash.bodies[n], timeout=5) for n in resend
        ]
    exit_code = crash.restarted.terminate()

    assert {a.status_code for a in answers} == {200}
    assert exit_code == 0
    stored = _stored(crash.inbox)
    assert all(stored.get(f"evt_{n:05d}") == 1 for n in resend)
    assert set(stored.values()) == {1}
    assert TOKEN not in crash.killed.log.read_text()
