"""``portique-hub user add`` and ``portique-hub console`` as a person runs them."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port
from syncworld import wait_until

from hub.cli import main
from hub.console.models import open_console
from hub.keys import init_keys
from hub.models import database_url, open_hub

HUB = [sys.executable, "-m", "hub"]


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def user_add(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """``portique-hub user add`` run in this process, the password on its standard input."""

    def run(data: Path, *args: str, password: str = "a long enough secret\n") -> Done:
        monkeypatch.setattr(sys, "stdin", io.StringIO(password))
        code = main(["user", "add", *args, "--data", str(data)])
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


def test_user_add_reads_the_password_from_stdin_and_stores_only_its_hash(
    tmp_path: Path, user_add: Any
) -> None:
    done = user_add(tmp_path, "marie", "--role", "manager", "--museum", "M042")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "account marie: manager of M042"
    cm = open_console(open_hub(database_url(tmp_path, None)))
    user = cm.user.get(cm.user.name == "marie")
    assert (user.role, user.museum) == ("manager", "M042")
    assert "a long enough secret" not in user.password_hash


def test_user_add_refuses_what_makes_no_account(tmp_path: Path, user_add: Any) -> None:
    cases = {
        ("bob", "--role", "manager"): "a museum manager needs --museum",
        ("bob", "--role", "admin", "--museum", "M1"): "sees every museum",
    }
    for args, message in cases.items():
        done = user_add(tmp_path, *args)
        assert done.returncode == 2 and message in done.stderr, done.stderr
    short = user_add(tmp_path, "bob", "--role", "viewer", "--museum", "M1", password="short\n")
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    assert user_add(tmp_path, "bob", "--role", "viewer", "--museum", "M1").returncode == 0
    again = user_add(tmp_path, "bob", "--role", "viewer", "--museum", "M1")
    assert again.returncode == 2 and "already an account 'bob'" in again.stderr


def test_the_console_command_serves_until_sigterm(tmp_path: Path) -> None:
    init_keys(tmp_path, 0.0)
    port = free_port()
    command = [*HUB, "console", "--data", str(tmp_path), "--listen", f"127.0.0.1:{port}",
               "--port", str(free_port())]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:

        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                    return page.status == 200 and b'name="password"' in page.read()
            except OSError:
                return process.poll() is not None  # stop waiting: it died

        wait_until(answers, "the console answers")
        assert process.poll() is None, process.stdout.read()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    assert (tmp_path / "console.secret").stat().st_mode & 0o077 == 0


def test_the_console_command_says_how_to_write_the_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["console", "--data", str(tmp_path), "--listen", "8080"]) == 2
    assert "give ADDRESS:PORT" in capsys.readouterr().err
