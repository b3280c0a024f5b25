"""The PostgreSQL inbox keeps the SQLite inbox's promises: stored once, read back exactly."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grafterr_pipeline.errors import ConfigurationError
from grafterr_pipeline.settings import Secret
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
from grafterr_pipeline.webhooks.inbox_postgres import PostgresInbox
from grafterr_pipeline.webhooks.inboxes import describe_inbox, open_inbox
from tests.deploy.pg import PostgresServer
from tests.webhooks.helpers import body, delivery

RECEIVED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _event(event_id: str, **order: object) -> InboxEvent:
    made = read_delivery(body(delivery(event_id, **order)), received_at=RECEIVED, dating=Dating())
    assert isinstance(made, InboxEvent)
    return made


def _broken(raw: bytes = b"not json") -> Quarantined:
    made = read_delivery(raw, received_at=RECEIVED, dating=Dating())
    assert isinstance(made, Quarantined)
    return made


def _order_on(day: int) -> dict[str, str]:
    return {"created_at": f"2026-11-{day:02d}T12:00:00+00:00"}


def _seqs_after(postgres: PostgresServer, url: str, after: int) -> list[int]:
    conn = postgres.connect(url.rsplit("/", 1)[1])
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT seq FROM webhook_inbox.events WHERE seq > %s", (after,))
            return [row[0] for row in cursor.fetchall()]
    finally:
        conn.close()


@pytest.fixture
def inbox(inbox_url: str) -> PostgresInbox:
    with PostgresInbox(inbox_url) as opened:
        yield opened


def test_events_read_back_exactly_as_they_were_recorded(inbox: PostgresInbox) -> None:
    event = _event("evt_1", updated_at="2026-11-30T20:00:00+05:30")

    outcome = inbox.record(event)

    (read,) = inbox.events_of(event.business_date)
    assert outcome is Outcome.STORED
    assert read.raw == event.raw
    assert (read.event_id, read.order_id, read.event_type) == (
        event.event_id,
        event.order_id,
        event.event_type,
    )
    assert read.updated_at == event.updated_at
    assert (read.business_date, read.received_at, read.deliveries) == (
        event.business_date,
        RECEIVED,
        1,
    )


def test_a_repeated_event_is_stored_once_and_its_deliveries_counted(inbox: PostgresInbox) -> None:
    event = _event("evt_1")

    outcomes = [inbox.record(event) for _ in range(3)]

    assert outcomes == [Outcome.STORED, Outcome.DUPLICATE, Outcome.DUPLICATE]
    (read,) = inbox.events_of(event.business_date)
    assert read.deliveries == 3


def test_a_repeated_broken_body_is_quarantined_once(inbox: PostgresInbox) -> None:
    broken = _broken()

    outcomes = [inbox.record(broken) for _ in range(2)]

    assert outcomes == [Outcome.QUARANTINED] * 2
    (kept,) = inbox.quarantined_of(broken.business_date)
    assert (kept.raw, kept.reason, kept.deliveries) == (broken.raw, broken.reason, 2)


def test_two_inboxes_on_one_database_store_overlapping_events_once(inbox_url: str) -> None:
    events = [_event(f"evt_{n}", order_id=f"ord_{n}") for n in range(200)]
    first, second = PostgresInbox(inbox_url), PostgresInbox(inbox_url)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(box.record, e) for e in events for box in (first, second)]
        outcomes = [f.result() for f in futures]
    first.close()
    second.close()

    stored = PostgresInbox(inbox_url).events_of(events[0].business_date)
    assert sorted(e.event_id for e in stored) == sorted(e.event_id for e in events)
    assert outcomes.count(Outcome.STORED) == len(events)
    assert {e.deliveries for e in stored} == {2}
    assert first.commits + second.commits < len(outcomes), "deliveries share commits"


def test_a_reader_never_sees_a_seq_committed_after_a_later_one(
    postgres: PostgresServer, inbox_url: str
) -> None:
    writers = [PostgresInbox(inbox_url) for _ in range(3)]
    writers[0].record(_event("evt_first"))

    def write(box: PostgresInbox, offset: int) -> None:
        for n in range(120):
            box.record(_event(f"evt_{offset}_{n}", order_id=f"ord_{offset}_{n}"))

    threads = [threading.Thread(target=write, args=(b, i)) for i, b in enumerate(writers)]
    for thread in threads:
        thread.start()
    seen: list[int] = []
    while any(thread.is_alive() for thread in threads):
        seen += _seqs_after(postgres, inbox_url, max(seen, default=0))
    seen += _seqs_after(postgres, inbox_url, max(seen, default=0))
    for box in writers:
        box.close()

    assert sorted(seen) == sorted(_seqs_after(postgres, inbox_url, 0))
    assert len(seen) == 1 + 3 * 120


def test_changes_since_a_cursor_name_each_date_with_its_last_seq(inbox: PostgresInbox) -> None:
    inbox.record(_event("evt_1", **_order_on(28)))
    cursor = inbox.changes_since(InboxCursor()).cursor
    inbox.record(_event("evt_2", **_order_on(29)))
    inbox.record(_broken())

    changes = inbox.changes_since(cursor)

    assert set(changes.dates) == {dt.date(2026, 11, 29), RECEIVED.date()}
    assert changes.cursor.events > cursor.events
    assert changes.cursor.quarantine > cursor.quarantine
    assert inbox.changes_since(changes.cursor).dates == {}


def test_an_inbox_never_written_reads_as_empty(inbox: PostgresInbox) -> None:
    assert inbox.events_of(dt.date(2026, 11, 30)) == []
    assert inbox.changes_since(InboxCursor()).dates == {}


def test_an_unreachable_server_fails_the_write_without_showing_the_password() -> None:
    inbox = PostgresInbox(f"postgresql://grafterr:s3cret-pw@127.0.0.1:{_closed_port()}/inbox")

    with pytest.raises(InboxError) as raised:
        inbox.check_writable()

    assert "s3cret-pw" not in str(raised.value)
    assert "s3cret-pw" not in repr(inbox)
    assert "grafterr:***@127.0.0.1" in repr(inbox)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        pytest.param(None, SqliteInbox, id="unset-is-the-sqlite-file"),
        pytest.param("", SqliteInbox, id="empty-is-the-sqlite-file"),
        pytest.param("sqlite:///tmp/x/inbox.sqlite3", SqliteInbox, id="sqlite-absolute"),
        pytest.param("postgresql://u:p@127.0.0.1:5432/db", PostgresInbox, id="postgresql"),
        pytest.param("postgres://u:p@127.0.0.1:5432/db", PostgresInbox, id="postgres-alias"),
    ],
)
def test_the_inbox_url_picks_the_implementation(url: str | None, kind: type) -> None:
    opened = open_inbox(Secret(url) if url else url, default=Path("data/inbox.sqlite3"))

    assert isinstance(opened, kind)


def test_a_sqlite_url_names_its_file() -> None:
    opened = open_inbox("sqlite:///srv/inbox.sqlite3", default=Path("unused"))

    assert isinstance(opened, SqliteInbox)
    assert opened.path == Path("/srv/inbox.sqlite3")


@pytest.mark.parametrize("url", ["mysql://u@h/db", "inbox.sqlite3", "sqlite:"], ids=str)
def test_an_unknown_inbox_url_is_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigurationError, match="GRAFTERR_INBOX_URL"):
        open_inbox(url, default=Path("unused"))


def test_the_inbox_is_described_without_its_password() -> None:
    url = Secret("postgresql://dagster:hunter2-long@db.internal:5432/inbox?sslmode=require")

    described = describe_inbox(url, default=Path("unused"))

    assert described == "postgresql://dagster:***@db.internal:5432/inbox?sslmode=require"
