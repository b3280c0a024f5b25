"""The server: loopback only, a free port, serving on entry and gone on exit."""

from __future__ import annotations

import socket

import pytest
import requests

from grafterr_pipeline.sandbox import SandboxServer
from tests.sandbox.conftest import SMALL
from tests.sandbox.helpers import TIMEOUT, Caller


def test_the_server_listens_on_loopback_at_the_port_in_its_base_url() -> None:
    with SandboxServer(SMALL) as server:
        response = Caller(server).post_token()

        assert server.base_url == f"http://127.0.0.1:{server.port}/"
        assert response.status_code == 200


def test_the_port_is_closed_once_the_server_stops() -> None:
    with SandboxServer(SMALL) as server:
        port = server.port

    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_two_servers_run_side_by_side_on_different_ports() -> None:
    with SandboxServer(SMALL) as one, SandboxServer(SMALL) as two:
        assert one.port != two.port
        assert Caller(one).post_token().status_code == Caller(two).post_token().status_code == 200


def test_a_base_path_serves_the_api_under_that_prefix_only() -> None:
    with SandboxServer(SMALL.with_changes(base_path="/dev")) as server:
        caller = Caller(server)
        at_prefix = caller.post_token().status_code
        at_root = requests.post(
            f"http://127.0.0.1:{server.port}/auth/token",
            json={},
            headers={"x-api-key": SMALL.api_key},
            timeout=TIMEOUT,
        ).status_code

    assert server.base_url.endswith("/dev/")
    assert (at_prefix, at_root) == (200, 404)


@pytest.mark.parametrize("base_path", ["dev", "/dev/"], ids=["no-leading-slash", "trailing-slash"])
def test_a_malformed_base_path_is_refused(base_path: str) -> None:
    with pytest.raises(ValueError, match="base_path"):
        SMALL.with_changes(base_path=base_path)
