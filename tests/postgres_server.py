"""A throwaway PostgreSQL cluster for the store's tests, from the machine's own PostgreSQL binaries.

`PostgresServer.start()` runs initdb in a fresh temporary folder and starts the server on a free port of
127.0.0.1 (trust authentication, no durability: it lives for one test session); `database()` creates an
empty database and returns its URL; `stop()` stops the server and removes the folder.

PostgreSQL refuses to run as root, and CI runs as root: then the binaries run as the `postgres` system user
that Debian's package creates (through `runuser`), in a folder that user owns. As anyone else they run as
that user. `find_bindir()` finds the binaries (Debian keeps them off PATH, under /usr/lib/postgresql/N/bin).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

START_TIMEOUT_S = 60  # pg_ctl polls until the server accepts connections, at most this long
PORT_ATTEMPTS = 3  # another program may take the free port between our probe and the server's bind
SERVER_USER = "postgres"  # the superuser role initdb creates, whoever runs it


def find_bindir() -> Path | None:
    """The folder of initdb and pg_ctl: PATH's, else the newest of Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return debian[-1].parent if debian else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, serving 127.0.0.1 until `stop()`."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = 0
        self._names = itertools.count(1)
        as_root = os.geteuid() == 0
        self._runas = ["runuser", "-u", SERVER_USER, "--"] if as_root else []
        self.root = Path(tempfile.mkdtemp(prefix="chatops-pg-"))  # not under pytest's 0700 folders
        if as_root:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._runas, *argv], capture_output=True, text=True, timeout=START_TIMEOUT_S + 30, check=False
        )

    def start(self) -> PostgresServer:
        initdb = self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", SERVER_USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr.strip()}")
        for _ in range(PORT_ATTEMPTS):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            started = self._run(
                str(self.bindir / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log),
                "-w", "-t", str(START_TIMEOUT_S), "-o", options,
            )  # fmt: skip
            if started.returncode == 0:
                return self
        log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr.strip()}\n{log}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database's URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)
