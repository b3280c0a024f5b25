"""The inbox in PostgreSQL, for several receivers behind one load balancer (issue #11).

:class:`PostgresInbox` keeps :class:`~grafterr_pipeline.webhooks.inbox.SqliteInbox`'s promises
with a server database in place of a file:

* Acknowledged means committed: a delivery's future resolves only after ``COMMIT`` returned,
  with ``synchronous_commit = on`` for the session, so the WAL record is flushed to disk
  whatever the server's default (PostgreSQL, "synchronous_commit").
* Stored once: ``event_id`` is the primary key and inserts use ``ON CONFLICT DO NOTHING``, so
  two receivers given the same event race harmlessly; the loser counts a delivery.
* Group commit: one writer thread per process commits every waiting delivery in one
  transaction, paying one WAL flush per batch.
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
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import psycopg2.extensions

from grafterr_pipeline.redact import Redactor
from grafterr_pipeline.settings import Secret
from grafterr_pipeline.webhooks.delivery import InboxEvent, Quarantined
from grafterr_pipeline.webhooks.inbox import (
    WRITE_TIMEOUT,
    InboxChanges,
    InboxCursor,
    InboxError,
    Outcome,
)
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
    event_of,
    event_params,
    quarantined_of,
    quarantined_params,
)

__all__ = ["PostgresInbox"]

logger = logging.getLogger(__name__)

_BATCH_MAX = 512
_CONNECT_TIMEOUT_S = 5
_Conn = psycopg2.extensions.connection
_Op = Callable[[Any], Any]
_STOP = object()


class PostgresInbox:
    """An :class:`~grafterr_pipeline.webhooks.inbox.Inbox` in a PostgreSQL database."""

    def __init__(self, url: Secret | str, *, batch_max: int = _BATCH_MAX) -> None:
        self._url = url if isinstance(url, Secret) else Secret(url)
        password = urlsplit(self._url.reveal()).password
        self._redactor = Redactor([password] if password else [])
        self.display = redacted_url(self._url.reveal())
        self.batch_max = batch_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.commits = 0  # transactions committed by this process's writer: batches, not rows

    def __repr__(self) -> str:
        return f"PostgresInbox({self.display!r})"

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
            return self._enqueue(lambda cur: _insert(cur, INSERT_QUARANTINED, delivery))
        return self._enqueue(lambda cur: _insert(cur, INSERT_EVENT, delivery))

    def record(self, delivery: InboxEvent | Quarantined) -> Outcome:
        """Store ``delivery``; return once the commit holding it has returned."""
        return self._wait(self.submit(delivery))

    def check_writable(self) -> None:
        """Commit a heartbeat through the writer, as a delivery would be."""
        now = dt.datetime.now(dt.UTC).isoformat()
        self._wait(self._enqueue(lambda cur: cur.execute(UPSERT_META, ("heartbeat", now))))

    def _wait(self, future: Future[Any]) -> Any:
        try:
            return future.result(timeout=WRITE_TIMEOUT)
        except TimeoutError as err:
            raise InboxError(f"inbox {self.display}: no commit within {WRITE_TIMEOUT} s") from err

    def _enqueue(self, op: _Op) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise InboxError(f"inbox {self.display} is closed")
            if self._writer is None:
                self.create_schema()
                self._writer = threading.Thread(
                    target=self._drain, name="inbox-writer", daemon=True
                )
                self._writer.start()
            self._queue.put((op, future))
        return future

    def _drain(self) -> None:
        conn: _Conn | None = None
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            jobs = [job for job in batch if job is not _STOP]
            if jobs:
                conn = self._commit(conn, jobs)
            if _STOP in batch:
                if conn is not None:
                    conn.close()
                return

    def _commit(self, conn: _Conn | None, batch: list[tuple[_Op, Future[Any]]]) -> _Conn | None:
        """Commit ``batch`` in one transaction; return the connection to use next, if any."""
        try:
            conn = conn if conn is not None and not conn.closed else self._connect()
            with conn, conn.cursor() as cursor:  # commits on success, rolls back on error
                cursor.execute(WRITE_LOCK)
                results = [op(cursor) for op, _ in batch]
            self.commits += 1
        except Exception as err:  # every waiting caller must hear of it, whatever it is
            self._fail(batch, err)
            if conn is not None and not isinstance(err, psycopg2.Error | InboxError):
                return conn
            if conn is not None:
                conn.close()  # a broken connection is replaced at the next batch
            return None
        logger.debug("inbox %s: committed %d deliveries", self.display, len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
        return conn

    def _fail(self, batch: list[tuple[_Op, Future[Any]]], err: Exception) -> None:
        failure = (
            err if isinstance(err, InboxError) else self._error("commit failed, nothing acked", err)
        )
        logger.error("inbox %s: a commit of %d deliveries failed: %s", self.display, len(batch),
                     failure)  # fmt: skip
        if failure is not err:
            failure.__cause__ = err
        for _, future in batch:
            future.set_exception(failure)

    def close(self) -> None:
        """Commit what is queued, stop the writer and wait for it."""
        with self._lock:
            self._closed = True
            writer, self._writer = self._writer, None
        if writer is not None:
            self._queue.put(_STOP)
            writer.join()

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
        return [event_of(row) for row in rows]

    def quarantined_of(self, business_date: dt.date) -> list[Quarantined]:
        """Every quarantined delivery dated ``business_date``, in arrival order."""
        (rows,) = self._read([(SELECT_QUARANTINED, (business_date,))])
        return [quarantined_of(row) for row in rows]

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


def _insert(cursor: Any, sql: str, delivery: InboxEvent | Quarantined) -> Outcome:
    """Insert ``delivery`` once; a repeat only adds one to its count of deliveries."""
    if isinstance(delivery, Quarantined):
        cursor.execute(sql, quarantined_params(delivery))
        return Outcome.QUARANTINED
    cursor.execute(sql, event_params(delivery))
    stored = cursor.fetchone()[0]
    return Outcome.STORED if stored else Outcome.DUPLICATE
