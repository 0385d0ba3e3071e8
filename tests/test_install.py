"""provisioning/install.sh puts every file in place, and a second run changes nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run_install(destdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ROOT / "provisioning" / "install.sh"), "--office-pub",
         str(ROOT / "provisioning" / "demo-keys" / "root.pub")],
        env={**os.environ, "DESTDIR": str(destdir), "SKIP_VENV": "1"}, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def tree(destdir: Path) -> dict[str, tuple[str, int]]:
    return {
        str(path.relative_to(destdir)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )  # fmt: skip
        for path in sorted(destdir.rglob("*"))
        if path.is_file()
    }


def test_install_places_units_rules_and_docs(tmp_path: Path) -> None:
    done = run_install(tmp_path)
    assert done.returncode == 0, done.stderr
    files = tree(tmp_path)
    for expected in ("etc/systemd/system/portique.service",
                     "etc/udev/rules.d/60-portique-reader.rules", "etc/portique/office.pub",
                     "opt/portique/docs/operations.md",
                     "opt/portique/provisioning/portique.example.toml"):  # fmt: skip
        assert expected in files, expected
    assert "would run: systemctl enable portique.service" in done.stdout


def test_a_second_run_changes_nothing(tmp_path: Path) -> None:
    assert run_install(tmp_path).returncode == 0
    before = tree(tmp_path)
    again = run_install(tmp_path)
    assert again.returncode == 0, again.stderr
    assert tree(tmp_path) == before
    assert "nothing to change" in again.stdout and "installed" not in again.stdout


def test_a_missing_argument_is_named_before_anything_changes(tmp_path: Path) -> None:
    for args, words in ((["--office-pub"], "--office-pub needs"),
                        (["--office-pub", str(tmp_path / "nowhere.pub")], "no such file"),
                        (["--postgres"], "--postgres is for a hub"),
                        (["--bogus"], "unknown option --bogus")):  # fmt: skip
        done = subprocess.run(["sh", str(ROOT / "provisioning" / "install.sh"), *args],
                              env={**os.environ, "DESTDIR": str(tmp_path / "root")},
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2 and words in done.stderr, (args, done.stderr)
        assert "parameter not set" not in done.stderr
        assert not (tmp_path / "root").exists()


def test_a_hub_gets_its_unit_and_secrets_folder_and_no_gate_parts(tmp_path: Path) -> None:
    done = subprocess.run(["sh", str(ROOT / "provisioning" / "install.sh"), "--hub"],
                          env={**os.environ, "DESTDIR": str(tmp_path), "SKIP_VENV": "1"},
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = tree(tmp_path)
    assert "etc/systemd/system/portique-hub.service" in files
    assert "etc/systemd/system/portique-console.service" in files
    assert "etc/systemd/system/portique.service" not in files
    assert "etc/udev/rules.d/60-portique-reader.rules" not in files
    assert (tmp_path / "etc" / "portique-hub").stat().st_mode & 0o777 == 0o750
    assert "useradd" in done.stdout and "portique-hub" in done.stdout


SOURCE = ("firmware", "hub", "provisioning", "pyproject.toml", "uv.lock", "README.md")


def install_program(source: Path, prefix: Path, extras: str) -> subprocess.CompletedProcess[str]:
    # uv itself comes from the checkout's .tools (make setup made it), not downloaded again.
    return subprocess.run(["sh", str(source / "provisioning" / "install-program.sh"), str(prefix),
                           extras], env={**os.environ, "TOOLS": str(ROOT / ".tools")},
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def test_a_hub_installs_from_the_lock_without_the_gates_libraries(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCE:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name)
    prefix = tmp_path / "opt"
    first = install_program(source, prefix, "hub")
    assert first.returncode == 0 and "installed" in first.stdout, first.stderr
    python = prefix / "bin" / "python"
    for gate_only in ("pygame", "nfc", "gpiozero"):
        found = subprocess.run([str(python), "-c", f"import {gate_only}"], capture_output=True)
        assert found.returncode != 0, f"{gate_only} is installed on a hub"
    versions = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"],
                              capture_output=True, text=True).stdout  # fmt: skip
    assert "peewee==" in versions and "paho-mqtt==" in versions
    hub = subprocess.run([str(prefix / "bin" / "portique-hub"), "init", "--data",
                          str(tmp_path / "hub"), "--root-key",
                          str(ROOT / "provisioning" / "demo-keys" / "root.key")],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert hub.returncode == 0, hub.stderr

    assert "unchanged" in install_program(source, prefix, "hub").stdout
    # The version number stays; the code changes: the program is installed again.
    changed = source / "hub" / "__init__.py"
    changed.write_text(changed.read_text() + "\n# a fix without a new version number\n")
    again = install_program(source, prefix, "hub")
    assert again.returncode == 0 and "installed" in again.stdout, again.stderr
    installed = next(prefix.glob("lib/python*/site-packages/hub/__init__.py"))
    assert "a fix without a new version number" in installed.read_text()
