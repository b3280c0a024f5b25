"""Hostile and broken webhooks, over real HTTP to the receiver on loopback, each with its outcome.

The receiver here asks for both the token and an HMAC of the body, as a deployment behind a
signing proxy does, so "authenticated" means both were right. An authenticated body that cannot
be used is answered 200 and kept verbatim in the inbox's quarantine with its reason; a body too
large is refused with 413 and one signed over other bytes with 401, both with nothing stored. In
every case the receiver stays up and stores the next valid delivery.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from grafterr_pipeline import steps
from grafterr_pipeline.settings import Secret, WebhookSettings, default_inbox_path
from grafterr_pipeline.warehouse import Warehouse
from grafterr_pipeline.webhooks import WebhookServer
from tests.factories import offline_settings, write_pull
from tests.webhooks.helpers import SECRET, TOKEN, body, delivery, rows, signature

DAY = dt.date(2026, 11, 30)  # the business date of every order delivery() makes
HOSTILE_TEXT = "🍔 \"Big\" O'Brien \\ ../../x '); DROP TABLE orders; --"
DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The data root, one folder down, so that anything written beside it can be seen."""
    return tmp_path / "data"


@pytest.fixture
def receiver(root: Path) -> Iterator[WebhookServer]:
    """A receiver needing the token and a signature, with its inbox under the data root."""
    settings = WebhookSettings(
        token=Secret(TOKEN), secret=Secret(SECRET), inbox_path=default_inbox_path(root)
    )
    with WebhookServer(settings) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def post(
    receiver: WebhookServer, http: requests.Session, raw: bytes, *, signed_over: bytes | None = None
) -> requests.Response:
    """Post ``raw`` with the HMAC of ``signed_over`` (by default, of ``raw`` itself)."""
    mac = signature(raw if signed_over is None else signed_over)
    headers = {"X-Grafterr-Signature": "sha256=" + mac}
    return http.post(receiver.url_for(TOKEN), data=raw, headers=headers, timeout=10)


def stored(receiver: WebhookServer, table: str) -> list[tuple[object, ...]]:
    """Every row of ``table`` (``events`` or ``quarantine``), or none while no inbox exists."""
    inbox = receiver.settings.inbox_path
    if not inbox.exists():
        return []
    columns = "event_id, raw" if table == "events" else "reason, raw"
    return rows(inbox, f"SELECT {columns} FROM {table} ORDER BY seq")


def assert_next_valid_delivery_is_stored(receiver: WebhookServer, http: requests.Session) -> None:
    raw = body(delivery("evt_next"))

    answer = post(receiver, http, raw)

    assert answer.status_code == 200
    assert answer.json() == {"status": "stored"}
    assert stored(receiver, "events") == [("evt_next", raw)]


def _event_with_deep_data() -> bytes:
    # A well-formed envelope whose order carries a field nested 10,000 levels deep.
    envelope = body(delivery("evt_deep", note="@@deep@@"))
    return envelope.replace(b'"@@deep@@"', DEEP)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(
            b"", "body is not JSON: Expecting value: line 1 column 1 (char 0)", id="empty"
        ),
        pytest.param(b"null", "body is a JSON NoneType, not an object", id="null"),
        pytest.param(b'{"event_id": "evt_\xff\xfe"}', "body is not UTF-8 (byte 18)", id="not-utf8"),
        pytest.param(DEEP, "body is JSON nested too deeply to read", id="nested-10000"),
        pytest.param(
            _event_with_deep_data(),
            "body is JSON nested too deeply to read",
            id="event-with-data-nested-10000",
        ),
        pytest.param(
            body({**delivery(), "event_type": ["pos_order_created"]}),
            "event_type ['pos_order_created'] is not one of the six order events",
            id="event-type-a-list",
        ),
        pytest.param(
            body(delivery(store={"store_id": "st_1", "timezone": "Europe/" + "x" * 5000})),
            f"data.store.timezone {'Europe/' + 'x' * 5000!r} is not an IANA time zone",
            id="store-timezone-5000-characters",
        ),
    ],
)
def test_an_authenticated_broken_body_is_quarantined_verbatim_and_the_receiver_carries_on(
    receiver: WebhookServer, http: requests.Session, raw: bytes, reason: str
) -> None:
    answer = post(receiver, http, raw)

    assert answer.status_code == 200
    assert answer.json() == {"status": "quarantined"}
    assert stored(receiver, "quarantine") == [(reason, raw)]
    assert stored(receiver, "events") == []
    assert_next_valid_delivery_is_stored(receiver, http)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared-length", "chunked"])
