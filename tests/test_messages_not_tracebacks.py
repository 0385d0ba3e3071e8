"""What a person sees when the machine is not as expected: one message, never a traceback."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEMO_KEYS, World

from firmware.app import JOURNAL_FILE

PORTIQUE = [sys.executable, "-m", "firmware"]


def write_config(path: Path, data_dir: Path, **sections: str) -> Path:
    text = (
        f'[gate]\ndata_dir = "{data_dir}"\n'
        '[reader]\npath = "udp:127.0.0.1:9"\n'
        f'[gpio]\npin_factory = "{sections.get("pin_factory", "mock")}"\n'
        f'[lists]\nroot_key = "{DEMO_KEYS / "root.pub"}"\nallow_demo_keys = true\n'
        + sections.get("lists", "")
    )
    path.write_text(text)
    tomllib.loads(text)  # a broken test config would hide what is being tested
    return path


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PORTIQUE, *args], capture_output=True, text=True, timeout=timeout)


def assert_one_message(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.mark.skipif(importlib.util.find_spec("lgpio") is not None, reason="lgpio is installed")
def test_lgpio_without_its_library_says_what_to_install(tmp_path: Path) -> None:
    config = write_config(tmp_path / "gate.toml", tmp_path / "data", pin_factory="lgpio")
    done = run("run", "-c", str(config))
    assert_one_message(done, 'pin_factory = "lgpio"', "python3-lgpio", '"mock"')


@pytest.mark.skipif(Path("/proc/device-tree/model").exists(), reason="this machine has a board")
def test_a_pi_pin_factory_off_a_pi_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path / "gate.toml", tmp_path / "data", pin_factory="native")
    done = run("run", "-c", str(config))
    assert_one_message(done, 'pin_factory = "native"', "Raspberry Pi")


@pytest.fixture
def journal_of_200_records(make_world, tmp_path: Path) -> Path:
    world: World = make_world()
    for index in range(200):
        world.tap(f"DEAD{index:06X}")
    world.gate.close()
    return tmp_path / "data" / JOURNAL_FILE


def damage_a_data_page(journal: Path) -> bytes:
    """Overwrite one page in the middle of the file (records, not the header)."""
    data = bytearray(journal.read_bytes())
    pages = len(data) // 4096
    assert pages > 8, "the journal should span many pages"
    middle = pages // 2 * 4096
    data[middle : middle + 4096] = b"\xff" * 4096
    journal.write_bytes(bytes(data))
    return bytes(data)


@pytest.mark.parametrize(
    "command", [["run"], ["journal", "export", "--csv"], ["journal", "verify"]]
)
def test_a_damaged_data_page_is_named_and_left_untouched(
    journal_of_200_records: Path, tmp_path: Path, command: list[str]
) -> None:
    damaged = damage_a_data_page(journal_of_200_records)
    config = write_config(tmp_path / "gate.toml", journal_of_200_records.parent)
    done = run(*command, "-c", str(config))
    assert_one_message(done, str(journal_of_200_records), "damaged", "move it aside")
    assert journal_of_200_records.read_bytes() == damaged


def test_an_export_piped_into_head_ends_with_one_line(
    journal_of_200_records: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "gate.toml", journal_of_200_records.parent)
    command = [*PORTIQUE, "journal", "export", "--csv", "-c", str(config)]
    pipe = subprocess.PIPE
    export = subprocess.Popen(command, stdout=pipe, stderr=pipe, text=True)
    assert export.stdout is not None and export.stderr is not None
    fcntl.fcntl(export.stdout, fcntl.F_SETPIPE_SZ, 4096)  # smaller than the export
    assert export.stdout.readline().startswith("seq,uuid")
    export.stdout.close()  # what `head -1` does once it has its line
    stderr = export.stderr.read()
    assert export.wait(timeout=60) != 0
    assert "Traceback" not in stderr and "broken pipe" in stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, callable]]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted: list[bool] = []

    def resize(size_kb: int) -> Path:
        if mounted:
            subprocess.run(["umount", str(mount_point)], check=True)
            mounted.clear()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs",
                               str(mount_point)], capture_output=True, text=True)  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
        mounted.append(True)
        return mount_point

    yield mount_point, resize
    if mounted:
        subprocess.run(["umount", str(mount_point)], check=False)


def test_a_full_disk_at_first_start_is_named_at_every_step(
    small_disk, demo_signed_list: Path, tmp_path: Path
) -> None:
    _, resize = small_disk
    outcomes = set()
    # From too small for the journal, through the list state and the list's copy,
    # to big enough: each size fails at another step of the first start.
    for size_kb in range(32, 512, 64):
        disk = resize(size_kb)
        lists = f'install_at_start = "{demo_signed_list}"\n'
        config = write_config(tmp_path / "gate.toml", disk / "data", lists=lists)
        daemon = subprocess.Popen([*PORTIQUE, "run", "-c", str(config)],
                                  stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert daemon.stderr is not None
        lines = []
        for line in daemon.stderr:
            lines.append(line)
            if " running; " in line:  # started: stop it as systemd would
                daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        stderr = "".join(lines)
        assert "Traceback" not in stderr, f"{size_kb} KiB: {stderr}"
        if code == 0:
            outcomes.add("started")
            continue
        assert "the disk is full" in stderr and "Free space" in stderr, f"{size_kb} KiB: {stderr}"
        outcomes.add(stderr.split("cannot start: ")[1].split(" ")[0])
    assert {"journal", "list", "installing", "started"} <= outcomes, outcomes


def test_status_does_not_load_the_reader_or_the_screen(tmp_path: Path) -> None:
    config = write_config(tmp_path / "gate.toml", tmp_path / "data")
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([*PORTIQUE, "status", "-c", str(config)],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "firmware.cli" in imported, done.stderr[-2000:]
    assert not imported & {"nfc", "pygame", "gpiozero"}
