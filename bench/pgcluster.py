"""A throwaway PostgreSQL cluster for the benchmark, on a free loopback port.

The same recipe as the tests' server (tests/pgserver.py): Debian's server
binaries, a cluster in a folder of its own, run as ``postgres`` under root.
Unlike the tests, fsync stays on: the figures are of a database that keeps
what it acknowledges.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from hub.devbroker import free_port

WAIT_S = 60


class PgCluster:
    def __init__(self) -> None:
        # Under /tmp: the postgres account may not be able to reach the working tree.
        self.dir, self.port = Path(tempfile.mkdtemp(prefix="portique-bench-pg-")), free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.dir, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, name: str, *args: str) -> None:
        binary = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1]
        subprocess.run([*self._as, binary, *args], check=True, capture_output=True,
                       timeout=WAIT_S)  # fmt: skip

    def start(self) -> PgCluster:
        data = str(self.dir / "data")
        self._run("initdb", "-D", data, "-U", "portique", "-A", "trust", "-E", "UTF8",
                  "--locale", "C")  # fmt: skip
        self._run("pg_ctl", "-D", data, "-l", str(self.dir / "log"), "-w", "-o",
                  f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
                  "-c max_connections=100", "start")  # fmt: skip
        return self

    def create(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql://portique@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
