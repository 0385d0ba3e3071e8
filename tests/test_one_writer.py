"""One daemon per data directory: with `portique run` up, a second run, provision,
deprovision and list install are refused, naming the daemon's PID, each tried as
a real second process. Once the daemon is gone (even killed), the lock is free."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_daemon import Daemon, demo_signed_list, udp_reader, write_config  # noqa: F401

from firmware.datalock import DataDirBusy, DataDirLock

PORTIQUE = [sys.executable, "-m", "firmware"]


def portique(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PORTIQUE, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def running(tmp_path: Path, demo_signed_list: Path, udp_reader: str) -> Iterator[Daemon]:  # noqa: F811
    started = Daemon(write_config(tmp_path, demo_signed_list, udp_reader))
    started.wait_for("running;")
    yield started
    if started.proc.poll() is None:
        started.proc.kill()
        started.proc.wait()


def test_every_second_writer_is_refused_while_the_daemon_runs_naming_its_pid(
    running: Daemon,
    tmp_path: Path,
    demo_signed_list: Path,  # noqa: F811 - a fixture
) -> None:
    config = str(tmp_path / "portique.toml")
    attempts = {
        "a second run": portique("run", "-c", config),
        "list install": portique("list", "install", str(demo_signed_list), "-c", config),
        "deprovision": portique("deprovision", "--force", "--export",
                                str(tmp_path / "kept.jsonl"), "-c", config),
        "provision": portique("provision", "--museum", "M1", "--gate", "G1", "--code", "AAAAA",
                              "--office-key", str(tmp_path / "office.pub"), "--data-dir",
                              str(tmp_path / "data"), "-c", str(tmp_path / "other.toml")),
    }  # fmt: skip
    for what, done in attempts.items():
        assert done.returncode != 0, what
        assert f"PID {running.proc.pid}" in done.stderr, (what, done.stderr)
        assert "Traceback" not in done.stderr, what
    # Nothing was wiped and the daemon still runs.
    assert (tmp_path / "data" / "journal.sqlite").exists() and Path(config).exists()
    assert running.proc.poll() is None
    assert running.stop() == 0


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib; from firmware.datalock import DataDirLock; "
         f"lock = DataDirLock(pathlib.Path({str(tmp_path / 'data')!r}), 'holder'); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirBusy) as caught:
            DataDirLock(tmp_path / "data", "test")
        assert caught.value.pid == holder.pid
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=20)
        with DataDirLock(tmp_path / "data", "test"), pytest.raises(DataDirBusy):
            DataDirLock(tmp_path / "data", "a second holder")
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
