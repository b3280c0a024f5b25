"""The SQLite inbox: durable settings, exactly-once storage under concurrency, readers alongside."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grafterr_pipeline.webhooks import (
    Dating,
    InboxCursor,
    InboxError,
    InboxEvent,
    Outcome,
    Quarantined,
    SqliteInbox,
    read_delivery,
)
from grafterr_pipeline.webhooks.sqlite import Checkpointer, connect
from tests.webhooks.helpers import body, delivery, rows

RECEIVED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _event(event_id: str, **order: object) -> InboxEvent:
    made = read_delivery(body(delivery(event_id, **order)), received_at=RECEIVED, dating=Dating())
    assert isinstance(made, InboxEvent)
    return made


def _order_on(day: int) -> dict[str, str]:
    return {"created_at": f"2026-11-{day:02d}T12:00:00+00:00"}


@pytest.fixture
def inbox(tmp_path: Path) -> SqliteInbox:
    with SqliteInbox(tmp_path / "inbox" / "webhooks.sqlite3") as opened:
        yield opened


def test_inbox_runs_in_wal_mode_with_full_sync(inbox: SqliteInbox) -> None:
    inbox.record(_event("evt_1"))

    # PRAGMA synchronous: 2 is FULL, which fsyncs the WAL at every commit.
    assert inbox.pragmas() == {"journal_mode": "wal", "synchronous": 2}


def test_events_read_back_exactly_as_they_were_recorded(inbox: SqliteInbox) -> None:
    event = _event("evt_1")

    inbox.record(event)

    (read,) = inbox.events_of(event.business_date)
    assert read.raw == event.raw
    assert (read.event_id, read.order_id, read.updated_at) == (
        event.event_id,
        event.order_id,
        event.updated_at,
    )
    assert read.candidate().order["order_id"] == "ord_1"
    assert read.seq == 1


def test_many_threads_recording_overlapping_events_store_each_once(inbox: SqliteInbox) -> None:
    events = [_event(f"evt_{n % 50}") for n in range(400)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(inbox.record, events))

    assert outcomes.count(Outcome.STORED) == 50
    assert outcomes.count(Outcome.DUPLICATE) == 350
    assert rows(inbox.path, "SELECT count(*), sum(deliveries) FROM events") == [(50, 400)]


def test_concurrent_deliveries_share_commits(inbox: SqliteInbox) -> None:
    events = [_event(f"evt_{n}") for n in range(200)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(inbox.record, events))

    assert outcomes == [Outcome.STORED] * 200
    # Each commit waits for an fsync while other deliveries queue: they go in the next one.
    assert inbox.commits < 100
    assert rows(inbox.path, "SELECT count(*) FROM events") == [(200,)]


def test_reader_sees_committed_events_while_the_writer_keeps_writing(inbox: SqliteInbox) -> None:
    inbox.record(_event("evt_0"))
    stop = threading.Event()

    def keep_writing() -> None:
        n = 1
        while not stop.is_set():
            inbox.record(_event(f"evt_{n}"))
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        seen = [len(SqliteInbox(inbox.path).events_of(dt.date(2026, 11, 30))) for _ in range(20)]
    finally:
        stop.set()
        writer.join()

    assert seen == sorted(seen)
    assert seen[0] >= 1


def test_changes_since_a_cursor_name_each_date_with_its_last_seq(inbox: SqliteInbox) -> None:
    inbox.record(_event("evt_a", **_order_on(10)))
    cursor = inbox.changes_since(InboxCursor()).cursor
    for event_id, day in [("evt_b", 12), ("evt_c", 10), ("evt_d", 12)]:
        inbox.record(_event(event_id, **_order_on(day)))

    changes = inbox.changes_since(cursor)

    assert changes.dates == {dt.date(2026, 11, 10): 3, dt.date(2026, 11, 12): 4}
    assert changes.cursor == InboxCursor(events=4, quarantine=0)
    assert inbox.changes_since(changes.cursor).dates == {}


def test_quarantined_deliveries_count_as_changes_of_their_date(inbox: SqliteInbox) -> None:
    item = Quarantined("body is not JSON", b"garbage", RECEIVED, dt.date(2026, 12, 1))

    outcome = inbox.record(item)

    assert outcome is Outcome.QUARANTINED
    assert inbox.changes_since(InboxCursor()).dates == {dt.date(2026, 12, 1): 1}
    (read,) = inbox.quarantined_of(dt.date(2026, 12, 1))
    assert (read.reason, read.raw) == ("body is not JSON", b"garbage")


def test_missing_inbox_reads_as_empty_without_creating_a_file(tmp_path: Path) -> None:
    inbox = SqliteInbox(tmp_path / "nowhere" / "webhooks.sqlite3")

    assert inbox.events_of(dt.date(2026, 11, 30)) == []
    assert inbox.changes_since(InboxCursor(3, 1)).cursor == InboxCursor(3, 1)
    assert not inbox.path.exists()


def test_inbox_that_cannot_be_created_raises_inbox_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    inbox = SqliteInbox(tmp_path / "file" / "webhooks.sqlite3")

    with pytest.raises(InboxError, match="cannot open the webhook inbox"):
        inbox.record(_event("evt_1"))


def test_closed_inbox_refuses_writes_after_committing_what_was_queued(tmp_path: Path) -> None:
    inbox = SqliteInbox(tmp_path / "webhooks.sqlite3")
    inbox.record(_event("evt_1"))

    inbox.close()

    with pytest.raises(InboxError, match="closed"):
        inbox.record(_event("evt_2"))
    assert rows(inbox.path, "SELECT event_id FROM events") == [("evt_1",)]


def test_checkpointer_moves_a_writer_s_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.sqlite3"
    writer = connect(path, autocheckpoint=False)
    writer.execute("CREATE TABLE t (x BLOB)")
    with writer:
        writer.execute("BEGIN")
        writer.executemany("INSERT INTO t VALUES (?)", [(b"x" * 2000,)] * 300)
    before = path.stat().st_size

    checkpointer = Checkpointer(path, interval=0.01).start()
    deadline = time.monotonic() + 5
    while path.stat().st_size == before and time.monotonic() < deadline:
        time.sleep(0.01)
    checkpointer.stop()
    writer.close()

    assert before < 64 * 1024  # without autocheckpoints, 600 KB stayed in the WAL
    assert path.stat().st_size > 500 * 1024
