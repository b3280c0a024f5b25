"""Every answer of the receiver, over real HTTP to uvicorn on loopback, checked in the inbox."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import requests

from grafterr_pipeline.webhooks import SqliteInbox, WebhookServer
from tests.webhooks.helpers import TOKEN, body, delivery, rows, signature


def _inbox(server: WebhookServer) -> Path:
    return server.settings.inbox_path


def test_valid_delivery_is_stored_with_its_raw_body_and_answered_200(
    receiver: WebhookServer, http: requests.Session
) -> None:
    raw = body(delivery("evt_1"))

    answer = http.post(receiver.url_for(TOKEN), data=raw, timeout=5)

    assert answer.status_code == 200
    assert answer.json() == {"status": "stored"}
    stored = rows(_inbox(receiver), "SELECT event_id, order_id, business_date, raw FROM events")
    assert stored == [("evt_1", "ord_1", "2026-11-30", raw)]


def test_inbox_indexes_the_event_by_its_order_update_and_business_date(
    receiver: WebhookServer, http: requests.Session
) -> None:
    # 01:30 on 1 December in London is before the 04:00 cut-off: business date 30 November.
    payload = delivery(
        "evt_late",
        kind="updated",
        created_at="2026-12-01T01:30:00+00:00",
        updated_at="2026-12-03T10:00:00+01:00",
    )

    http.post(receiver.url_for(TOKEN), data=body(payload), timeout=5)

    (event,) = SqliteInbox(_inbox(receiver)).events_of(dt.date(2026, 11, 30))
    assert event.event_type == "pos_order_updated"
    assert event.updated_at == dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    assert event.occurred_at == dt.datetime(2026, 11, 30, 19, 58, 41, tzinfo=dt.UTC)
    assert event.received_at.tzinfo is not None


def test_repeated_event_id_is_answered_200_and_stored_once(
    receiver: WebhookServer, http: requests.Session
) -> None:
    raw = body(delivery("evt_twice"))

    answers = [http.post(receiver.url_for(TOKEN), data=raw, timeout=5) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["status"] for a in answers] == ["stored", "duplicate", "duplicate"]
    assert rows(_inbox(receiver), "SELECT event_id, deliveries FROM events") == [("evt_twice", 3)]


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


UNUSABLE = [
    pytest.param(b"{not json", "not JSON", id="not-json"),
    pytest.param(b"\xff\xfe{}", "not UTF-8", id="not-utf8"),
    pytest.param(b"[1, 2]", "not an object", id="json-array"),
    pytest.param(body(_without(delivery(), "event_id")), "event_id", id="no-event-id"),
    pytest.param(
        body({**delivery(), "event_type": "pos_order_deleted"}), "event_type", id="unknown-type"
    ),
    pytest.param(body({**delivery(), "data": "ord_1"}), "data", id="data-not-an-order"),
    pytest.param(body(delivery(order_id=None)), "order_id", id="no-order-id"),
    pytest.param(
        body(delivery(updated_at="2026-11-30T19:58:40")), "no UTC offset", id="naive-updated-at"
    ),
    pytest.param(
        body(delivery(created_at="2026-11-30T19:42:11")), "no UTC offset", id="naive-created-at"
    ),
    pytest.param(
        body(delivery(store={"store_id": "st_1", "timezone": "Mars/Olympus"})),
        "time zone",
        id="unknown-store-zone",
    ),
]


@pytest.mark.parametrize(("raw", "reason"), UNUSABLE)
def test_authenticated_but_unusable_delivery_is_quarantined_and_answered_200(
    receiver: WebhookServer, http: requests.Session, raw: bytes, reason: str
) -> None:
    answer = http.post(receiver.url_for(TOKEN), data=raw, timeout=5)

    assert answer.status_code == 200
    assert answer.json() == {"status": "quarantined"}
    ((stored_reason, stored_raw),) = rows(_inbox(receiver), "SELECT reason, raw FROM quarantine")
    assert reason in stored_reason
    assert stored_raw == raw
    assert rows(_inbox(receiver), "SELECT count(*) FROM events") == [(0,)]


def test_quarantined_body_sent_again_is_kept_once(
    receiver: WebhookServer, http: requests.Session
) -> None:
    for _ in range(2):
        http.post(receiver.url_for(TOKEN), data=b"garbage", timeout=5)

    assert rows(_inbox(receiver), "SELECT deliveries FROM quarantine") == [(2,)]


def test_undatable_quarantined_delivery_is_dated_by_its_arrival(
    receiver: WebhookServer, http: requests.Session
) -> None:
    http.post(receiver.url_for(TOKEN), data=b"garbage", timeout=5)

    ((date, received),) = rows(
        _inbox(receiver), "SELECT business_date, received_at FROM quarantine"
    )
    arrival = dt.datetime.fromisoformat(received)
    assert dt.date.fromisoformat(date) in {arrival.date(), arrival.date() - dt.timedelta(days=1)}


REFUSED = [
    pytest.param("/webhooks/grafterr/" + TOKEN[:-1] + "x", {}, id="wrong-token"),
    pytest.param("/webhooks/grafterr/" + TOKEN[:-1], {}, id="token-prefix"),
    pytest.param("/webhooks/grafterr/-", {}, id="placeholder-token"),
    pytest.param("/webhooks/grafterr", {}, id="missing-token"),
    pytest.param("/webhooks/grafterr/", {}, id="empty-token"),
]


@pytest.mark.parametrize(("path", "headers"), REFUSED)
def test_wrong_or_missing_token_is_answered_401_and_nothing_is_stored(
    receiver: WebhookServer,
    http: requests.Session,
    caplog: pytest.LogCaptureFixture,
    path: str,
    headers: dict[str, str],
) -> None:
    caplog.set_level(logging.WARNING, logger="grafterr_pipeline.webhooks")

    answer = http.post(receiver.base_url + path, data=body(delivery()), headers=headers, timeout=5)

    assert answer.status_code == 401
    assert not _inbox(receiver).exists() or rows(_inbox(receiver), "SELECT * FROM events") == []
    assert "1 refused since start" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing-signature"),
        pytest.param("0" * 64, id="wrong-signature"),
        pytest.param(signature(b"another body"), id="signature-of-another-body"),
        pytest.param(signature(body(delivery()), secret="not-the-secret"), id="other-secret"),
    ],
)
def test_wrong_or_missing_signature_is_answered_401_and_nothing_is_stored(
    signed_receiver: WebhookServer, http: requests.Session, header: str | None
) -> None:
    headers = {"X-Grafterr-Signature": header} if header else {}

    answer = http.post(
        signed_receiver.url_for(TOKEN), data=body(delivery()), headers=headers, timeout=5
    )

    assert answer.status_code == 401
    inbox = _inbox(signed_receiver)
    assert not inbox.exists() or rows(inbox, "SELECT count(*) FROM events") == [(0,)]


@pytest.mark.parametrize("prefix", ["", "sha256="], ids=["bare-hex", "sha256-prefixed"])
def test_correct_signature_of_the_raw_body_is_accepted(
    signed_receiver: WebhookServer, http: requests.Session, prefix: str
) -> None:
    raw = body(delivery("evt_signed"))

    answer = http.post(
        signed_receiver.url_for(TOKEN),
        data=raw,
        headers={"X-Grafterr-Signature": prefix + signature(raw)},
        timeout=5,
    )

    assert answer.json() == {"status": "stored"}


def test_signature_header_name_is_configurable(serve: Any, http: requests.Session) -> None:
    from grafterr_pipeline.settings import Secret
    from tests.webhooks.helpers import SECRET

    server = serve(secret=Secret(SECRET), signature_header="X-Proxy-Sig")
    raw = body(delivery("evt_proxy"))

    answer = http.post(
        server.url_for(TOKEN), data=raw, headers={"X-Proxy-Sig": signature(raw)}, timeout=5
    )

    assert answer.status_code == 200


@pytest.mark.parametrize(
    "chunked", [False, True], ids=["declared-length", "chunked-without-length"]
)
def test_body_over_one_mebibyte_is_answered_413_and_not_stored(
    receiver: WebhookServer, http: requests.Session, chunked: bool
) -> None:
    payload = delivery("evt_big")
    payload["padding"] = "x" * (1024 * 1024)
    raw = body(payload)
    data = iter([raw[i : i + 65536] for i in range(0, len(raw), 65536)]) if chunked else raw

    answer = http.post(receiver.url_for(TOKEN), data=data, timeout=10)

    assert answer.status_code == 413
    inbox = _inbox(receiver)
    assert not inbox.exists() or rows(inbox, "SELECT count(*) FROM events") == [(0,)]


def test_body_of_exactly_one_mebibyte_is_accepted(
    receiver: WebhookServer, http: requests.Session
) -> None:
    payload = delivery("evt_edge")
    payload["padding"] = ""
    filler = 1024 * 1024 - len(body(payload))
    payload["padding"] = "x" * filler

    answer = http.post(receiver.url_for(TOKEN), data=body(payload), timeout=10)

    assert len(body(payload)) == 1024 * 1024
    assert answer.json() == {"status": "stored"}


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_method_other_than_post_is_answered_405(
    receiver: WebhookServer, http: requests.Session, method: str
) -> None:
    answer = http.request(method, receiver.url_for(TOKEN), data=body(delivery()), timeout=5)

    assert answer.status_code == 405
    assert not _inbox(receiver).exists() or rows(_inbox(receiver), "SELECT * FROM events") == []


def test_health_check_answers_200_after_a_committed_write(
    receiver: WebhookServer, http: requests.Session
) -> None:
    answer = http.get(receiver.base_url + "/healthz", timeout=5)

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}
    assert rows(_inbox(receiver), "SELECT key FROM meta") == [("heartbeat",)]


def test_unwritable_inbox_fails_the_health_check_and_is_never_acknowledged(
    serve: Any, http: requests.Session, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the inbox's folder should be")
    server = serve(inbox_path=blocker / "webhooks.sqlite3")

    health = http.get(server.base_url + "/healthz", timeout=5)
    answer = http.post(server.url_for(TOKEN), data=body(delivery()), timeout=5)

    assert health.status_code == 503
    assert answer.status_code == 503


def test_without_a_token_configured_any_path_token_is_accepted(
    serve: Any, http: requests.Session
) -> None:
    server = serve(token=None)

    answer = http.post(server.url_for("anything"), data=body(delivery("evt_open")), timeout=5)

    assert answer.json() == {"status": "stored"}


def test_answers_never_echo_the_body_or_the_token(
    receiver: WebhookServer, http: requests.Session
) -> None:
    answers = [
        http.post(receiver.url_for(TOKEN), data=b"secret-looking body", timeout=5),
        http.post(receiver.base_url + "/webhooks/grafterr/nope", data=b"x", timeout=5),
    ]

    for answer in answers:
        assert b"secret-looking" not in answer.content
        assert TOKEN not in answer.text
        json.loads(answer.content)
