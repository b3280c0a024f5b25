"""``grafterr-pipeline run`` that stops half-way through writing the ``orders`` partition.

Run as a script by the crash test: it wraps ``pyarrow.parquet.write_table`` so that the first
``orders`` file is written, cut to half its size (as a write is when the process dies), a
marker file is created, and the process waits to be killed. Nothing else changes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from grafterr_pipeline.cli import main

_write_table = pq.write_table


def _write_then_stall(table: Any, where: Any, *args: Any, **kwargs: Any) -> None:
    _write_table(table, where, *args, **kwargs)
    path = Path(str(getattr(where, "name", where)))  # a path, or a file opened on one
    if "orders" in path.parts:
        if hasattr(where, "flush"):
            where.flush()
        os.truncate(path, path.stat().st_size // 2)
        Path(os.environ["PAUSED_MARKER"]).write_text(str(path))
        time.sleep(120)  # the test kills us long before; ends by itself if it does not


pq.write_table = _write_then_stall
sys.exit(main(sys.argv[1:]))
