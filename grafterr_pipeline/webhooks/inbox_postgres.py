"""The inbox in PostgreSQL, for several receivers behind one load balancer (issue #11).

:class:`PostgresInbox` keeps :class:`~grafterr_pipeline.webhooks.inbox.SqliteInbox`'s promises
with a server database in place of a file:

* Acknowledged means committed: a delivery's future resolves only after ``COMMIT`` returned,
  with ``synchronous_commit = on`` for the session, so the WAL record is flushed to disk
  whatever the server's default (PostgreSQL, "synchronous_commit").
* Stored once: ``event_id`` is the primary key and inserts use ``ON CONFLICT DO NOTHING``, so
  two receivers given the same event race harmlessly; the loser counts a delivery.
* Group commit (:mod:`.groupcommit`): one writer thread per process commits every waiting
  delivery in one transaction, paying one WAL flush per batch.
* Readers can trust ``seq`` as a cursor: each write transaction first takes one advisory lock,
  so transactions commit in the order they drew their ``seq`` values and a reader never sees a
  later ``seq`` committed before an earlier one (a sequence alone hands out values in start
  order, not commit order).

Tables live in their own schema, ``webhook_inbox``, so the database may be shared with
Dagster's storage. The URL carries the password; it never appears in a log line or an error.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import psycopg2.extensions

from grafterr_pipeline.redact import Redactor
from grafterr_pipeline.settings import Secret
from grafterr_pipeline.webhooks.delivery import (
    InboxEvent,
    Quarantined,
    event_from_row,
    quarantined_from_row,
)
from grafterr_pipeline.webhooks.groupcommit import BATCH_MAX, GroupCommitWriter, Operation
from grafterr_pipeline.webhooks.inbox import InboxChanges, InboxCursor, InboxError, Outcome
from grafterr_pipeline.webhooks.inboxes import redacted_url
from grafterr_pipeline.webhooks.postgres_sql import (
    DATES_AFTER,
    INSERT_EVENT,
    INSERT_QUARANTINED,
    SCHEMA,
    SELECT_EVENTS,
    SELECT_QUARANTINED,
    UPSERT_META,
    WRITE_LOCK,
    event_params,
    quarantined_params,
)

__all__ = ["PostgresInbox"]

logger = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 5
_Conn = psycopg2.extensions.connection


class PostgresInbox:
    """An :class:`~grafterr_pipeline.webhooks.inbox.Inbox` in a PostgreSQL database."""

    def __init__(self, url: Secret | str, *, batch_max: int = BATCH_MAX) -> None:
        self._url = url if isinstance(url, Secret) else Secret(url)
        password = urlsplit(self._url.reveal()).password
        self._redactor = Redactor([password] if password else [])
        self.display = redacted_url(self._url.reveal())
        self._writer = GroupCommitWriter(self.display, self._open, batch_max=batch_max)

    def __repr__(self) -> str:
        return f"PostgresInbox({self.display!r})"

    @property
    def commits(self) -> int:
        """Transactions committed by this process's writer: batches, not rows."""
        return self._writer.commits

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> _Conn:
        try:
            conn = psycopg2.connect(self._url.reveal(), connect_timeout=_CONNECT_TIMEOUT_S)
        except psycopg2.Error as err:
            raise self._error("cannot connect to", err) from err
        with conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = on")
        conn.commit()
        return conn

    def _error(self, doing: str, err: BaseException) -> InboxError:
        detail = self._redactor.redact(str(err).strip())
        return InboxError(f"{doing} the webhook inbox {self.display}: {detail}")

    def create_schema(self) -> None:
        """Create the inbox's schema and tables if missing; safe to run from many processes."""
        conn = self._connect()
        try:
            with conn, conn.cursor() as cursor:
                # Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogue.
                cursor.execute(WRITE_LOCK)
                cursor.execute(SCHEMA)
        except psycopg2.Error as err:
            raise self._error("cannot create the tables of", err) from err
        finally:
            conn.close()

    # -- writing -------------------------------------------------------------------------------

    def submit(self, delivery: InboxEvent | Quarantined) -> Future[Outcome]:
        """Queue ``delivery`` for the next commit; the future resolves once it is committed."""
        if isinstance(delivery, Quarantined):
            return self._writer.submit(lambda cur: _insert(cur, INSERT_QUARANTINED, delivery))
        return self._writer.submit(lambda cur: _insert(cur, INSERT_EVENT, delivery))

    def record(self, delivery: InboxEvent | Quarantined) -> Outcome:
        """Store ``delivery``; return once the commit holding it has returned."""
        return self._writer.wait(self.submit(delivery))

    def check_writable(self) -> None:
        """Commit a heartbeat through the writer, as a delivery would be."""
        now = dt.datetime.now(dt.UTC).isoformat()
        heartbeat = self._writer.submit(lambda cur: cur.execute(UPSERT_META, ("heartbeat", now)))
        self._writer.wait(heartbeat)

    def _open(self) -> _PostgresTransactions:
        self.create_schema()
        return _PostgresTransactions(self)

    def close(self) -> None:
        """Commit what is queued, stop the writer and wait for it."""
        self._writer.close()

    def __enter__(self) -> PostgresInbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------------

    def _read(self, queries: list[tuple[str, tuple[Any, ...]]]) -> list[list[tuple[Any, ...]]]:
        """Run ``queries`` in one read-only snapshot; empty results while no tables exist."""
        conn = self._connect()
        try:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn, conn.cursor() as cursor:
                cursor.execute("SELECT to_regclass('webhook_inbox.events') IS NOT NULL")
                if not cursor.fetchone()[0]:
                    return [[] for _ in queries]
                results = []
                for sql, params in queries:
                    cursor.execute(sql, params)
                    results.append(cursor.fetchall())
                return results
        except psycopg2.Error as err:
            raise self._error("cannot read", err) from err
        finally:
            conn.close()

    def events_of(self, business_date: dt.date) -> list[InboxEvent]:
        """Every stored event of ``business_date``, in arrival order."""
        (rows,) = self._read([(SELECT_EVENTS, (business_date,))])
        return [event_from_row(row) for row in rows]

    def quarantined_of(self, business_date: dt.date) -> list[Quarantined]:
        """Every quarantined delivery dated ``business_date``, in arrival order."""
        (rows,) = self._read([(SELECT_QUARANTINED, (business_date,))])
        return [quarantined_from_row(row) for row in rows]

    def changes_since(self, cursor: InboxCursor) -> InboxChanges:
        """The business dates that received events or quarantined deliveries after ``cursor``."""
        events, quarantine = self._read(
            [
                (DATES_AFTER.format(table="events"), (cursor.events,)),
                (DATES_AFTER.format(table="quarantine"), (cursor.quarantine,)),
            ]
        )
        dates: dict[dt.date, int] = {}
        for date, last in [*events, *quarantine]:
            dates[date] = max(dates.get(date, 0), last)
        moved = InboxCursor(
            events=max((last for _, last in events), default=cursor.events),
            quarantine=max((last for _, last in quarantine), default=cursor.quarantine),
        )
        return InboxChanges(dates=dict(sorted(dates.items())), cursor=moved)


class _PostgresTransactions:
    """The writer thread's connection, opened on its first batch and again after it broke."""

    def __init__(self, inbox: PostgresInbox) -> None:
        self.inbox = inbox
        self.conn: _Conn | None = None

    def run(self, operations: list[Operation]) -> list[Any]:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = self.inbox._connect()
            with self.conn, self.conn.cursor() as cursor:  # commits, or rolls back on error
                cursor.execute(WRITE_LOCK)
                return [operation(cursor) for operation in operations]
        except InboxError:
            self.close()
            raise
        except psycopg2.Error as err:
            self.close()  # a broken connection is replaced at the next batch
            raise self.inbox._error("commit failed, nothing acked", err) from err
        except Exception as err:
            raise self.inbox._error("commit failed, nothing acked", err) from err

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _insert(cursor: Any, sql: str, delivery: InboxEvent | Quarantined) -> Outcome:
    """Insert ``delivery`` once; a repeat only adds one to its count of deliveries."""
    if isinstance(delivery, Quarantined):
        cursor.execute(sql, quarantined_params(delivery))
        return Outcome.QUARANTINED
    cursor.execute(sql, event_params(delivery))
    stored = cursor.fetchone()[0]
    return Outcome.STORED if stored else Outcome.DUPLICATE