def test_a_2_mib_webhook_is_refused_with_413_and_nothing_is_stored(
    receiver: WebhookServer, http: requests.Session, chunked: bool
) -> None:
    payload = delivery("evt_huge")
    payload["padding"] = "x" * (2 * 1024 * 1024)
    raw = body(payload)
    data = iter([raw[i : i + 65536] for i in range(0, len(raw), 65536)]) if chunked else raw

    answer = http.post(
        receiver.url_for(TOKEN),
        data=data,
        headers={"X-Grafterr-Signature": signature(raw)},
        timeout=10,
    )

    assert answer.status_code == 413
    assert stored(receiver, "events") == []
    assert stored(receiver, "quarantine") == []
    assert_next_valid_delivery_is_stored(receiver, http)


_SENT = body(delivery("evt_signed"))


@pytest.mark.parametrize(
    "signed_over",
    [
        pytest.param(
            json.dumps(delivery("evt_signed"), indent=2).encode(), id="same-json-reformatted"
        ),
        pytest.param(_SENT.replace(b'"11.50"', b'"99.50"', 1), id="one-value-tampered"),
        pytest.param(_SENT + b"\n", id="a-trailing-newline-more"),
        pytest.param(_SENT[:-1], id="the-last-byte-less"),
        pytest.param(b"", id="an-empty-body"),
    ],
)
def test_a_webhook_signed_over_other_bytes_is_refused_with_401_and_nothing_is_stored(
    receiver: WebhookServer, http: requests.Session, signed_over: bytes
) -> None:
    answer = post(receiver, http, _SENT, signed_over=signed_over)

    assert signed_over != _SENT
    assert answer.status_code == 401
    assert stored(receiver, "events") == []
    assert stored(receiver, "quarantine") == []
    assert_next_valid_delivery_is_stored(receiver, http)


def _land(root: Path) -> Warehouse:
    """Run the pipeline's steps for DAY over an empty pull and the inbox, as a run would."""
    settings = offline_settings(root)
    write_pull(root, DAY, [], pulled_at=dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC))
    steps.stage_webhook_deltas(settings, DAY)
    steps.merge_with_webhooks(settings, DAY)
    steps.land_tables(settings, DAY)
    warehouse = Warehouse(root)
    warehouse.refresh_views()
    return warehouse


def test_hostile_names_in_a_webhook_are_stored_and_landed_verbatim_inside_the_data_root(
    receiver: WebhookServer, http: requests.Session, root: Path
) -> None:
    order = delivery(
        "evt_names",
        order_id=HOSTILE_TEXT,
        store={"store_id": "../../etc", "name": HOSTILE_TEXT, "timezone": "Europe/London"},
    )
    order["data"]["items"][0]["name"] = HOSTILE_TEXT
    order["data"]["items"][0]["category"] = "..\\..\\etc"
    raw = json.dumps(order, ensure_ascii=False).encode("utf-8")

    answer = post(receiver, http, raw)
    receiver.stop()
    warehouse = _land(root)

    assert answer.json() == {"status": "stored"}
    assert stored(receiver, "events") == [("evt_names", raw)]
    assert warehouse.query("SELECT order_id, store_id, store_name FROM orders").rows == [
        (HOSTILE_TEXT, "../../etc", HOSTILE_TEXT)
    ]
    assert warehouse.query("SELECT name, category FROM order_items WHERE line_number = 1").rows == [
        (HOSTILE_TEXT, "..\\..\\etc")
    ]
    assert [p for p in root.parent.rglob("*") if root not in (p, *p.parents)] == []
    assert not any("etc" in p.name for p in root.rglob("*"))
