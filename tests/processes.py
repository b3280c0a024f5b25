"""Running a piece of Python in a process of its own, for tests of what a process loads,
maps or inherits, which the test runner's own process has long since settled."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_python(
    code: str, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``args`` in a new interpreter, from the repository's root (so the
    ``bench`` package imports); it must exit 0, and its output is returned."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done
