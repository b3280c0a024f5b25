"""The three contenders: how each is started, what it is told, and how its output is read.

Every contender gets the sandbox's URL and public fixture credentials through the same
``GRAFTERR_*`` variables, a fresh temporary directory for everything it writes, and nothing
else from the harness. ``workaround`` records what a contender needed to run at all against
Grafterr's contract, beyond ordinary configuration.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.peers.correctness import Tables, read_dlt, read_naive, read_pipeline
from bench.peers.scenarios import CUTOFF
from grafterr_pipeline.sandbox import SandboxConfig

__all__ = [
    "CONTENDERS",
    "REPO",
    "Contender",
    "base_env",
    "contender_env",
    "dagster_home",
    "private_env",
]

REPO = Path(__file__).resolve().parents[2]
_BIN = Path(sys.executable).parent

Reader = Callable[[Path, list[dt.date]], dict[dt.date, Tables]]


@dataclass(frozen=True)
class Contender:
    """One tool under test."""

    key: str
    label: str
    module: str | None  # ``python -m`` module, or None for the ``grafterr-pipeline`` command
    read: Reader
    setup: str
    workaround: str

    def command(self, dates: list[dt.date], out: Path) -> list[str]:
        """The command line that does the work for ``dates``, writing under ``out``."""
        span = ["--start", dates[0].isoformat(), "--end", dates[-1].isoformat()]
        if self.module is None:
            return [str(_BIN / "grafterr-pipeline"), "run", *span]
        return [sys.executable, "-m", self.module, *span, "--out", str(out)]


def contender_env(
    contender: Contender, config: SandboxConfig, base_url: str, workdir: Path
) -> dict[str, str]:
    """The environment of one run: the sandbox's address and credentials, and private dirs."""
    env = private_env(workdir)
    env.update(
        GRAFTERR_ENVIRONMENT="local",
        GRAFTERR_BASE_URL=base_url,
        GRAFTERR_CLIENT_ID=config.client_id,
        GRAFTERR_CLIENT_SECRET=config.client_secret,
        GRAFTERR_API_KEY=config.api_key,
    )
    if contender.module is None:
        env.update(
            DAGSTER_HOME=str(dagster_home(workdir)),
            GRAFTERR_DATA_DIR=str(workdir / "out" / "data"),
            GRAFTERR_PII_SALT="bench-salt",
        )
        if config.rate_limit is not None:
            env["GRAFTERR_RATE_LIMIT"] = str(config.rate_limit)
    return env


def base_env() -> dict[str, str]:
    """The harness's environment without its ``GRAFTERR_*`` and ``DAGSTER_*`` variables, with
    the repository on ``PYTHONPATH`` (for the ``bench`` modules)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFTERR_", "DAGSTER_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def private_env(workdir: Path) -> dict[str, str]:
    """:func:`base_env` with dlt's home in ``workdir`` and its telemetry off: no contender
    reports home (dlt's anonymous telemetry is on by default)."""
    env = base_env()
    env.update(RUNTIME__DLTHUB_TELEMETRY="false", DLT_DATA_DIR=str(workdir / "dlt_home"))
    return env


def dagster_home(workdir: Path) -> Path:
    """A new, empty Dagster home in ``workdir`` with the repository's ``dagster.yaml``."""
    home = workdir / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return home


CONTENDERS: tuple[Contender, ...] = (
    Contender(
        key="pipeline",
        label="grafterr-pipeline",
        module=None,
        read=lambda out, dates: read_pipeline(out / "data", dates),
        setup="`grafterr-pipeline run` (Dagster in-process, one run for the range of dates); "
        "told the rate limit through `GRAFTERR_RATE_LIMIT`, as its README documents",
        workaround="none",
    ),
    Contender(
        key="dlt",
        label="dlt",
        module="bench.peers.dlt_orders",
        read=lambda out, dates: read_dlt(out, dates, CUTOFF),
        setup="`RESTClient` + `PageNumberPaginator(base_page=1, total_path='meta.total_pages')`,"
        " dlt's default retries, filesystem destination as Parquet, one `pipeline.run` per date",
        workaround="`OAuth2ClientCredentials` subclassed to send the token request as JSON (dlt "
        "posts a form), and a dlt requests session carrying `x-api-key` for that request",
    ),
    Contender(
        key="naive",
        label="requests + pandas",
        module="bench.peers.naive_orders",
        read=lambda out, dates: read_naive(out, dates, CUTOFF),
        setup="one token, a page loop, 3 tries with a 1 s pause on 429/5xx/dropped connection, "
        "`json_normalize` + `to_parquet`",
        workaround="none",
    ),
)
