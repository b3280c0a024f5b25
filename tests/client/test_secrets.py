"""Secrets never reach a log line, an exception, the metadata or a file under the data root."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from grafterr_pipeline.client import GrafterrClient
from grafterr_pipeline.errors import GrafterrError
from grafterr_pipeline.sandbox import SandboxServer
from grafterr_pipeline.settings import Secret
from tests.client.conftest import END, START

Serve = Callable[..., SandboxServer]
Connect = Callable[..., GrafterrClient]

CLIENT_SECRET = "S3CRET-client-7f3a9c"
API_KEY = "S3CRET-apikey-51be20"


def issued_tokens(server: SandboxServer) -> list[str]:
    # The sandbox keeps its live tokens privately; a test may look, the client never does.
    return list(server.app.state.sandbox.tokens._expiry)


def test_secrets_never_appear_in_logs_errors_metadata_or_files(
    serve: Serve, connect: Connect, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = serve(
        client_secret=CLIENT_SECRET, api_key=API_KEY, token_ttl=0.5, fail_500=0.2,
        rate_limit=30.0, burst=2,
    )  # fmt: skip
    texts: list[str] = []

    with caplog.at_level(logging.DEBUG):
        client = connect(server, settings={"rate_limit": 60.0})
        result = client.pull_orders(START, END)
        texts += [repr(client), str(result.stats.as_metadata()), result.stats.summary()]
        for settings, kwargs in [
            ({"client_secret": Secret(CLIENT_SECRET + "-wrong")}, {}),
            ({"api_key": Secret(API_KEY + "-wrong")}, {}),
            ({}, {"channel": "carrier-pigeon"}),
        ]:
            with pytest.raises(GrafterrError) as caught:
                connect(server, settings=settings).pull_orders(START, END, **kwargs)
            texts += [str(caught.value), repr(caught.value), str(caught.value.__cause__)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [path.read_bytes().decode("latin-1") for path in tmp_path.rglob("*") if path.is_file()]

    secrets = [CLIENT_SECRET, API_KEY, *issued_tokens(server)]
    assert result.stats.retries_by_status and len(secrets) >= 3
    leaks = [(secret, text) for secret in secrets for text in texts if secret in text]
    assert leaks == []
