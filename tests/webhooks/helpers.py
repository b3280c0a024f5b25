"""Deliveries in the contract's shape, and a reader of the inbox file as SQLite sees it."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.factories import make_order

TOKEN = "tok-" + "a1b2c3d4" * 4
SECRET = "signing-secret-for-tests"


def delivery(event_id: str = "evt_1", *, kind: str = "created", **order: Any) -> dict[str, Any]:
    """A webhook body for an order made by :func:`make_order` with ``order`` changes."""
    return {
        "event_id": event_id,
        "event_type": f"pos_order_{kind}",
        "occurred_at": "2026-11-30T19:58:41+00:00",
        "data": make_order(**order),
    }


def body(payload: dict[str, Any]) -> bytes:
    """``payload`` as the bytes a sender posts."""
    return json.dumps(payload).encode("utf-8")


def signature(raw: bytes, secret: str = SECRET) -> str:
    """The hex HMAC-SHA256 of ``raw`` a signing proxy would send."""
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def rows(inbox: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Query the inbox file directly, as any other reader would."""
    with closing(sqlite3.connect(inbox)) as conn:
        return conn.execute(sql, params).fetchall()
