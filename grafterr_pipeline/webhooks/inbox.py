"""The durable inbox: every acknowledged webhook delivery, stored once, readable while written.

:class:`Inbox` is the small interface the receiver and the pipeline use, so a deployment with
several receivers can put a server database behind it later (issue #11). :class:`SqliteInbox`
is the standard-library implementation:

* WAL mode with ``synchronous=FULL`` (:mod:`.sqlite`): a commit returns only once the WAL is
  fsync-ed, so the receiver never answers 2xx for a delivery a crash could lose. Readers see
  the last commit and never block the writer; checkpoints run beside it, not in its way.
* Group commit (:mod:`.groupcommit`): one writer thread commits every delivery waiting in one
  transaction, so an fsync of a few milliseconds is paid once per batch, not per delivery.
  Each caller is released only when the commit holding its delivery has returned.
* Keyed by ``event_id`` (a repeat only counts a delivery); a quarantined body by its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from grafterr_pipeline.webhooks.delivery import (
    InboxEvent,
    Quarantined,
    event_from_row,
    quarantined_from_row,
)
from grafterr_pipeline.webhooks.groupcommit import (
    BATCH_MAX,
    WRITE_TIMEOUT,
    GroupCommitWriter,
    Operation,
)
from grafterr_pipeline.webhooks.sqlite import Checkpointer, InboxError, connect

__all__ = [
    "WRITE_TIMEOUT",
    "Inbox",
    "InboxChanges",
    "InboxCursor",
    "InboxError",
    "Outcome",
    "SqliteInbox",
]

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    occurred_at TEXT,
    order_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    business_date TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_date ON events (business_date, seq);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    digest TEXT NOT NULL UNIQUE,
    reason TEXT NOT NULL,
    event_id TEXT,
    order_id TEXT,
    business_date TEXT NOT NULL,
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_by_date ON quarantine (business_date, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_EVENT_COLUMNS = (
    "event_id, event_type, occurred_at, order_id, updated_at, business_date, received_at, raw"
)
_QUARANTINE_COLUMNS = "digest, reason, event_id, order_id, business_date, received_at, raw"


class Outcome(enum.Enum):
    """What storing one delivery did."""

    STORED = "stored"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class InboxCursor:
    """How far a reader has seen: the last ``seq`` of events and of quarantined deliveries."""

    events: int = 0
    quarantine: int = 0


@dataclass(frozen=True)
class InboxChanges:
    """What arrived after a cursor: per business date, the last ``seq`` among its new entries
    (so a run key made of it changes whenever new events arrive), and the cursor past them."""

    dates: dict[dt.date, int] = field(default_factory=dict)
    cursor: InboxCursor = field(default_factory=InboxCursor)


class Inbox(Protocol):
    """Where the receiver stores deliveries and the pipeline reads them."""

    def submit(self, delivery: InboxEvent | Quarantined) -> Future[Outcome]:
        """Start storing ``delivery``; the future resolves once it is on disk, or fails with
        :class:`InboxError`. The receiver awaits it without holding a thread."""
        ...

    def record(self, delivery: InboxEvent | Quarantined) -> Outcome:
        """Store ``delivery`` durably and return only once it is on disk."""
        ...

    def check_writable(self) -> None:
        """Raise :class:`InboxError` unless a write can be committed now."""
        ...

    def events_of(self, business_date: dt.date) -> list[InboxEvent]:
        """Every stored event of ``business_date``, in arrival order."""
        ...

    def quarantined_of(self, business_date: dt.date) -> list[Quarantined]:
        """Every quarantined delivery dated ``business_date``, in arrival order."""
        ...

    def changes_since(self, cursor: InboxCursor) -> InboxChanges:
        """The business dates that received entries after ``cursor``."""
        ...

    def close(self) -> None:
        """Finish the writes in flight and release the database."""
        ...


class SqliteInbox:
    """An :class:`Inbox` in one SQLite file; thread-safe, and shared by processes too."""

    def __init__(self, path: Path | str, *, batch_max: int = BATCH_MAX) -> None:
        self.path = Path(path)
        self._writer = GroupCommitWriter(str(self.path), self._open, batch_max=batch_max)
        self._checkpointer: Checkpointer | None = None

    def __repr__(self) -> str:
        return f"SqliteInbox({str(self.path)!r})"

    @property
    def commits(self) -> int:
        """Transactions committed by this process's writer: batches, not rows."""
        return self._writer.commits

    # -- writing -------------------------------------------------------------------------------

    def submit(self, delivery: InboxEvent | Quarantined) -> Future[Outcome]:
        """Queue ``delivery`` for the next commit; the future resolves once it is fsync-ed."""
        if isinstance(delivery, Quarantined):
            return self._writer.submit(lambda conn: _insert_quarantined(conn, delivery))
        return self._writer.submit(lambda conn: _insert_event(conn, delivery))

    def record(self, delivery: InboxEvent | Quarantined) -> Outcome:
        """Store ``delivery``; return once the commit holding it is fsync-ed."""
        return self._writer.wait(self.submit(delivery))

    def check_writable(self) -> None:
        """Commit a heartbeat through the writer, as a delivery would be."""
        now = dt.datetime.now(dt.UTC).isoformat()
        sql = "INSERT OR REPLACE INTO meta (key, value) VALUES ('heartbeat', ?)"
        self._writer.wait(self._writer.submit(lambda conn: conn.execute(sql, (now,))))

    def _open(self) -> _SqliteTransactions:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(self.path, autocheckpoint=False)
            conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise InboxError(f"cannot open the webhook inbox {self.path}: {err}") from err
        self._checkpointer = Checkpointer(self.path).start()
        return _SqliteTransactions(conn, self.path)

    def close(self) -> None:
        """Commit what is queued, stop the writer and wait for it."""
        self._writer.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()

    def __enter__(self) -> SqliteInbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """A connection of its own for one read, or ``None`` while no inbox file exists yet."""
        if not self.path.exists():
            yield None
            return
        try:
            with closing(connect(self.path)) as conn:
                yield conn
        except sqlite3.Error as err:
            raise InboxError(f"cannot read the webhook inbox {self.path}: {err}") from err

    def events_of(self, business_date: dt.date) -> list[InboxEvent]:
        """Every stored event of ``business_date``, in arrival order."""
        sql = (
            f"SELECT seq, deliveries, {_EVENT_COLUMNS} FROM events "
            "WHERE business_date = ? ORDER BY seq"
        )
        with self._reading() as conn:
            if conn is None:
                return []
            return [event_from_row(row) for row in conn.execute(sql, (business_date.isoformat(),))]

    def quarantined_of(self, business_date: dt.date) -> list[Quarantined]:
        """Every quarantined delivery dated ``business_date``, in arrival order."""
        sql = (
            "SELECT seq, deliveries, reason, raw, received_at, business_date, event_id, order_id "
            "FROM quarantine WHERE business_date = ? ORDER BY seq"
        )
        with self._reading() as conn:
            if conn is None:
                return []
            rows = conn.execute(sql, (business_date.isoformat(),))
            return [quarantined_from_row(row) for row in rows]

    def changes_since(self, cursor: InboxCursor) -> InboxChanges:
        """The business dates that received events or quarantined deliveries after ``cursor``."""
        with self._reading() as conn:
            if conn is None:
                return InboxChanges(cursor=cursor)
            conn.execute("BEGIN")  # one snapshot for both tables
            events = _dates_after(conn, "events", cursor.events)
            quarantine = _dates_after(conn, "quarantine", cursor.quarantine)
            conn.execute("COMMIT")
        dates: dict[dt.date, int] = {}
        for date, last in [*events.items(), *quarantine.items()]:
            dates[date] = max(dates.get(date, 0), last)
        moved = InboxCursor(
            events=max(events.values(), default=cursor.events),
            quarantine=max(quarantine.values(), default=cursor.quarantine),
        )
        return InboxChanges(dates=dict(sorted(dates.items())), cursor=moved)

    def pragmas(self) -> dict[str, Any]:
        """The journal mode and sync level a connection to this inbox runs with."""
        with closing(connect(self.path)) as conn:
            return {
                "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
            }


