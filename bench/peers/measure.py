"""Run one contender as a subprocess and measure its wall time and peak memory.

Peak memory counts the contender's whole process tree. ``ru_maxrss`` from ``wait4`` is exact
for one process but only the largest of the processes, never their sum, so a contender that
spread its work over child processes would look smaller than it is. A sampler therefore adds
up the proportional set size (``Pss`` in ``/proc/<pid>/smaps_rollup``: shared pages split
between the processes sharing them) of every process in the contender's session, every
:data:`SAMPLE_SECONDS`, from a process's second sample on (:func:`settled_pss_kib`); the peak
is the larger of the two figures.

Linux carries a process's ``ru_maxrss`` across ``exec`` and starts it, in a process forked or
spawned by another, at that parent's own peak: every contender started straight from the
harness would report at least the harness's peak (1.8 GB in ``make bench``, after the
warehouse part built its year of orders). So the harness starts a small launcher
(:data:`LAUNCHER`), which starts the contender, waits for it and reports the contender's own
``ru_maxrss`` and wall time; the launcher itself is left out of the sampled sum.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LAUNCHER",
    "SAMPLE_SECONDS",
    "Outcome",
    "run_measured",
    "session_pss_kib",
    "settled_pss_kib",
]

SAMPLE_SECONDS = 0.1
# Run with ``python -S -c LAUNCHER REPORT COMMAND...``: start COMMAND, wait for it, write its
# exit code, wall seconds and ru_maxrss (KiB) to REPORT as JSON, and exit with its code.
LAUNCHER = """
import json, os, subprocess, sys, time
report, command = sys.argv[1], sys.argv[2:]
started = time.monotonic()
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - started
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as out:
    json.dump({"exit_code": code, "wall_seconds": wall, "maxrss_kib": usage.ru_maxrss}, out)
sys.exit(code if code >= 0 else 128 - code)
"""


@dataclass(frozen=True)
class Outcome:
    """How a contender's process ended, how long it took and its peak memory."""

    exit_code: int
    wall_seconds: float
    peak_rss_mib: float
    timed_out: bool
    last_line: str
    processes: int = 1  # the most processes the contender's session had at once

    @property
    def ok(self) -> bool:
        """Whether the process finished by itself with exit code 0."""
        return self.exit_code == 0 and not self.timed_out

    @property
    def state(self) -> str:
        """How it ended, in a word or two: ``ok``, ``timed out`` or ``exit N``."""
        if self.ok:
            return "ok"
        return "timed out" if self.timed_out else f"exit {self.exit_code}"


def run_measured(
    command: list[str], *, env: dict[str, str], cwd: Path, timeout: float, log: Path
) -> Outcome:
    """Run ``command``, its output into ``log``; kill its process group after ``timeout`` s."""
    timed_out = threading.Event()
    report = log.with_name(log.name + ".measured.json")
    report.unlink(missing_ok=True)
    with log.open("wb") as sink:
        started = time.monotonic()
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", LAUNCHER, str(report), *command], env=env, cwd=cwd,
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        timer = threading.Timer(timeout, _kill_group, (launcher.pid, timed_out))
        sampler = _TreeSampler(launcher.pid, leave_out=launcher.pid)
        timer.start()
        sampler.start()
        try:
            _, status, _ = os.wait4(launcher.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        wall = time.monotonic() - started
    launcher.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    # A launcher killed at the timeout wrote nothing: its own figures stand in.
    measured = json.loads(report.read_text()) if report.exists() else {}
    return Outcome(
        exit_code=measured.get("exit_code", launcher.returncode),
        wall_seconds=measured.get("wall_seconds", wall),
        peak_rss_mib=max(measured.get("maxrss_kib", 0), sampler.peak_kib) / 1024,  # KiB
        timed_out=timed_out.is_set(),
        last_line=_last_line(log),
        processes=sampler.most_processes,
    )


class _TreeSampler(threading.Thread):
    """Samples the summed PSS of every process in one session until stopped."""

    def __init__(self, session: int, *, leave_out: int | None = None) -> None:
        super().__init__(daemon=True)
        self.session = session
        self.leave_out = leave_out
        self.peak_kib = 0
        self.most_processes = 1
        self._halt = threading.Event()

    def run(self) -> None:
        previous: dict[int, int] = {}
        while not self._halt.wait(SAMPLE_SECONDS):
            current = session_pss_kib(self.session, leave_out=self.leave_out)
            settled = settled_pss_kib(previous, current)
            self.peak_kib = max(self.peak_kib, sum(settled.values()))
            self.most_processes = max(self.most_processes, len(settled))
            previous = current

    def stop(self) -> None:
        self._halt.set()
        self.join()


def settled_pss_kib(previous: dict[int, int], current: dict[int, int]) -> dict[int, int]:
    """The processes of ``current`` (PSS in KiB by pid) that ``previous``, the sample before,
    held too.

    A process is counted from its second sample on. One caught between ``fork`` and ``exec``
    still shares its parent's pages, and after a ``vfork`` (which ``subprocess`` uses) its
    whole address space: its PSS and its parent's, read one after the other, can count those
    pages twice. Python's ``subprocess`` spawns such a child for each command; Dagster starts
    three as a run begins. A child that lives on to work is counted from the next sample.
    """
    return {pid: kib for pid, kib in current.items() if pid in previous}


def session_pss_kib(session: int, *, leave_out: int | None = None) -> dict[int, int]:
    """The PSS in KiB of each live process of ``session`` but ``leave_out``, by pid."""
    sizes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(leave_out):
            continue
        try:
            # Fields after the command name, which may hold spaces: state, ppid, pgrp, session.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:
                continue
            sizes[int(entry.name)] = _pss_kib(entry / "smaps_rollup")
        except (OSError, ValueError, IndexError):
            continue  # the process ended while it was read
    return sizes


def _pss_kib(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _kill_group(pid: int, flag: threading.Event) -> None:
    # The contender was started in a session of its own, so its group id is its pid.
    flag.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""
