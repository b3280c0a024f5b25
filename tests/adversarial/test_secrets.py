"""Secrets: a whole demo-like flow, then a search for them everywhere it left a trace.

The sandbox is given recognisable credentials, tokens that live 2 seconds and some 500s; the
pipeline gets a recognisable PII salt. Three dates land, in two runs, and one more run fails
on a refused secret. Then every log record, every Dagster event (metadata and errors
included), every exception and every file under the data root and DAGSTER_HOME is searched:
none may hold a secret, a bearer token the sandbox issued, or the salt.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
from pathlib import Path

import pytest
from dagster import DagsterInstance, serialize_value

from grafterr_pipeline.cli.run import materialise_dates
from grafterr_pipeline.sandbox import SandboxConfig, SandboxServer
from grafterr_pipeline.sandbox.environment import pipeline_environment

pytestmark = pytest.mark.slow

CLIENT_SECRET = "S3CRET-client-9d41c7e0"
API_KEY = "S3CRET-apikey-2be05f13"
PII_SALT = "S3CRET-salt-77a1c9d4"
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
# Two consecutive dates run as one run, the third as a run of its own: each run's client gets
# its own tokens, so there are several to look for, and both kinds of run leave their traces.
DATES = [dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 19)]
CONFIG = SandboxConfig(
    seed=5, scale=4, now=NOW, client_secret=CLIENT_SECRET, api_key=API_KEY, token_ttl=2.0,
    fail_500=0.1, rate_limit=20.0, burst=2,
)  # fmt: skip


def file_texts(root: Path) -> list[tuple[str, bytes]]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found.append((str(path), data))
            if path.suffix == ".gz":
                found.append((f"{path} (unzipped)", gzip.decompress(data)))
    return found


def issued_tokens(server: SandboxServer) -> list[str]:
    """Every bearer token the sandbox issues from now on (it forgets expired ones itself)."""
    issued: list[str] = []
    issuer = server.app.state.sandbox.tokens
    issue = issuer.issue

    def recording() -> str:
        issued.append(token := issue())
        return token

    issuer.issue = recording
    return issued


def test_no_secret_reaches_a_log_an_event_an_error_or_a_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root, home = tmp_path / "data", tmp_path / "dagster_home"
    texts: list[tuple[str, str]] = []

    home.mkdir()
    with (
        caplog.at_level(logging.DEBUG),
        pytest.MonkeyPatch.context() as env,
        SandboxServer(CONFIG) as server,
        DagsterInstance.local_temp(str(home)) as instance,
    ):
        tokens = issued_tokens(server)
        told = pipeline_environment(CONFIG, server.base_url, data_dir=str(root))
        for name, value in {**told, "GRAFTERR_PII_SALT": PII_SALT}.items():
            env.setenv(name, value)
        results = materialise_dates(DATES, instance=instance)
        env.setenv("GRAFTERR_CLIENT_SECRET", CLIENT_SECRET + "-revoked")
        refused = materialise_dates(DATES[:1], instance=instance)
        for run in [*results, *refused]:
            for entry in instance.all_logs(run.run_id):
                texts.append((f"event of run {run.run_id[:8]}", serialize_value(entry)))
    texts += [(f"log {r.name}", r.getMessage()) for r in caplog.records]
    texts += [(f"exception in log {r.name}", str(r.exc_info)) for r in caplog.records]

    assert [r.success for r in results] == [True] * len(DATES)
    assert [r.success for r in refused] == [False]
    assert any("GRAFTERR_CLIENT_SECRET" in text for _, text in texts)  # the error was seen
    secrets = [CLIENT_SECRET, API_KEY, PII_SALT, *tokens]
    assert len(tokens) >= 2
    leaks = [(s, where) for s in secrets for where, text in texts if s in text]
    leaks += [
        (s, where)
        for s in secrets
        for where, data in file_texts(root) + file_texts(home)
        if s.encode() in data
    ]
    assert leaks == []
