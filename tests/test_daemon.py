"""The daemon as a process: `portique run`, `portique tap` through nfcpy's udp
driver, SIGTERM, and the messages a technician sees for bad input."""

from __future__ import annotations

import csv
import io
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ACTIVE, DEMO_KEYS, EXPIRED, FAMILY, SOLD, free_port

from firmware.clock import SystemClock
from firmware.demo import write_demo, write_demo_list

PORTIQUE = [sys.executable, "-m", "firmware"]
WAIT_S = 20  # an upper bound for a process to say something, never a timing assertion


class Daemon:
    """`portique run` in a subprocess, its log lines read into a queue.

    ``as_service`` starts it as systemd does: in a new session, without a
    controlling terminal, stdin from /dev/null.
    """

    def __init__(self, config: Path, as_service: bool = False) -> None:
        self.proc = subprocess.Popen(
            [*PORTIQUE, "run", "--config", str(config)],
            stdin=subprocess.DEVNULL if as_service else None,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=as_service,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        while True:
            try:
                line = self.lines.get(timeout=WAIT_S)
            except queue.Empty:
                log = "".join(self.log)
                raise AssertionError(f"daemon never logged {text!r}; log:\n{log}") from None
            self.log.append(line)
            if text in line:
                return line

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=WAIT_S)


def write_config(tmp_path: Path, signed_list: Path, reader: str, **extra: str) -> Path:
    path = tmp_path / "portique.toml"
    path.write_text(
        f"""
[gate]
museum = "M1"
gate = "G1"
data_dir = "{tmp_path / "data"}"
[reader]
path = "{reader}"
retry_initial_s = 0.2
[gpio]
pin_factory = "mock"
[status]
runtime_dir = "{tmp_path / "run"}"
[lists]
root_key = "{DEMO_KEYS / "root.pub"}"
allow_demo_keys = true
install_at_start = "{signed_list}"
{extra.get("tail", "")}
"""
    )
    return path


@pytest.fixture
def demo_signed_list(tmp_path: Path) -> Path:
    """The demo list for today: the daemon runs on the system clock."""
    now = SystemClock().wall()
    passes, types = write_demo(tmp_path / "demo", datetime.fromtimestamp(now).date(), filler=50)
    return write_demo_list(passes, types, DEMO_KEYS, tmp_path / "demo" / "list.pql", now)


@pytest.fixture
def udp_reader() -> str:
    return f"udp:127.0.0.1:{free_port(socket.SOCK_DGRAM)}"


@pytest.fixture
def daemon(tmp_path: Path, demo_signed_list: Path, udp_reader: str) -> Iterator[Daemon]:
    running = Daemon(write_config(tmp_path, demo_signed_list, udp_reader))
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


def tap(reader: str, serial: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PORTIQUE, "tap", serial, "--reader", reader, "--hold", "2.5"],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )


def export(config: Path) -> list[dict[str, str]]:
    done = subprocess.run(
        [*PORTIQUE, "journal", "export", "--csv", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    return list(csv.DictReader(io.StringIO(done.stdout)))


def test_tapped_cards_are_admitted_activated_refused_and_journaled(
    daemon: Daemon, udp_reader: str, tmp_path: Path
) -> None:
    daemon.wait_for("running")
    for serial, expected in ((ACTIVE, "ADMIT (ok)"), (SOLD, "ADMIT (activated)"),
                             (EXPIRED, "REFUSE (expired)")):  # fmt: skip
        done = tap(udp_reader, serial)
        assert done.returncode == 0, done.stderr
        assert expected in daemon.wait_for(f"tap chip {serial}")
    assert daemon.stop() == 0
    daemon.wait_for("gate stopped: relay in safe state")

    rows = export(tmp_path / "portique.toml")
    assert [(r["credential"], r["reason"], r["admitted"]) for r in rows] == [
        (ACTIVE, "ok", "1"),
        (SOLD, "activated", "1"),
        (EXPIRED, "expired", "0"),
    ]
    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert {r["time_trusted"] for r in rows} == {"1"}  # the system clock is right here


def test_sigterm_puts_the_relay_in_its_safe_state_and_exits_cleanly(daemon: Daemon) -> None:
    daemon.wait_for("running")
    assert daemon.stop() == 0
    daemon.wait_for("gate stopped: relay in safe state, journal and reader closed")


def test_missing_reader_is_reported_and_the_daemon_keeps_running(
    tmp_path: Path, demo_signed_list: Path
) -> None:
    config = write_config(tmp_path, demo_signed_list, "tty:PORTIQUENONE0:pn532")
    running = Daemon(config)
    try:
        running.wait_for("running")
        line = running.wait_for("reader down")
        assert "tty:PORTIQUENONE0:pn532" in line
        assert running.proc.poll() is None  # it retries by itself, and staff can still admit
        assert running.stop() == 0
    finally:
        if running.proc.poll() is None:
            running.proc.kill()


def test_config_typo_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "portique.toml"
    config.write_text("[reader]\npoll_intervall_ms = 20\n")
    done = subprocess.run([*PORTIQUE, "run", "-c", str(config)], capture_output=True, text=True)
    assert done.returncode == 2
    assert str(config) in done.stderr
    assert "poll_intervall_ms" in done.stderr and "did you mean 'poll_interval_ms'" in done.stderr


def test_corrupt_journal_exits_1_and_says_what_to_do(
    tmp_path: Path, demo_signed_list: Path, udp_reader: str
) -> None:
    config = write_config(tmp_path, demo_signed_list, udp_reader)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "journal.sqlite").write_bytes(b"\x00garbage" * 512)
    done = subprocess.run([*PORTIQUE, "run", "-c", str(config)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "journal.sqlite is damaged" in done.stderr and "move it aside" in done.stderr


def test_a_tampered_list_stops_the_start_naming_the_check(
    tmp_path: Path, demo_signed_list: Path, udp_reader: str
) -> None:
    data = bytearray(demo_signed_list.read_bytes())
    data[-5] ^= 0x01  # one bit of one pass flipped
    demo_signed_list.write_bytes(bytes(data))
    config = write_config(tmp_path, demo_signed_list, udp_reader)
    done = subprocess.run([*PORTIQUE, "run", "-c", str(config)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "hash_mismatch" in done.stderr and str(demo_signed_list) in done.stderr


def test_tap_refuses_a_serial_that_is_not_hex(udp_reader: str) -> None:
    done = tap(udp_reader, "04:A1:ZZ")
    assert done.returncode == 2
    assert "04:A1:ZZ" in done.stderr


def test_a_screen_that_cannot_start_is_logged_and_the_gate_still_admits(
    tmp_path: Path, demo_signed_list: Path, udp_reader: str, monkeypatch
) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "nosuchdriver")
    config = write_config(tmp_path, demo_signed_list, udp_reader,
                          tail="[display]\nenabled = true\nfullscreen = false\n")  # fmt: skip
    running = Daemon(config)
    try:
        line = running.wait_for("display failed")  # handled once the loop runs
        assert "could not start" in line and "without a screen" in line
        done = tap(udp_reader, FAMILY)
        assert done.returncode == 0, done.stderr
        assert "ADMIT (ok)" in running.wait_for(f"tap chip {FAMILY}")
        assert running.stop() == 0
    finally:
        if running.proc.poll() is None:
            running.proc.kill()
    assert [r["children"] for r in export(config)] == ["0"]
