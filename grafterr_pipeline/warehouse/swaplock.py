"""A lock that makes one date's swap across all five tables atomic for our own readers.

Each table's partition is swapped in with one rename, but a query that joins two tables could
list one table's files before the swaps and another's after, pairing two versions of a day.
The pipeline therefore holds this lock exclusively for the few renames of a day, and every
statement run through :class:`grafterr_pipeline.warehouse.duck.Reader` (the ``sql`` command,
``Warehouse.query``) holds it shared. A statement waits at most for those renames; the swap
waits for statements already running. Readers outside this package (a bare DuckDB shell) do
not take the lock and keep only the per-table guarantee. POSIX ``flock``, local tables only.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_FILE", "PARTITION_LOCKS", "partition_lock", "swap_lock"]

LOCK_FILE = ".swap.lock"


@contextlib.contextmanager
def swap_lock(tables_dir: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the swap lock of the tables under ``tables_dir``, shared or exclusive."""
    tables_dir.mkdir(parents=True, exist_ok=True)
    with open(tables_dir / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# One lock file per partition name, so two lands of one date take turns while lands of other
# dates go on; kept out of the table folders so no glob of a view or a cleanup matches them.
PARTITION_LOCKS = ".locks"


@contextlib.contextmanager
def partition_lock(tables_dir: Path, name: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock of partition ``name`` (``business_date=D``) in every table; yield whether
    it was taken (always ``True`` when ``wait``).

    A land holds it from cleaning its date's leftovers to its swap, so a second land of the
    date waits instead of deleting the first one's staged folders (issue #7, D4).
    """
    folder = tables_dir / PARTITION_LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.lock", "a+b") as handle:
        flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(handle.fileno(), flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
