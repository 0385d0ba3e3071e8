"""A power cut at any moment of an apply leaves the previous list in force, intact.

A real process applies a real list file and is killed with SIGKILL at many
points spread over every step of the apply; each time, the survivor must
hold either the old list or the new one, whole and verifiable.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.gate.passes import PassState, PassType
from firmware.lists.manager import ListManager
from firmware.lists.publisher import Signer, build_delta, build_snapshot
from firmware.lists.verify import verify_file
from firmware.trust import TrustStore, certify, raw_public, read_public_key, write_public_key

NOW = 1_780_000_000.0
TYPES = {"solo": PassType("solo", 1, 5)}
HELPER = Path(__file__).with_name("apply_and_die.py")
POINTS = 16


def rows(count: int, state: str) -> list[tuple]:
    return [(f"04{i:012X}", f"{100000 + i}", f"ID{i}", "solo", state, None, None)
            for i in range(count)]  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, Signer]:
    root = Ed25519PrivateKey.generate()
    write_public_key(root, tmp_path / "root.pub")
    key = Ed25519PrivateKey.generate()
    signer = Signer(key, certify(root, raw_public(key.public_key()), ["list"], 0, NOW * 2))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    manager = open_manager(data_dir, tmp_path / "root.pub")
    manager.apply_bytes(build_snapshot(rows(300, "sold"), TYPES, 1, NOW, NOW + 1e6, signer), NOW)
    manager.close()
    return data_dir, tmp_path / "root.pub", signer


def open_manager(data_dir: Path, root: Path) -> ListManager:
    return ListManager(data_dir, TrustStore.open(read_public_key(root), data_dir / "trust.json"),
                       1 << 30)  # fmt: skip


def run_helper(
    data_dir: Path, root: Path, list_file: Path, kill_at: int
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HELPER), str(data_dir), str(root), str(list_file), str(kill_at),
         str(NOW)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def crash_everywhere(tmp_path: Path, world, new_list: bytes, check) -> set[int]:  # noqa: ANN001
    data_dir, root, _ = world
    list_file = tmp_path / "new.pql"
    list_file.write_bytes(new_list)
    # A dry run on a copy tells how many steps an apply takes.
    dry = tmp_path / "dry"
    subprocess.run(["cp", "-a", str(data_dir), str(dry)], check=True)
    done = run_helper(dry, root, list_file, 0)
    assert done.returncode == 0, done.stderr
    total = int(done.stdout)
    versions = set()
    for point in sorted({1 + (total - 1) * i // (POINTS - 1) for i in range(POINTS)}):
        trial = tmp_path / f"trial-{point}"
        subprocess.run(["cp", "-a", str(data_dir), str(trial)], check=True)
        killed = run_helper(trial, root, list_file, point)
        assert killed.returncode == -9, f"step {point} of {total}: {killed.stderr}"
        manager = open_manager(trial, root)
        try:
            versions.add(manager.version)
            check(manager)
            if manager.snapshot is not None:  # the snapshot in force verifies from scratch
                fresh = TrustStore.open(manager.trust.root, trial / "verify.json")
                verify_file(manager.snapshot.path, fresh, 0, NOW, 1 << 30)
        finally:
            manager.close()
    return versions


def test_killed_snapshot_apply_leaves_old_or_new_list_whole(tmp_path: Path, world) -> None:
    _, _, signer = world
    new = build_snapshot(rows(300, "active"), TYPES, 2, NOW, NOW + 1e6, signer)

    def check(manager: ListManager) -> None:
        expected = {1: PassState.SOLD, 2: PassState.ACTIVE}[manager.version]
        assert {manager.lookup(f"04{i:012X}").state for i in range(0, 300, 37)} == {expected}
        assert manager.count == 300

    assert crash_everywhere(tmp_path, world, new, check) == {1, 2}


def test_killed_delta_apply_leaves_old_or_new_list_whole(tmp_path: Path, world) -> None:
    _, _, signer = world
    new = build_delta(rows(200, "blocked"), TYPES, 1, 2, NOW, NOW + 1e6, signer)

    def check(manager: ListManager) -> None:
        expected = {1: PassState.SOLD, 2: PassState.BLOCKED}[manager.version]
        assert {manager.lookup(f"04{i:012X}").state for i in range(200)} == {expected}
        assert manager.lookup(f"04{250:012X}").state is PassState.SOLD

    assert crash_everywhere(tmp_path, world, new, check) == {1, 2}
