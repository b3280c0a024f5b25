"""One PostgreSQL server for every deployment test, started once and removed at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.deploy.pg import PostgresMissing, PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL on loopback; skipped without Debian's binaries, except in CI."""
    try:
        server = PostgresServer.start()
    except PostgresMissing as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {err}")
        pytest.skip(str(err))
    with server:
        yield server


@pytest.fixture
def inbox_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty database for one test's inbox."""
    name = "inbox_" + request.node.name.lower()[:40].replace("[", "_").replace("]", "")
    return postgres.create_database("".join(c if c.isalnum() else "_" for c in name))
