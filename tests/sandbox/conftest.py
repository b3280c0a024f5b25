"""Fixtures for the sandbox tests: a small fixed-clock sandbox served over loopback HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from tests.sandbox.helpers import Caller

# A Tuesday midday: the week before holds complete business dates and late refunds.
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
SMALL = SandboxConfig(seed=7, scale=12, now=NOW)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A well-behaved sandbox with a frozen clock, shared by a test module."""
    with SandboxServer(SMALL) as server:
        yield server


@pytest.fixture
def caller(sandbox: SandboxServer) -> Caller:
    """A logged-in caller of the shared sandbox."""
    return Caller(sandbox).login()
