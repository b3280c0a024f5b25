"""A webhook receiver on loopback over a fresh inbox, one per test."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from grafterr_pipeline.settings import Secret, WebhookSettings
from grafterr_pipeline.webhooks import WebhookServer
from tests.webhooks.helpers import SECRET, TOKEN


@pytest.fixture
def settings(tmp_path: Path) -> WebhookSettings:
    """Receiver settings with a token, no signature, and an inbox in the test's folder."""
    return WebhookSettings(token=Secret(TOKEN), inbox_path=tmp_path / "inbox" / "webhooks.sqlite3")


@pytest.fixture
def serve(settings: WebhookSettings) -> Iterator[Callable[..., WebhookServer]]:
    """Start a receiver with ``settings`` changed as asked; every one is stopped afterwards."""
    started: list[WebhookServer] = []

    def start(**changes: object) -> WebhookServer:
        server = WebhookServer(dataclasses.replace(settings, **changes)).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def receiver(serve: Callable[..., WebhookServer]) -> WebhookServer:
    """A receiver that needs the token only."""
    return serve()


@pytest.fixture
def signed_receiver(serve: Callable[..., WebhookServer]) -> WebhookServer:
    """A receiver that needs the token and an HMAC of the body."""
    return serve(secret=Secret(SECRET))


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A keep-alive HTTP session."""
    with requests.Session() as session:
        yield session
