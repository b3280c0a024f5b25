"""Fixtures for the client tests: sandboxes on loopback and settings pointing at them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from grafterr_pipeline.client import GrafterrClient, RetryPolicy
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.settings import Secret, Settings

# A Tuesday midday with a frozen sandbox clock, so every pull of a window sees the same orders.
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 11, 30, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC)
BASE = SandboxConfig(seed=11, scale=12, now=NOW)
PAGE_SIZE = 20
# The client's budget unless a test says otherwise: well above what loopback tests send.
TEST_RATE = 500.0

# Retries that do not make a test wait: the faults are random shares, so allow many attempts.
FAST_RETRY = RetryPolicy(
    max_attempts=12, max_elapsed_seconds=30.0, backoff_base_seconds=0.01, backoff_max_seconds=0.05
)


def expected_ids(config: SandboxConfig, *, date_field: str = "created_at") -> list[str]:
    """The sandbox's own answer: every order id of the test window, in the API's order."""
    listed = OrderBook.from_config(config).listing(
        START,
        END,
        clock=NOW,
        date_field=date_field,  # type: ignore[arg-type]
    )
    return [entry.history.order_id for entry in listed]


def settings_for(server: SandboxServer, data_dir: Path, **changes: object) -> Settings:
    """Settings for ``server``'s credentials, data under ``data_dir``; ``changes`` override."""
    config = server.config
    settings = Settings(
        environment="local",
        base_url=server.base_url,
        client_id=config.client_id,
        client_secret=Secret(config.client_secret),
        api_key=Secret(config.api_key),
        data_dir=data_dir,
        page_size=PAGE_SIZE,
        rate_limit=TEST_RATE,
        pii="drop",  # the client never sees customers; no salt needed
    )
    return settings.with_changes(**changes) if changes else settings


@pytest.fixture
def serve() -> Iterator[Callable[..., SandboxServer]]:
    """Start a sandbox from ``BASE`` with the given knobs; stopped after the test."""
    with ExitStack() as stack:

        def start(**knobs: object) -> SandboxServer:
            return stack.enter_context(SandboxServer(BASE.with_changes(**knobs)))

        yield start


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Callable[..., GrafterrClient]]:
    """Open a client on a sandbox (fast retries, state under ``tmp_path``); closed after."""
    with ExitStack() as stack:

        def open_client(server: SandboxServer, **options: object) -> GrafterrClient:
            settings = settings_for(server, tmp_path, **options.pop("settings", {}))  # type: ignore[arg-type]
            options.setdefault("retry", FAST_RETRY)
            return stack.enter_context(GrafterrClient(settings, **options))  # type: ignore[arg-type]

        yield open_client
