"""``python -m bench peers``: every contender against every scenario, then ``results.md``.

Each run gets a sandbox of its own, started here on loopback with the scenario's config, so no
run inherits another's rate-limit bucket, tokens or drift counters; the ground truth is
computed once per scenario from the same config. The floor under each chosen contender's memory
(:mod:`bench.peers.floor`), and the pipeline's part by part, are measured the same way, once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.peers.contenders import (
    CONTENDERS,
    REPO,
    Contender,
    contender_env,
    dagster_home,
    private_env,
)
from bench.peers.correctness import DayScore, Tables, score
from bench.peers.floor import FLOORS
from bench.peers.measure import Outcome, run_measured
from bench.peers.report import write_report
from bench.peers.sandbox import CountingSandbox, Traffic
from bench.peers.scenarios import (
    BASE,
    CUTOFF,
    LAST_DATE,
    NOW,
    SCENARIOS,
    Scenario,
    business_dates,
)
from grafterr_pipeline.businessdate import pull_window
from grafterr_pipeline.sandbox import GroundTruth, ground_truth
from grafterr_pipeline.sandbox.data import OrderBook

__all__ = ["Run", "main", "measure_floor", "parse_args", "report_path", "run_one"]

logger = logging.getLogger(__name__)

DEFAULT_DATES = 5
DEFAULT_TIMEOUT = 300.0
# The committed report is the full run only; a partial one (some scenarios or contenders, other
# dates) would drop the rest of its tables, so it goes to the git-ignored bench/out.
FULL_REPORT = REPO / "bench" / "results.md"
PARTIAL_REPORT = REPO / "bench" / "out" / "peers-results.md"


@dataclass(frozen=True)
class Run:
    """One contender against one scenario: how it ended, its traffic and its scores."""

    scenario: Scenario
    contender: Contender
    outcome: Outcome
    traffic: Traffic
    scores: list[DayScore]
    load_average: float  # of the machine over the minute before the run, see os.getloadavg

    @property
    def exact(self) -> bool:
        """Finished by itself and landed every date exactly."""
        return self.outcome.ok and all(s.exact for s in self.scores)


def truths_for(scenario: Scenario, dates: list[dt.date]) -> dict[dt.date, GroundTruth]:
    """The ground truth of each date, which also generates the orders the sandbox will serve.

    The sandbox generates a day's orders on first use, inside the request that needs it;
    generating them here first keeps that one-off cost out of every contender's timing.
    """
    config = scenario.config
    book = OrderBook.from_config(config)
    for day in dates:
        start, end = pull_window(day, CUTOFF)
        book.listing(start, end, clock=NOW, date_field="created_at", channel=None, store_id=None)
    return {day: ground_truth(config, day, cutoff=CUTOFF, as_of=NOW) for day in dates}


def run_one(
    scenario: Scenario,
    contender: Contender,
    dates: list[dt.date],
    truths: dict[dt.date, GroundTruth],
    *,
    workdir: Path,
    timeout: float,
) -> Run:
    """Start a sandbox, run ``contender`` against it, and score what it landed."""
    out = workdir / "out"
    out.mkdir(parents=True)
    load_average = os.getloadavg()[0]
    with CountingSandbox(scenario.config) as sandbox:
        env = contender_env(contender, scenario.config, sandbox.base_url, workdir)
        outcome = run_measured(
            contender.command(dates, out),
            env=env,
            cwd=REPO,
            timeout=timeout,
            log=workdir / "contender.log",
        )
        traffic = sandbox.log.traffic()
    landed = contender.read(out, dates)
    empty = Tables([], [], [])
    scores = [score(landed.get(day, empty), truths[day]) for day in dates]
    return Run(scenario, contender, outcome, traffic, scores, load_average)


def measure_floor(workdir: Path, kind: str = "pipeline", *, timeout: float) -> Outcome:
    """Run the floor ``kind`` of :mod:`bench.peers.floor` in ``workdir`` as a contender is
    run, and measure it."""
    out = workdir / "out"
    out.mkdir(parents=True)
    order = workdir / "order.json"
    order.write_text(json.dumps(_an_order()))
    env = private_env(workdir)
    env["DAGSTER_HOME"] = str(dagster_home(workdir))
    return run_measured(
        [sys.executable, "-m", "bench.peers.floor", str(out), kind, str(order)],
        env=env,
        cwd=REPO,
        timeout=timeout,
        log=workdir / "floor.log",
    )


@functools.cache
def _an_order() -> dict[str, Any]:
    """One order of the sandbox the scenarios share, for the peers' floors to save."""
    truth = ground_truth(replace(BASE, scale=1), LAST_DATE, as_of=NOW)
    return next(iter(truth.orders.values()))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench peers", description=__doc__)
    parser.add_argument(
        "--dates",
        type=int,
        default=DEFAULT_DATES,
        help=f"business dates per run (default {DEFAULT_DATES})",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[s.name for s in SCENARIOS],
        help="run only this scenario (repeatable; default all)",
    )
    parser.add_argument(
        "--contender",
        action="append",
        choices=[c.key for c in CONTENDERS],
        help="run only this contender (repeatable; default all)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before a contender is killed (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="where to write the report (default bench/results.md for a full run, "
        "bench/out/peers-results.md when --scenario, --contender or --dates narrows it)",
    )
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep each run's files and log under this directory"
    )
    return parser.parse_args(argv)  # fmt: skip


def report_path(args: argparse.Namespace) -> Path:
    """Where the report goes: ``--output``, else the committed one only for a full run."""
    if args.output is not None:
        return args.output
    partial = args.scenario or args.contender or args.dates != DEFAULT_DATES
    return PARTIAL_REPORT if partial else FULL_REPORT


def main(argv: list[str]) -> int:
    """Run the selected scenarios and contenders and write the report; 0 once written."""
    args = parse_args(argv)
    output = report_path(args)
    logging.basicConfig(level=logging.WARNING)
    dates = business_dates(args.dates)
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    contenders = [c for c in CONTENDERS if not args.contender or c.key in args.contender]
    runs = []
    for scenario in scenarios:
        truths = truths_for(scenario, dates)
        for contender in contenders:
            with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
                root = args.keep or Path(tmp)
                workdir = root / f"{scenario.name}-{contender.key}"
                run = run_one(scenario, contender, dates, truths, workdir=workdir,
                              timeout=args.timeout)  # fmt: skip
            runs.append(run)
            print(_progress(run), flush=True)
    floors = {}
    chosen = {c.key for c in contenders}
    for floor in FLOORS:
        if floor.contender in chosen:
            with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
                workdir = (args.keep or Path(tmp)) / f"floor-{floor.key}"
                floors[floor.key] = measure_floor(workdir, floor.key, timeout=args.timeout)
            outcome = floors[floor.key]
            print(f"floor {floor.key}: {outcome.state} {outcome.peak_rss_mib:.0f} MiB", flush=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_report(runs, dates, output, argv=argv, floors=floors)
    print(f"wrote {output}")
    return 0


def _progress(run: Run) -> str:
    o = run.outcome
    return (
        f"{run.scenario.name:7} {run.contender.label:18} {o.state:9} {o.wall_seconds:6.1f} s "
        f"{o.peak_rss_mib:6.0f} MiB  {run.traffic.requests:4} requests "
        f"{run.traffic.throttled:4} x 429  exact: {'yes' if run.exact else 'no'}"
    )
