"""Group commit: one writer thread commits every waiting write in one transaction.

Both inboxes write this way. A caller queues an operation and gets a future; the writer takes
everything queued (up to ``batch_max``), runs it in one transaction of the database it was given,
and resolves each future only after that transaction committed, so a durable commit (an fsync,
a WAL flush) is paid once per batch rather than once per delivery. When a commit fails, every
caller in the batch hears of it and nothing in it counts as stored.

The database side is a :class:`Transactions`: it runs a batch of operations as one transaction
and turns any failure into an :class:`~grafterr_pipeline.webhooks.sqlite.InboxError`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from grafterr_pipeline.webhooks.sqlite import InboxError

__all__ = ["WRITE_TIMEOUT", "GroupCommitWriter", "Operation", "Transactions"]

logger = logging.getLogger(__name__)

# A write not committed by then is answered 503: the sender retries within its ~10 s.
WRITE_TIMEOUT = 8.0
# Writes one commit takes at most: bounds a batch's latency and memory.
BATCH_MAX = 512

Operation = Callable[[Any], Any]
_Job = tuple[Operation, "Future[Any]"]
_STOP = object()


class Transactions(Protocol):
    """A database connection the writer thread owns."""

    def run(self, operations: list[Operation]) -> list[Any]:
        """Run ``operations`` in one transaction and commit it; return each one's result.

        On any failure, roll back and raise :class:`InboxError` saying nothing was stored."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class GroupCommitWriter:
    """Queues writes for ``label``'s writer thread, started on the first write.

    ``open_transactions`` runs once, in the thread of that first write and under the queue's
    lock, so a database that cannot be opened fails that write at once with its own error."""

    def __init__(
        self,
        label: str,
        open_transactions: Callable[[], Transactions],
        *,
        batch_max: int = BATCH_MAX,
    ) -> None:
        self.label = label
        self.batch_max = batch_max
        self._open = open_transactions
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.commits = 0  # transactions committed by this writer: batches, not rows

    def submit(self, operation: Operation) -> Future[Any]:
        """Queue ``operation`` for the next commit; its future resolves once that commit has."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise InboxError(f"inbox {self.label} is closed")
            if self._writer is None:
                self._writer = self._start(self._open())
            self._queue.put((operation, future))
        return future

    def wait(self, future: Future[Any]) -> Any:
        """The result of a submitted write, or :class:`InboxError` when it was not committed
        within :data:`WRITE_TIMEOUT`."""
        try:
            return future.result(timeout=WRITE_TIMEOUT)
        except TimeoutError as err:
            raise InboxError(f"inbox {self.label}: no commit within {WRITE_TIMEOUT} s") from err

    def close(self) -> None:
        """Commit what is queued, stop the writer and wait for it; later writes are refused."""
        with self._lock:
            self._closed = True
            writer, self._writer = self._writer, None
        if writer is not None:
            self._queue.put(_STOP)
            writer.join()

    def _start(self, transactions: Transactions) -> threading.Thread:
        writer = threading.Thread(
            target=self._drain, args=(transactions,), name="inbox-writer", daemon=True
        )
        writer.start()
        return writer

    def _drain(self, transactions: Transactions) -> None:
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < self.batch_max:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                jobs = [job for job in batch if job is not _STOP]
                if jobs:
                    self._commit(transactions, jobs)
                if _STOP in batch:
                    return
        finally:
            transactions.close()

    def _commit(self, transactions: Transactions, batch: list[_Job]) -> None:
        try:
            results = transactions.run([operation for operation, _ in batch])
        except Exception as err:  # every waiting caller must hear of it, whatever it is
            failure = err if isinstance(err, InboxError) else InboxError(str(err))
            if failure is not err:
                failure.__cause__ = err
            logger.error("inbox %s: a commit of %d writes failed: %s", self.label, len(batch),
                         failure)  # fmt: skip
            for _, future in batch:
                future.set_exception(failure)
            return
        self.commits += 1
        logger.debug("inbox %s: committed %d writes", self.label, len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
