"""A throwaway PostgreSQL server on loopback for the tests, from the machine's own binaries.

`.ci/run` installs PostgreSQL from Debian's packages; here it is only found and started
(`initdb` into a temporary folder, `pg_ctl start` on a free port). When the binaries are
missing, `find_binaries()` says why and the PostgreSQL tests are skipped with that reason.
Set FIELDTALLY_TEST_POSTGRES_URL to use a server of your own instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

MISSING = (
    "PostgreSQL is not installed here (no initdb/pg_ctl on PATH or in /usr/lib/postgresql);"
    " `.ci/run` installs it with apt-get install postgresql"
)


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One server for the whole test run; each test gets a database of its own.

    Tests run it with fsync and full-page writes off (fast, nothing to keep). `durable=True`
    keeps PostgreSQL's durable defaults (fsync=on, synchronous_commit=on,
    full_page_writes=on), for benchmarks that should pay what a real deployment pays."""

    def __init__(self, binaries: Path, *, durable: bool = False) -> None:
        self._bin = binaries
        self.durable = durable
        self._dir = Path(tempfile.mkdtemp(prefix="fieldtally-pg-"))
        self.data = self._dir / "data"
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            user = "postgres" if _user_exists("postgres") else "nobody"
            self._as_user = ["runuser", "-u", user, "--"]
            shutil.chown(self._dir, user)
        self._dir.chmod(0o700)

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as_user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def start(self) -> None:
        self._run(
            str(self._bin / "initdb"), "-D", str(self.data), "-U", "fieldtally", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.start_again()

    def start_again(self) -> None:
        """Start the server on its data folder (after `crash` or `stop_fast`)."""
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self._dir}"
        options += " -c max_connections=200"
        if not self.durable:  # the tests keep nothing: skip the disk flushes
            options += " -c fsync=off -c full_page_writes=off"
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-w",
            "-l", str(self._dir / "server.log"), "start",
        )  # fmt: skip

    def crash(self) -> None:
        """Stop at once, as a `kill -9` of the server would (every connection cut)."""
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def stop_fast(self) -> None:
        """A clean `pg_ctl stop -m fast`: sessions are ended, the data is checkpointed."""
        self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop_and_remove(self) -> None:
        """Remove the server's folder (it is stopped already)."""
        shutil.rmtree(self._dir, ignore_errors=True)

    def stop(self) -> None:
        try:
            self._run(str(self._bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def admin_url(self) -> str:
        return f"postgresql://fieldtally@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        return new_database(self.admin_url)


def new_database(admin_url: str) -> str:
    """Create an empty database on the server of `admin_url`; its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
