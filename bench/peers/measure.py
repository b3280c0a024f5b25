"""Run one contender as a subprocess and measure its wall time and peak memory.

Peak memory is the ``ru_maxrss`` that ``wait4`` reports for the child: the largest resident
set of the child or of any descendant it waited for. Every contender here does its work in one
process (the pipeline runs Dagster in-process), so it is that process's peak.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Outcome", "run_measured"]


@dataclass(frozen=True)
class Outcome:
    """How a contender's process ended, how long it took and its peak memory."""

    exit_code: int
    wall_seconds: float
    peak_rss_mib: float
    timed_out: bool
    last_line: str

    @property
    def ok(self) -> bool:
        """Whether the process finished by itself with exit code 0."""
        return self.exit_code == 0 and not self.timed_out


def run_measured(
    command: list[str], *, env: dict[str, str], cwd: Path, timeout: float, log: Path
) -> Outcome:
    """Run ``command``, its output into ``log``; kill its process group after ``timeout`` s."""
    timed_out = threading.Event()
    with log.open("wb") as sink:
        started = time.monotonic()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        timer = threading.Timer(timeout, _kill_group, (process.pid, timed_out))
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Outcome(
        exit_code=process.returncode,
        wall_seconds=wall,
        peak_rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        timed_out=timed_out.is_set(),
        last_line=_last_line(log),
    )


def _kill_group(pid: int, flag: threading.Event) -> None:
    # The contender was started in a session of its own, so its group id is its pid.
    flag.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""
