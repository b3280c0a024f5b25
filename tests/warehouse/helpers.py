"""Sandbox days as normalised tables, for the warehouse tests (no HTTP needed)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from grafterr_pipeline.merge import Candidate
from grafterr_pipeline.normalise import NormaliseOptions, normalise_day
from grafterr_pipeline.normalise.day import NormalisedDay
from grafterr_pipeline.sandbox import SandboxConfig, ground_truth

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
CONFIG = SandboxConfig(seed=7, now=NOW)
DATES = (dt.date(2026, 11, 24), dt.date(2026, 11, 25))
OPTIONS = NormaliseOptions(pii="drop")
QUARANTINED_AT = dt.datetime(2026, 12, 1, 13, 0, tzinfo=dt.UTC)


def sandbox_orders(business_date: dt.date) -> dict[str, Mapping[str, Any]]:
    """The orders of ``business_date`` as the sandbox's ground truth holds them."""
    return dict(ground_truth(CONFIG, business_date, as_of=NOW).orders)


def normalised(business_date: dt.date, orders: Iterable[Mapping[str, Any]]) -> NormalisedDay:
    """``orders`` normalised as the pipeline would, with a fixed quarantine clock."""
    candidates = [Candidate(dict(o)) for o in orders]
    return normalise_day(
        candidates, business_date=business_date, options=OPTIONS, now=QUARANTINED_AT
    )


@functools.cache
def sandbox_day(business_date: dt.date) -> NormalisedDay:
    """The whole sandbox day ``business_date``, normalised (computed once per process)."""
    return normalised(business_date, sandbox_orders(business_date).values())


class AnsweringProcess:
    """A Python child that prints ``ready``, then one JSON answer per line, collected by a
    thread as they come: left in the pipe, a few hundred answers fill it and the child blocks
    on its next write, never exiting."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, *args],
            cwd=Path(__file__).parents[2],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        stdout = self.process.stdout
        assert stdout is not None and stdout.readline().strip() == "ready"
        self._lines: list[str] = []
        self._drain = threading.Thread(target=self._lines.extend, args=(stdout,), daemon=True)
        self._drain.start()

    def poll(self) -> int | None:
        return self.process.poll()

    def answers(self, timeout: float = 60) -> list[dict[str, Any]]:
        """Every answer, once the child has exited."""
        self.process.wait(timeout=timeout)
        self._drain.join(timeout=timeout)
        return [json.loads(line) for line in self._lines]
