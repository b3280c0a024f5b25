"""The command's process set-up: Arrow's allocator chosen before pyarrow loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# What the console script does before it parses its arguments, then the pool Arrow's C++ code
# ended up with once the parser (which imports the webhook and sandbox commands) was built.
_PROBE = """
import sys
from grafterr_pipeline.cli import build_parser
from grafterr_pipeline.cli.process import use_system_allocator
loaded_early = "pyarrow" in sys.modules
use_system_allocator()
build_parser()
import pyarrow
print(loaded_early, pyarrow.default_memory_pool().backend_name)
"""


def _probe(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_command_gives_arrow_the_system_allocator_before_pyarrow_loads() -> None:
    assert _probe() == "False system"


@pytest.mark.parametrize("pool", ["mimalloc", "system"], ids=["mimalloc", "system"])
def test_the_command_keeps_the_arrow_pool_the_user_chose(pool: str) -> None:
    assert _probe(ARROW_DEFAULT_MEMORY_POOL=pool) == f"False {pool}"
