"""SQLite connections for the inbox, and the checkpoints that keep its WAL short.

Every connection runs in WAL mode with ``synchronous=FULL``: a commit returns only after the WAL
is fsync-ed (SQLite, "PRAGMA synchronous": FULL "ensures that all content is safely written to
the disk surface prior to continuing"). The writer does not checkpoint itself: a checkpoint
copies the WAL into the database and fsyncs it, tens of milliseconds that would stall every
delivery waiting on the next commit. :class:`Checkpointer` does it from a thread of its own with
``PASSIVE`` checkpoints, which never block the writer (SQLite, "sqlite3_wal_checkpoint_v2").
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

from grafterr_pipeline.errors import GrafterrError

__all__ = ["BUSY_TIMEOUT_MS", "Checkpointer", "InboxError", "connect"]

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_CHECKPOINT_INTERVAL = 0.5


class InboxError(GrafterrError, OSError):
    """The inbox could not be written or read; a delivery in flight was *not* acknowledged."""


def connect(path: Path, *, autocheckpoint: bool = True) -> sqlite3.Connection:
    """A connection to the inbox at ``path`` in WAL mode with full sync."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if mode.lower() != "wal":
        conn.close()
        raise InboxError(f"inbox {path} cannot use WAL journaling (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    if not autocheckpoint:
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    return conn


class Checkpointer:
    """Runs a ``PASSIVE`` checkpoint of one database every half second until stopped."""

    def __init__(self, path: Path, *, interval: float = _CHECKPOINT_INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inbox-checkpoint", daemon=True)

    def start(self) -> Checkpointer:
        """Start checkpointing in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the checkpoint in progress, if any."""
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with closing(connect(self.path)) as conn:
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as err:
                    # The WAL only grows until the next checkpoint succeeds; commits go on.
                    logger.warning("inbox %s: checkpoint failed: %s", self.path, err)
