"""The service on a Pi: the unit verifies, and a hung loop is restarted by the watchdog.

No systemd runs as PID 1 in the test machine, so ``Supervisor`` below plays
systemd's part of the notify protocol as systemd documents it: it owns the
``NOTIFY_SOCKET`` datagram socket, passes ``WATCHDOG_USEC``, waits for
``READY=1``, and when no ``WATCHDOG=1`` arrives within ``WatchdogSec`` sends
SIGABRT and starts the service again (``Restart=always``). The daemon's side
is the real one, over a real socket.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ACTIVE, FAMILY
from test_daemon import demo_signed_list, tap, udp_reader, write_config  # noqa: F401 - fixtures

ROOT = Path(__file__).parent.parent
WATCHDOG_S = 2.0


def verify_unit(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # The unit names /opt/portique/bin (install.sh's place); point it at this checkout's.
    local = tmp_path / unit.name
    bin_dir = Path(sys.executable).parent
    local.write_text(unit.read_text().replace("/opt/portique/bin/", f"{bin_dir}/"))
    return subprocess.run(["systemd-analyze", "verify", str(local)],
                          capture_output=True, text=True)  # fmt: skip


@pytest.mark.parametrize("unit", sorted((ROOT / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_units_verify(unit: Path, tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "systemd-analyze is installed by dev-setup.sh"
    done = verify_unit(unit, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == ""


# systemd-analyze security's scale: 0 is fully sandboxed, 10 is unprotected.
MAX_EXPOSURE = 2.0


def exposure(unit: Path, tmp_path: Path) -> float:
    local = tmp_path / unit.name
    bin_dir = Path(sys.executable).parent
    local.write_text(unit.read_text().replace("/opt/portique/bin/", f"{bin_dir}/"))
    command = ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(local)]
    done = subprocess.run(command, capture_output=True, text=True)
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


@pytest.mark.parametrize("unit", sorted((ROOT / "systemd").glob("*.service")), ids=lambda p: p.name)
def test_units_expose_little(unit: Path, tmp_path: Path) -> None:
    score = exposure(unit, tmp_path)
    assert score <= MAX_EXPOSURE, f"{unit.name} scores {score} (systemd-analyze security)"


def test_an_unhardened_unit_scores_above_the_limit(tmp_path: Path) -> None:
    bare = tmp_path / "bare" / "bare.service"
    bare.parent.mkdir()
    bare.write_text("[Service]\nExecStart=/bin/true\n")
    assert exposure(bare, tmp_path) > MAX_EXPOSURE


class Supervisor:
    """systemd's side of Type=notify with WatchdogSec, for one service."""

    def __init__(self, command: list[str], socket_path: Path) -> None:
        self.command = command
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(socket_path))
        self.env = {**os.environ, "NOTIFY_SOCKET": str(socket_path),
                    "WATCHDOG_USEC": str(int(WATCHDOG_S * 1_000_000))}  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, env=self.env, stderr=subprocess.DEVNULL)
        self.starts += 1

    def receive(self, timeout: float) -> set[str]:
        self.socket.settimeout(timeout)
        data = self.socket.recv(4096).decode()
        return set(data.split("\n"))

    def wait_ready(self) -> None:
        while "READY=1" not in self.receive(timeout=30):
            pass

    def watch(self, rounds: int) -> bool:
        """Follow the watchdog for ``rounds`` pings; False when one is missed (and restart)."""
        for _ in range(rounds):
            try:
                while "WATCHDOG=1" not in self.receive(timeout=WATCHDOG_S):
                    pass
            except TimeoutError:
                assert self.proc is not None
                self.proc.send_signal(signal.SIGABRT)  # what systemd does on a watchdog timeout
                self.proc.wait(timeout=30)
                self.start()
                return False
        return True

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.socket.close()
        return code


def test_a_hung_loop_is_restarted_by_the_watchdog(
    tmp_path: Path,
    demo_signed_list: Path,  # noqa: F811 - the fixture imported above
    udp_reader: str,  # noqa: F811 - the fixture imported above
) -> None:
    config = write_config(tmp_path, demo_signed_list, udp_reader)
    supervisor = Supervisor([sys.executable, "-m", "firmware", "run", "-c", str(config)],
                            tmp_path / "notify.sock")  # fmt: skip
    supervisor.start()
    try:
        supervisor.wait_ready()
        assert supervisor.watch(rounds=3)  # healthy: pings keep coming

        # Another process takes the journal's write lock and keeps it: the loop
        # blocks in its next commit, as it would on a stuck disk.
        blocker = sqlite3.connect(tmp_path / "data" / "journal.sqlite", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        tapped = subprocess.Popen([sys.executable, "-m", "firmware", "tap", ACTIVE,
                                   "--reader", udp_reader, "--hold", "2.5"])  # fmt: skip
        assert not supervisor.watch(rounds=20)  # a ping was missed: killed and started again
        tapped.wait(timeout=30)
        blocker.execute("ROLLBACK")
        blocker.close()

        supervisor.wait_ready()
        assert supervisor.starts == 2
        assert supervisor.watch(rounds=2)
        done = tap(udp_reader, FAMILY)  # the restarted gate admits again
        assert done.returncode == 0, done.stderr
    finally:
        assert supervisor.stop() == 0
    journal = sqlite3.connect(tmp_path / "data" / "journal.sqlite")
    rows = journal.execute("SELECT credential, admitted FROM record ORDER BY seq").fetchall()
    assert rows[-1] == (FAMILY, 1)
