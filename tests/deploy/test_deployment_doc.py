"""docs/deployment.md's walk-through works as written: every block run verbatim, in order.

Blocks are marked in the document by an HTML comment before them: ``env`` is prefixed to every
other block; ``setup``, ``check`` and ``stop`` run to completion; ``serve NAME`` runs in the
background like a terminal of its own and is stopped with SIGINT, as Ctrl-C would. The test
only chooses the values the ``${X:-default}`` lines leave open: free ports and a temporary
folder. Then it checks what the walk-through promises: the queued run succeeds through the
daemon and the history is in PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from tests.deploy.pg import PostgresMissing, find_bindir

# Six servers and a run start on a shared two-core machine: the fixture alone can take minutes.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "deployment.md"
_BLOCK = re.compile(r"<!-- doc-test: (\w+)(?: ([\w-]+))? -->\n```sh\n(.*?)```", re.S)
_PORTS = ("PG_PORT", "GRPC_PORT", "WEB_PORT", "SANDBOX_PORT", "RECEIVER1_PORT", "RECEIVER2_PORT")
_READY_TIMEOUT_S = 180
_RUN_TIMEOUT_S = 240


@dataclass(frozen=True)
class Block:
    kind: str
    name: str
    script: str


def blocks() -> list[Block]:
    """The marked blocks of the document, in order."""
    return [
        Block(kind, name or "", script) for kind, name, script in _BLOCK.findall(DOC.read_text())
    ]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _preconditions() -> None:
    reason = ""
    try:
        find_bindir()
    except PostgresMissing as err:
        reason = str(err)
    if not reason and os.geteuid() != 0:
        reason = "the walk-through runs PostgreSQL with runuser, which needs root"
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the deployment walk-through: {reason}")
    if reason:
        pytest.skip(reason)


class Walkthrough:
    """Runs the document's blocks with one environment; remembers the background ones."""

    def __init__(self, deploy: Path) -> None:
        self.deploy = deploy
        self.env_block = next(b.script for b in blocks() if b.kind == "env")
        ports = dict(zip(_PORTS, map(str, _free_ports(len(_PORTS))), strict=True))
        self.env = {**os.environ, **ports, "DEPLOY": str(deploy)}
        self.env.pop("DAGSTER_HOME", None)
        self.serving: dict[str, subprocess.Popen[bytes]] = {}

    def _argv(self, script: str) -> list[str]:
        return ["bash", "-euo", "pipefail", "-c", f"{self.env_block}\n{script}"]

    def run(self, block: Block) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._argv(block.script), cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip

    def must_run(self, block: Block) -> str:
        done = self.run(block)
        assert done.returncode == 0, f"{block.kind} failed:\n{block.script}\n{done.stderr}"
        return done.stdout

    def serve(self, block: Block) -> None:
        log = open(self.deploy / f"{block.name}.log", "wb")  # noqa: SIM115 -- the child keeps it
        self.serving[block.name] = subprocess.Popen(
            self._argv(f"exec {block.script}"), cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def check_until_ready(self, block: Block) -> str:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while True:
            self.assert_serving()
            done = self.run(block)
            if done.returncode == 0:
                return done.stdout
            if time.monotonic() > deadline:
                raise AssertionError(f"not ready in {_READY_TIMEOUT_S} s:\n{done.stderr}")
            time.sleep(2)

    def assert_serving(self) -> None:
        for name, process in self.serving.items():
            log = (self.deploy / f"{name}.log").read_text(errors="replace")
            assert process.poll() is None, f"{name} exited {process.returncode}:\n{log}"

    def stop_serving(self) -> dict[str, int | None]:
        for process in self.serving.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        codes: dict[str, int | None] = {}
        for name, process in self.serving.items():
            try:
                codes[name] = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait()
        return codes


@dataclass
class Outcome:
    walkthrough: Walkthrough
    checks: str
    runs: list[tuple[str, DagsterRunStatus]]
    inbox_rows: int
    exit_codes: dict[str, int | None]
    deploy_removed: bool


def _instance_env(walk: Walkthrough) -> dict[str, str]:
    password = (walk.deploy / "secrets" / "pg_password").read_text().strip()
    return {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": walk.env["PG_PORT"],
        "DAGSTER_PG_USER": "grafterr",
        "DAGSTER_PG_PASSWORD": password,
        "DAGSTER_PG_DB": "dagster",
    }


def _wait_for_run(walk: Walkthrough) -> list[tuple[str, DagsterRunStatus]]:
    """The job's runs once none is queued or running any more (or the timeout passed)."""
    deadline = time.monotonic() + _RUN_TIMEOUT_S
    with pytest.MonkeyPatch.context() as env:
        for name, value in _instance_env(walk).items():
            env.setenv(name, value)
        with DagsterInstance.from_config(str(walk.deploy / "dagster_home")) as instance:
            while True:
                runs = instance.get_runs(filters=RunsFilter(job_name="grafterr_orders_job"))
                found = [(r.tags.get("dagster/partition", ""), r.status) for r in runs]
                if (found and all(r.is_finished for r in runs)) or time.monotonic() > deadline:
                    return found
                time.sleep(2)


def _inbox_rows(walk: Walkthrough) -> int:
    script = (
        'PGPASSWORD=$DAGSTER_PG_PASSWORD psql -tA -h 127.0.0.1 -p "$PG_PORT" -U grafterr '
        "-d inbox -c 'SELECT count(*) FROM webhook_inbox.quarantine'"
    )
    return int(walk.must_run(Block("check", "", script)).strip())


@pytest.fixture(scope="module")
def outcome() -> Iterator[Outcome]:
    _preconditions()
    deploy = Path(tempfile.mkdtemp(prefix="grafterr-deploy-"))
    deploy.chmod(0o755)  # the postgres user must reach its folder inside
    walk = Walkthrough(deploy)
    try:
        checks, runs, rows, stop_blocks = _walk(walk)
    finally:
        exit_codes = walk.stop_serving()
    for block in stop_blocks:
        walk.must_run(block)
    removed = not deploy.exists()
    shutil.rmtree(deploy, ignore_errors=True)
    yield Outcome(walk, checks, runs, rows, exit_codes, removed)


def _walk(walk: Walkthrough) -> tuple[str, list[tuple[str, DagsterRunStatus]], int, list[Block]]:
    checks: list[str] = []
    stops: list[Block] = []
    ready = False
    for block in blocks():
        if block.kind == "setup":
            walk.must_run(block)
        elif block.kind == "serve":
            walk.serve(block)
        elif block.kind == "check":
            checks.append(walk.must_run(block) if ready else walk.check_until_ready(block))
            ready = True
        elif block.kind == "stop":
            stops.append(block)
    runs = _wait_for_run(walk)
    return "\n".join(checks), runs, _inbox_rows(walk), stops


def test_every_piece_answers_its_check(outcome: Outcome) -> None:
    checks = outcome.checks

    assert "dagster_webserver_version" in checks
    assert checks.count('{"status":"ok"}') == 2
    assert '{"status":"quarantined"}' in checks


def test_the_queued_run_is_started_by_the_daemon_and_succeeds(outcome: Outcome) -> None:
    ours = [status for partition, status in outcome.runs if partition == "2026-11-18"]

    assert ours, f"no run of 2026-11-18 in the history: {outcome.runs}"
    assert set(ours) == {DagsterRunStatus.SUCCESS}


def test_a_delivery_to_a_receiver_lands_in_the_postgres_inbox(outcome: Outcome) -> None:
    assert outcome.inbox_rows == 1


def test_receivers_stop_cleanly_and_the_stop_block_removes_everything(outcome: Outcome) -> None:
    codes = outcome.exit_codes

    assert codes["receiver-1"] == codes["receiver-2"] == 0
    assert outcome.deploy_removed
