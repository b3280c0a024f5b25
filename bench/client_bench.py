"""How close the client gets to the rate limit, and how many 429s it costs (issue 3).

For each case a fresh sandbox is served on loopback with rate ``R`` and added latency ``L``, a
fresh client (its own limiter state) pulls one day whose page size is chosen so the pull takes
about ``requests`` requests, and the achieved requests per second is divided by ``R``. Goals:
at least 0.95 with ``L`` = 0 and 300 ms at ``R`` = 10, no 429 when ``R`` is configured in the
client, and under 2 % 429s over a 500-request pull when it is not (AIMD discovery).

Every pull is about 500 requests: a pull cannot start its pages before the token and page 1
have come back, and its last answer arrives ``L`` after the last request, so about ``3 L`` of
each pull is spent below the rate; over 500 requests at ``R`` = 10 that is 2 % at 300 ms.

Run alone with ``python -m bench.client_bench [--repeat N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.settings import Secret, Settings

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
BASE = SandboxConfig(seed=3, scale=60, now=NOW)


@dataclass(frozen=True)
class Case:
    """One benchmark row: server rate and latency, the client's rate, the pull's size."""

    name: str
    rate: float
    latency: float
    client_rate: float | None
    requests: int


CASES = [
    Case("configured R, L=0", 10.0, 0.0, 10.0, 500),
    Case("configured R, L=300ms", 10.0, 0.3, 10.0, 500),
    Case("discovered (AIMD), L=0", 10.0, 0.0, None, 500),
]


@dataclass(frozen=True)
class Run:
    """What one pull achieved."""

    requests: int
    throttled: int
    ratio: float


def run_once(case: Case) -> Run:
    """Serve a sandbox for ``case``, pull the day once, and measure."""
    total = len(OrderBook.from_config(BASE).listing(START, END, clock=NOW))
    page_size = max(1, round(total / case.requests))
    config = BASE.with_changes(rate_limit=case.rate, latency=case.latency)
    with tempfile.TemporaryDirectory() as data_dir, SandboxServer(config) as server:
        settings = Settings(
            environment="local",
            base_url=server.base_url,
            client_id=config.client_id,
            client_secret=Secret(config.client_secret),
            api_key=Secret(config.api_key),
            rate_limit=case.client_rate,
            data_dir=Path(data_dir),
            page_size=page_size,
            pii="drop",  # the client never reads customers
        )
        with GrafterrClient(settings) as client:
            stats = client.pull_orders(START, END).stats
    achieved = stats.requests / stats.elapsed_seconds
    return Run(stats.requests, stats.throttled, achieved / case.rate)


def main(argv: list[str] | None = None) -> None:
    """Run every case ``--repeat`` times (AIMD ``--repeat-aimd`` times) and print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.client_bench")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configured-rate case")
    parser.add_argument("--repeat-aimd", type=int, default=1, help="runs of the AIMD case")
    args = parser.parse_args(argv)
    header = f"{'case':<24} {'R':>4} {'L ms':>5} {'runs':>4} {'requests':>8} "
    print(header + f"{'achieved/R (median, min)':>25} {'429s (median, max)':>19} {'429 %':>6}")
    for case in CASES:
        repeat = args.repeat if case.client_rate is not None else args.repeat_aimd
        runs = [run_once(case) for _ in range(repeat)]
        print(_row(case, runs), flush=True)


def _row(case: Case, runs: list[Run]) -> str:
    ratio = statistics.median(r.ratio for r in runs)
    throttled = statistics.median(r.throttled for r in runs)
    share = 100 * sum(r.throttled for r in runs) / sum(r.requests for r in runs)
    requests = int(statistics.median(r.requests for r in runs))
    return (
        f"{case.name:<24} {case.rate:>4g} {case.latency * 1000:>5.0f} {len(runs):>4} "
        f"{requests:>8} {ratio:>16.3f}, {min(r.ratio for r in runs):.3f} "
        f"{throttled:>12g}, {max(r.throttled for r in runs):<4} {share:>6.2f}"
    )


if __name__ == "__main__":
    main()
