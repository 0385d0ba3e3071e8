"""A real PostgreSQL server for the hub's tests: started once per test session.

Debian's ``postgresql`` package (provisioning/dev-setup.sh installs it) gives
the server binaries; the tests make a cluster of their own in a temporary
folder, listening on a free loopback port only, and each test that asks for
PostgreSQL gets a fresh database in it. The server refuses to run as root, so
under root (CI) it runs as the ``postgres`` system user.

A test chooses its database with the ``db_kind`` fixture (``sqlite`` unless
parametrized): ``@both_databases`` runs it on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port

both_databases = pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"])
# The sync suite: every test of these files that runs a hub runs it on both databases.
SYNC_SUITE = ("test_sync", "test_batch2", "test_hub_workers", "test_bridge")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the sync suite's hub tests on SQLite and PostgreSQL, as ``@both_databases``."""
    if not metafunc.module.__name__.startswith(SYNC_SUITE):
        return
    if "db_url" not in metafunc.fixturenames:
        return  # no hub database in this test (units, a gate alone)
    chosen = any("db_kind" in str(mark.args[0])
                 for mark in metafunc.definition.iter_markers("parametrize"))  # fmt: skip
    if not chosen:
        metafunc.parametrize("db_kind", ["sqlite", "postgresql"])


START_WAIT_S = 60


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is missing: run `make setup` (installs postgresql)")
    return found[-1]


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portique-pg-"))
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # postgres refuses root: run it as its own system user
            account = pwd.getpwnam("postgres")
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._names = itertools.count(1)

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as, *command], capture_output=True, text=True,
                              timeout=START_WAIT_S)  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")

    def start(self) -> PostgresServer:
        data = str(self.dir / "data")
        self._run(_bin("initdb"), "-D", data, "-U", "portique", "-A", "trust", "--no-sync",
                  "-E", "UTF8", "--locale", "C")  # fmt: skip
        # Loopback only, no Unix socket outside our folder; fsync off: the tests kill
        # hub processes, never this server, so durability on disk is not what they check.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                   "-c fsync=off -c full_page_writes=off -c max_connections=200")  # fmt: skip
        self._run(_bin("pg_ctl"), "-D", data, "-o", options, "-l", str(self.dir / "log"),
                  "-w", "-t", str(START_WAIT_S), "start")  # fmt: skip
        return self

    def stop(self) -> None:
        data = str(self.dir / "data")
        try:
            self._run(_bin("pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://portique@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of ``template`` (which nobody may be connected to)."""
        import psycopg

        name = f"hub_{os.getpid()}_{next(self._names)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def db_kind() -> str:
    """The hub's database for this test; ``@both_databases`` runs a test on each."""
    return "sqlite"


@pytest.fixture
def db_url(db_kind: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database's URL, or None for the hub's SQLite file."""
    if db_kind == "sqlite":
        yield None
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)
