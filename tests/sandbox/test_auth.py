"""Token lifetime: a token works until ``token_ttl`` runs out, then answers 401."""

from __future__ import annotations

import time

import pytest

from grafterr_pipeline.sandbox import SandboxServer
from grafterr_pipeline.sandbox.auth import TokenIssuer, bearer_token
from tests.sandbox.conftest import SMALL
from tests.sandbox.helpers import Caller


def test_a_token_expires_after_its_ttl_and_a_new_one_works() -> None:
    with SandboxServer(SMALL.with_changes(token_ttl=0.4)) as server:
        caller = Caller(server).login()
        before = caller.get("orders/ord_001202611280001").status_code

        time.sleep(0.5)
        expired = caller.get("orders/ord_001202611280001").status_code
        renewed = caller.login().get("orders/ord_001202611280001").status_code

    assert (before, expired, renewed) == (200, 401, 200)


def test_expires_in_reports_the_configured_ttl() -> None:
    with SandboxServer(SMALL.with_changes(token_ttl=5)) as server:
        assert Caller(server).post_token().json()["expires_in"] == 5


def test_an_issuer_forgets_nothing_still_valid() -> None:
    now = [0.0]
    issuer = TokenIssuer(10, clock=lambda: now[0])
    old = issuer.issue()
    now[0] = 9.0

    young = issuer.issue()
    now[0] = 12.0

    assert (issuer.is_valid(old), issuer.is_valid(young)) == (False, True)


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer abc", "abc"), ("Bearer ", None), ("Basic abc", None),
     ("", None), (None, None)],
    ids=["bearer", "lowercase", "empty", "basic", "blank", "none"],
)  # fmt: skip
def test_bearer_token_reads_only_a_bearer_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