class _SqliteTransactions:
    """The writer thread's connection: each batch in one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def run(self, operations: list[Operation]) -> list[Any]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            results = [operation(self.conn) for operation in operations]
            self.conn.execute("COMMIT")
        except Exception as err:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise InboxError(
                f"inbox {self.path}: commit failed, nothing acknowledged: {err}"
            ) from err
        return results

    def close(self) -> None:
        self.conn.close()


def _insert_event(conn: sqlite3.Connection, event: InboxEvent) -> Outcome:
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.event_id,
            event.event_type,
            event.occurred_at.isoformat() if event.occurred_at else None,
            event.order_id,
            event.updated_at.isoformat(),
            event.business_date.isoformat(),
            event.received_at.isoformat(),
            event.raw,
        ),
    )
    if cursor.rowcount:
        return Outcome.STORED
    conn.execute(
        "UPDATE events SET deliveries = deliveries + 1 WHERE event_id = ?", (event.event_id,)
    )
    return Outcome.DUPLICATE


def _insert_quarantined(conn: sqlite3.Connection, item: Quarantined) -> Outcome:
    cursor = conn.execute(
        f"INSERT OR IGNORE INTO quarantine ({_QUARANTINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            item.digest,
            item.reason,
            item.event_id,
            item.order_id,
            item.business_date.isoformat(),
            item.received_at.isoformat(),
            item.raw,
        ),
    )
    if not cursor.rowcount:
        conn.execute(
            "UPDATE quarantine SET deliveries = deliveries + 1 WHERE digest = ?", (item.digest,)
        )
    return Outcome.QUARANTINED


def _dates_after(conn: sqlite3.Connection, table: str, seq: int) -> dict[dt.date, int]:
    # ``table`` is one of two constants of this module, never data.
    rows = conn.execute(
        f"SELECT business_date, max(seq) FROM {table} WHERE seq > ? GROUP BY business_date",
        (seq,),
    )
    return {dt.date.fromisoformat(date): last for date, last in rows}
