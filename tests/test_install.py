"""provisioning/install.sh puts every file in place, and a second run changes nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent


def run_install(destdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ROOT / "provisioning" / "install.sh"), "--office-pub",
         str(ROOT / "provisioning" / "demo-keys" / "root.pub")],
        env={**os.environ, "DESTDIR": str(destdir)}, capture_output=True, text=True, timeout=60,
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
                     "etc/systemd/system/portique-hub.service",
                     "etc/systemd/system/portique-console.service",
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
