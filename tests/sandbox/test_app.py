"""The HTTP contract, exercised over loopback against a running sandbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests

from grafterr_pipeline.sandbox import SandboxServer
from tests.sandbox.conftest import NOW
from tests.sandbox.helpers import TIMEOUT, Caller

DAY = {"from": "2026-11-28T00:00:00Z", "to": "2026-11-29T00:00:00+00:00"}


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# --- token ----------------------------------------------------------------------------------


def test_token_request_with_the_right_credentials_returns_a_bearer_token(
    sandbox: SandboxServer,
) -> None:
    response = Caller(sandbox).post_token()

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"]


@pytest.mark.parametrize(
    "credentials",
    [{"client_secret": "wrong"}, {"client_id": "someone-else"}],
    ids=["wrong-secret", "wrong-client-id"],
)
def test_token_request_with_wrong_credentials_is_refused(
    sandbox: SandboxServer, credentials: dict[str, str]
) -> None:
    response = Caller(sandbox).post_token(**credentials)

    assert response.status_code == 401
    assert response.json() == {"message": "Invalid client credentials"}


# --- API key and bearer token ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [("auth/token", "post"), ("orders", "get"), ("orders/ord_001202611280001", "get")],
    ids=["token", "orders", "order"],
)
@pytest.mark.parametrize("api_key", [None, "not-the-key"], ids=["missing-key", "unknown-key"])
def test_a_request_without_the_api_key_is_forbidden(
    sandbox: SandboxServer, path: str, method: str, api_key: str | None
) -> None:
    headers = {"x-api-key": api_key} if api_key else {}

    response = requests.request(method, sandbox.base_url + path, headers=headers, timeout=TIMEOUT)

    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Token abc", "Bearer not-a-token-we-issued", "Bearer a b"],
    ids=["missing", "empty-bearer", "wrong-scheme", "unknown-token", "malformed"],
)
@pytest.mark.parametrize("path", ["orders", "orders/ord_001202611280001"], ids=["list", "one"])
def test_a_request_without_a_valid_bearer_token_is_unauthorized(
    sandbox: SandboxServer, authorization: str | None, path: str
) -> None:
    caller = Caller(sandbox)
    if authorization:
        caller.session.headers["Authorization"] = authorization

    response = caller.get(path, **DAY)

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "auth/token"), ("post", "orders"), ("delete", "orders/ord_001202611280001")],
    ids=["get-token", "post-orders", "delete-order"],
)
def test_a_wrong_method_answers_405(caller: Caller, method: str, path: str) -> None:
    response = caller.session.request(method, caller.url(path), timeout=TIMEOUT)

    assert response.status_code == 405
    assert response.json() == {"message": "Method Not Allowed"}


# --- listing --------------------------------------------------------------------------------


@pytest.mark.parametrize("date_field", ["created_at", "updated_at"])
def test_paging_a_window_returns_every_order_once_sorted_and_counted(
    caller: Caller, date_field: str
) -> None:
    first = caller.get("orders", page_size=17, date_field=date_field, **DAY).json()

    orders = caller.all_orders(page_size=17, date_field=date_field, **DAY)

    keys = [(_instant(o[date_field]), o["order_id"]) for o in orders]
    assert len(orders) == first["meta"]["total"] > 17
    assert first["meta"]["total_pages"] == -(-first["meta"]["total"] // 17)
    assert keys == sorted(keys)
    assert len({o["order_id"] for o in orders}) == len(orders)


@pytest.mark.parametrize("date_field", ["created_at", "updated_at"])
def test_the_window_filters_on_the_chosen_timestamp_from_inclusive_to_exclusive(
    caller: Caller, date_field: str
) -> None:
    orders = caller.all_orders(page_size=200, date_field=date_field, **DAY)

    stamps = [_instant(o[date_field]) for o in orders]
    assert min(stamps) >= _instant(DAY["from"])
    assert max(stamps) < _instant(DAY["to"])


def test_the_updated_at_window_holds_changes_to_orders_created_days_before(caller: Caller) -> None:
    orders = caller.all_orders(page_size=200, date_field="updated_at", **DAY)

    assert any(_instant(o["created_at"]) < _instant(DAY["from"]) for o in orders)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [("channel", "web", ("channel",)), ("channel", "selfkiosk", ("channel",)),
     ("store_id", "st_011", ("store", "store_id"))],
    ids=["web", "selfkiosk", "store"],
)  # fmt: skip
def test_filters_keep_only_matching_orders(
    caller: Caller, name: str, value: str, field: tuple[str, ...]
) -> None:
    orders = caller.all_orders(page_size=200, **{name: value}, **DAY)

    assert orders
    assert {_dig(o, field) for o in orders} == {value}


def _dig(order: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        order = order[key]
    return order


def test_a_page_past_the_end_is_empty(caller: Caller) -> None:
    response = caller.get("orders", page=999, **DAY)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] > 0


def test_an_empty_window_has_no_pages(caller: Caller) -> None:
    body = caller.get("orders", **{"from": "2023-01-01T00:00:00Z", "to": "2023-01-02T00:00Z"})

    assert body.json() == {"data": [], "meta": {"page": 1, "page_size": 100, "total": 0,
                                                "total_pages": 0}}  # fmt: skip


@pytest.mark.parametrize(
    ("params", "bad"),
    [
        ({"to": DAY["to"]}, "from"),
        ({"from": DAY["from"]}, "to"),
        ({**DAY, "from": "2026-11-28T00:00:00"}, "from"),
        ({**DAY, "to": "yesterday"}, "to"),
        ({"from": DAY["to"], "to": DAY["from"]}, "to"),
        ({**DAY, "date_field": "paid_at"}, "date_field"),
        ({**DAY, "channel": "phone"}, "channel"),
        ({**DAY, "page": "0"}, "page"),
        ({**DAY, "page": "two"}, "page"),
        ({**DAY, "page_size": "0"}, "page_size"),
        ({**DAY, "page_size": "201"}, "page_size"),
    ],
    ids=["no-from", "no-to", "naive-from", "garbage-to", "reversed", "bad-date-field",
         "bad-channel", "page-zero", "page-word", "page-size-zero", "page-size-201"],
)  # fmt: skip
def test_bad_parameters_answer_400_naming_the_parameter(
    caller: Caller, params: dict[str, str], bad: str
) -> None:
    response = caller.get("orders", **params)

    assert response.status_code == 400
    assert bad in response.json()["errors"]
    assert response.json()["message"]


def test_page_size_200_is_allowed(caller: Caller) -> None:
    assert caller.get("orders", page_size=200, **DAY).status_code == 200


def test_an_unescaped_plus_in_the_offset_still_reads_as_an_offset(caller: Caller) -> None:
    url = caller.url("orders?from=2026-11-28T00:00:00+00:00&to=2026-11-29T00:00:00+00:00")

    response = caller.session.get(url, timeout=TIMEOUT)

    assert response.status_code == 200
    assert response.json()["meta"]["total"] == caller.get("orders", **DAY).json()["meta"]["total"]


def test_orders_created_after_the_sandbox_clock_do_not_exist(caller: Caller) -> None:
    window = {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}

    orders = caller.all_orders(page_size=200, **window)

    assert orders
    assert max(_instant(o["created_at"]) for o in orders) <= NOW
    assert max(_instant(o["updated_at"]) for o in orders) <= NOW


# --- one order ------------------------------------------------------------------------------


def test_an_order_by_id_is_the_same_as_in_the_listing(caller: Caller) -> None:
    listed = caller.get("orders", **DAY).json()["data"][3]

    response = caller.get(f"orders/{listed['order_id']}")

    assert response.status_code == 200
    assert response.json() == listed


@pytest.mark.parametrize(
    "order_id",
    ["ord_999202611280001", "ord_001202611289999", "ord_001209913280001", "nonsense",
     "ord_001202612310001"],
    ids=["unknown-store", "unknown-sequence", "impossible-date", "not-an-id", "in-the-future"],
)  # fmt: skip
def test_an_unknown_order_answers_404(caller: Caller, order_id: str) -> None:
    response = caller.get(f"orders/{order_id}")

    assert response.status_code == 404
    assert response.json() == {"message": "Order not found"}


def test_unknown_paths_answer_404_as_json(caller: Caller) -> None:
    response = caller.get("customers")

    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
