"""The screen on a real X server (Debian's Xvfb) that dies or comes late; the daemon as a process.

Xlib answers a lost connection with exit(1), which ended the gate mid-prompt;
now the loss is a DisplayFailed like any other: the held admission is settled
(the number shown, docs/architecture.md) and the gate keeps admitting; a
screen that could not start is tried again until it shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ACTIVE, FAMILY
from test_daemon import Daemon, export, tap, write_config
from test_daemon import demo_signed_list as demo_signed_list  # a fixture
from test_daemon import udp_reader as udp_reader  # a fixture

if shutil.which("Xvfb") is None:
    pytest.skip("needs Xvfb (Debian's xvfb, in provisioning/dev-setup.sh)", allow_module_level=True)

SCREEN = '[display]\nenabled = true\nfullscreen = false\nvideo_driver = "x11"\n'


class Xvfb:
    """An X server on a display number it picks itself (-displayfd)."""

    def __init__(self, display: str | None = None) -> None:
        options = ["-nolisten", "tcp", "-screen", "0", "800x480x24"]
        if display is not None:  # that number (the daemon keeps trying until it answers)
            self.proc = subprocess.Popen(["Xvfb", display, *options], stderr=subprocess.DEVNULL)
            self.display = display
            return
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), *options], pass_fds=(write,),
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write)
        with os.fdopen(read) as handle:  # written once the server accepts connections
            self.display = f":{handle.readline().strip()}"

    def kill(self) -> None:
        """A crash: SIGKILL (its lock file stays, that display number stays taken)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        """A clean stop, which frees the display number."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


@pytest.fixture
def xserver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Xvfb]:
    server = Xvfb()
    monkeypatch.setenv("DISPLAY", server.display)
    monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
    yield server
    server.kill()


def run(config: Path) -> Daemon:
    return Daemon(config, as_service=True)


def test_killing_the_x_server_leaves_the_gate_admitting(
    xserver: Xvfb, tmp_path: Path, demo_signed_list: Path, udp_reader: str
) -> None:
    config = write_config(tmp_path, demo_signed_list, udp_reader, tail=SCREEN)
    daemon = run(config)
    try:
        assert "x11" in daemon.wait_for("display up")
        assert tap(udp_reader, FAMILY).returncode == 0
        assert "ADMIT (ok)" in daemon.wait_for(f"tap chip {FAMILY}")  # at the tap, screen up
        xserver.kill()
        assert "X server" in daemon.wait_for("display failed")
        assert tap(udp_reader, ACTIVE).returncode == 0
        assert "ADMIT" in daemon.wait_for(f"tap chip {ACTIVE}")
        assert daemon.proc.poll() is None
        assert daemon.stop() == 0
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
    assert [(r["credential"], r["children"]) for r in export(config)] == [
        (FAMILY, "0"),
        (ACTIVE, "0"),
    ]


def test_a_screen_that_could_not_start_is_tried_again_until_it_shows(
    xserver: Xvfb, tmp_path: Path, demo_signed_list: Path, udp_reader: str
) -> None:
    display = xserver.display
    xserver.stop()  # nothing on that display yet (a clean stop frees the number)
    config = write_config(tmp_path, demo_signed_list, udp_reader, tail=SCREEN)
    daemon = run(config)
    later = None
    try:
        assert "could not start" in daemon.wait_for("display failed")
        later = Xvfb(display)  # the X server comes up late
        assert "x11" in daemon.wait_for("display up")
        assert daemon.stop() == 0
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
        if later is not None:
            later.stop()
