"""Sustained webhook deliveries per second, and the 99th percentile time to acknowledge (issue 5).

The receiver runs as the real command, ``grafterr-pipeline webhooks serve``, in its own process
on loopback, over a fresh inbox with its durability settings unchanged (WAL, ``synchronous=
FULL``: every 2xx follows an fsync-ed commit). This process posts contract-shaped deliveries
(about 2 KB each, a share of them repeats) from ``--senders`` keep-alive connections for
``--seconds`` after a short warm-up, then checks that every acknowledged event is in the inbox
once. Goals on 2 cores: at least 500 deliveries per second, p99 under 100 ms.

Run alone with ``python -m bench.webhook_bench [--senders N] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tests.factories import make_order

TOKEN = "bench-" + "0123456789abcdef" * 2
GOAL_RATE = 500.0
GOAL_P99_MS = 100.0
_WARM_UP = 1.0
_REPEAT_SHARE = 0.1


@dataclass
class Tally:
    """What the senders saw: latencies of acknowledged posts, event ids acknowledged, errors."""

    latencies: list[float] = field(default_factory=list)
    acked: set[str] = field(default_factory=set)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_receiver(data: Path, port: int) -> subprocess.Popen[bytes]:
    script = Path(sys.executable).with_name("grafterr-pipeline")
    command = str(script) if script.exists() else shutil.which("grafterr-pipeline")
    env = {**os.environ, "GRAFTERR_WEBHOOK_TOKEN": TOKEN, "GRAFTERR_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [str(command), "webhooks", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data / "receiver.log", "wb"),  # noqa: SIM115 -- closed with the process
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=1)) as conn:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the receiver did not become healthy within 30 s")


def _cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """Wait for ``process`` and return the CPU time it used, user and system."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def _payload(event_id: str, n: int) -> bytes:
    order = make_order(order_id=f"ord_{n}", updated_at="2026-11-30T19:58:40+00:00")
    event = {
        "event_id": event_id,
        "event_type": "pos_order_updated",
        "occurred_at": "2026-11-30T19:58:41+00:00",
        "data": order,
    }
    return json.dumps(event).encode()


def _sender(
    port: int, name: int, stop_at: float, measure_from: float, tally: Tally, rng: random.Random
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    path = f"/webhooks/grafterr/{TOKEN}"
    sent: list[str] = []
    n = 0
    while time.monotonic() < stop_at:
        if sent and rng.random() < _REPEAT_SHARE:
            event_id = rng.choice(sent)
        else:
            event_id = f"evt_{name}_{n}"
            sent.append(event_id)
            n += 1
        raw = _payload(event_id, n)
        began = time.monotonic()
        try:
            conn.request("POST", path, body=raw, headers={"Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with tally.lock:
                tally.errors += 1
            continue
        took = time.monotonic() - began
        with tally.lock:
            if 200 <= answer.status < 300:
                tally.acked.add(event_id)
                if began >= measure_from:
                    tally.latencies.append(took)
            else:
                tally.errors += 1
    conn.close()


def _drive(port: int, senders: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    start = time.monotonic()
    measure_from, stop_at = start + _WARM_UP, start + _WARM_UP + seconds
    threads = [
        threading.Thread(
            target=_sender, args=(port, i, stop_at, measure_from, tally, random.Random(i))
        )
        for i in range(senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    measured = time.monotonic() - measure_from
    return tally, measured


def _inbox_check(inbox: Path, acked: set[str]) -> tuple[bool, dict[str, object]]:
    with closing(sqlite3.connect(inbox)) as conn:
        stored = {row[0] for row in conn.execute("SELECT event_id FROM events")}
        pragmas = {
            "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
            "rows": conn.execute("SELECT count(*) FROM events").fetchone()[0],
        }
    return acked <= stored and pragmas["rows"] == len(stored), pragmas


def run(*, senders: int, seconds: float) -> dict[str, float]:
    """Run the benchmark once and print its figures; return them."""
    with tempfile.TemporaryDirectory(prefix="webhook-bench-") as folder:
        data = Path(folder)
        port = _free_port()
        receiver = _start_receiver(data, port)
        try:
            tally, measured = _drive(port, senders, seconds)
        finally:
            receiver.send_signal(signal.SIGTERM)
            cpu = _cpu_seconds(receiver)
        complete, pragmas = _inbox_check(data / "inbox" / "webhooks.sqlite3", tally.acked)
    latencies = sorted(tally.latencies)
    rate = len(latencies) / measured
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000
    print(f"senders {senders}, measured {measured:.1f} s after {_WARM_UP:.0f} s warm-up")
    print(f"  acknowledged  {len(latencies)} deliveries, {rate:.0f}/s (goal >= {GOAL_RATE:.0f}/s)")
    print(f"  ack latency   p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal < {GOAL_P99_MS:.0f} ms), "
          f"max {latencies[-1] * 1000:.1f} ms")  # fmt: skip
    # CPU per delivery does not depend on what else the machine runs, unlike the rate.
    print(
        f"  receiver CPU  {cpu:.1f} s in all, {cpu / len(tally.acked) * 1000:.2f} ms per delivery"
    )
    print(f"  errors        {tally.errors}")
    print(f"  inbox         {pragmas}, every acknowledged event stored once: {complete}")
    verdict = rate >= GOAL_RATE and p99 < GOAL_P99_MS and complete and not tally.errors
    print(f"  goals         {'met' if verdict else 'NOT met'}")
    return {"rate": rate, "p50_ms": p50, "p99_ms": p99}


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m bench.webhook_bench`` and of the ``bench`` part."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=16, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds")
    args = parser.parse_args(argv if argv is not None else [])
    run(senders=args.senders, seconds=args.seconds)


if __name__ == "__main__":
    main(sys.argv[1:])
