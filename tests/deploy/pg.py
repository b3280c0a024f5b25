"""A throwaway PostgreSQL server from Debian's packages, on loopback, in a temporary folder.

::

    with PostgresServer.start() as pg:
        url = pg.create_database("dagster")

The server listens on ``127.0.0.1`` only, on a free port, with its Unix socket in its own
folder; it requires a password (SCRAM) as a production server would. PostgreSQL refuses to
run as root, so a root caller runs every binary as the ``postgres`` user that Debian's package
creates, in a folder that user owns. Stopping the server removes the folder.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

__all__ = ["PostgresMissing", "PostgresServer", "find_bindir"]

logger = logging.getLogger(__name__)

SUPERUSER = "grafterr"
_SERVICE_USER = "postgres"
_START_TIMEOUT_S = 60
_PORT_ATTEMPTS = 3


class PostgresMissing(RuntimeError):
    """Debian's PostgreSQL server binaries are not installed."""


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<ver>/bin`` holding ``initdb`` and ``pg_ctl``."""
    found = [
        Path(d)
        for d in glob.glob("/usr/lib/postgresql/*/bin")
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()
    ]
    if not found:
        raise PostgresMissing(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
            "run `apt-get install -y postgresql` (as root) to install Debian's"
        )
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class _Runner:
    """Runs the server's binaries as the user allowed to: ourselves, or ``postgres`` if root."""

    bindir: Path
    as_service_user: bool

    def command(self, name: str, *args: str) -> list[str]:
        argv = [str(self.bindir / name), *args]
        return ["runuser", "-u", _SERVICE_USER, "--", *argv] if self.as_service_user else argv

    def run(self, name: str, *args: str) -> None:
        done = subprocess.run(self.command(name, *args), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}): {done.stderr or done.stdout}")


class PostgresServer:
    """One running PostgreSQL cluster; use :meth:`start` and stop it with ``with`` or
    :meth:`stop`."""

    def __init__(self, root: Path, runner: _Runner, password: str) -> None:
        self.root = root
        self.runner = runner
        self.password = password
        self.host = "127.0.0.1"
        self.port = 0
        self.user = SUPERUSER

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        return self.root / "data"

    @classmethod
    def start(cls) -> PostgresServer:
        """Create a cluster in a new temporary folder and start it on a free loopback port."""
        root = Path(tempfile.mkdtemp(prefix="grafterr-pg-"))
        runner = _Runner(find_bindir(), as_service_user=os.geteuid() == 0)
        server = cls(root, runner, secrets.token_urlsafe(24))
        try:
            server._init()
            server._listen()
        except BaseException:
            server.stop()
            raise
        return server

    def _init(self) -> None:
        (self.root / "socket").mkdir()
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.runner.as_service_user:
            service = pwd.getpwnam(_SERVICE_USER)
            for path in (self.root, self.root / "socket", pwfile):
                os.chown(path, service.pw_uid, service.pw_gid)
        self.runner.run(
            "initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()

    def _listen(self) -> None:
        # A free port can be taken between our probe and the server's bind: try a few.
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = _free_port()
            options = (
                f"-c listen_addresses={self.host} -p {self.port} "
                f"-c unix_socket_directories={self.root / 'socket'}"
            )
            try:
                self.runner.run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                    "-o", options, "-w", "-t", str(_START_TIMEOUT_S), "start",
                )  # fmt: skip
                logger.info("PostgreSQL listening on %s:%d in %s", self.host, self.port, self.root)
                return
            except RuntimeError:
                if attempt == _PORT_ATTEMPTS:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.server_log()}") from None

    def server_log(self) -> str:
        """What the server wrote to its log so far."""
        log = self.root / "server.log"
        return log.read_text(errors="replace") if log.exists() else "(no log)"

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for ``database``, password included."""
        auth = f"{quote(self.user)}:{quote(self.password, safe='')}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(database)}"

    def connect(self, database: str = "postgres") -> psycopg2.extensions.connection:
        """A new connection to ``database``."""
        return psycopg2.connect(self.url(database))

    def create_database(self, name: str) -> str:
        """Create ``name`` and return its URL."""
        conn = self.connect()
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with conn.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.url(name)

    def stop(self) -> None:
        """Stop the server, if running, and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            try:
                self.runner.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError as err:
                logger.warning("PostgreSQL did not stop cleanly: %s", err)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
