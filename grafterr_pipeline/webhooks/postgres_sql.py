"""The PostgreSQL inbox's tables and statements, and the rows they read and write.

Every value is bound (``%(name)s``); the only text formatted into SQL is the name of one of this
module's own two tables. Timestamps are kept as ISO text, as the SQLite inbox keeps them, so an
event reads back equal to what was recorded whichever inbox held it.
"""

from __future__ import annotations

from typing import Any

from grafterr_pipeline.webhooks.delivery import InboxEvent, Quarantined

__all__ = [
    "DATES_AFTER",
    "INSERT_EVENT",
    "INSERT_QUARANTINED",
    "SCHEMA",
    "SELECT_EVENTS",
    "SELECT_QUARANTINED",
    "UPSERT_META",
    "WRITE_LOCK",
    "event_params",
    "quarantined_params",
]

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS webhook_inbox;
CREATE TABLE IF NOT EXISTS webhook_inbox.events (
    event_id TEXT PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_type TEXT NOT NULL,
    occurred_at TEXT,
    order_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    business_date DATE NOT NULL,
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    raw BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_date ON webhook_inbox.events (business_date, seq);
CREATE TABLE IF NOT EXISTS webhook_inbox.quarantine (
    digest TEXT PRIMARY KEY,
    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    reason TEXT NOT NULL,
    event_id TEXT,
    order_id TEXT,
    business_date DATE NOT NULL,
    received_at TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1,
    raw BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_by_date ON webhook_inbox.quarantine (business_date, seq);
CREATE TABLE IF NOT EXISTS webhook_inbox.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Held until COMMIT by every write transaction: commits happen in ``seq`` order (module doc of
# inbox_postgres). The key is arbitrary but fixed: "graf" in ASCII.
WRITE_LOCK = "SELECT pg_advisory_xact_lock(1735549286)"

# The CTE's UPDATE runs only when the INSERT met an existing event_id: a repeat delivery.
INSERT_EVENT = """
WITH inserted AS (
    INSERT INTO webhook_inbox.events (event_id, event_type, occurred_at, order_id, updated_at,
                                      business_date, received_at, raw)
    VALUES (%(event_id)s, %(event_type)s, %(occurred_at)s, %(order_id)s, %(updated_at)s,
            %(business_date)s, %(received_at)s, %(raw)s)
    ON CONFLICT (event_id) DO NOTHING
    RETURNING seq
), repeated AS (
    UPDATE webhook_inbox.events SET deliveries = deliveries + 1
    WHERE event_id = %(event_id)s AND NOT EXISTS (SELECT 1 FROM inserted)
)
SELECT EXISTS (SELECT 1 FROM inserted)
"""

INSERT_QUARANTINED = """
INSERT INTO webhook_inbox.quarantine (digest, reason, event_id, order_id, business_date,
                                      received_at, raw)
VALUES (%(digest)s, %(reason)s, %(event_id)s, %(order_id)s, %(business_date)s,
        %(received_at)s, %(raw)s)
ON CONFLICT (digest) DO UPDATE SET deliveries = webhook_inbox.quarantine.deliveries + 1
"""

UPSERT_META = """
INSERT INTO webhook_inbox.meta (key, value) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
"""

SELECT_EVENTS = """
SELECT seq, deliveries, event_id, event_type, occurred_at, order_id, updated_at, business_date,
       received_at, raw
FROM webhook_inbox.events WHERE business_date = %s ORDER BY seq
"""

SELECT_QUARANTINED = """
SELECT seq, deliveries, reason, raw, received_at, business_date, event_id, order_id
FROM webhook_inbox.quarantine WHERE business_date = %s ORDER BY seq
"""

# ``{table}`` is "events" or "quarantine", constants of inbox_postgres, never data.
DATES_AFTER = (
    "SELECT business_date, max(seq) FROM webhook_inbox.{table} WHERE seq > %s "
    "GROUP BY business_date"
)


def event_params(event: InboxEvent) -> dict[str, Any]:
    """The bound values of :data:`INSERT_EVENT` for ``event``."""
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        "order_id": event.order_id,
        "updated_at": event.updated_at.isoformat(),
        "business_date": event.business_date,
        "received_at": event.received_at.isoformat(),
        "raw": event.raw,
    }


def quarantined_params(item: Quarantined) -> dict[str, Any]:
    """The bound values of :data:`INSERT_QUARANTINED` for ``item``."""
    return {
        "digest": item.digest,
        "reason": item.reason,
        "event_id": item.event_id,
        "order_id": item.order_id,
        "business_date": item.business_date,
        "received_at": item.received_at.isoformat(),
        "raw": item.raw,
    }
