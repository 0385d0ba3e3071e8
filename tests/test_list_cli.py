"""The list commands a technician and the central office run, as the README shows them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import DEMO_DAY

from firmware.demo import NAMED, write_demo, write_demo_list

PORTIQUE = [sys.executable, "-m", "firmware"]


def portique(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PORTIQUE, *args], capture_output=True, text=True, timeout=60)


KEYS = Path(__file__).parent.parent / "provisioning" / "demo-keys"


def test_keys_build_verify_and_revoke_from_the_command_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    assert portique("keys", "new-root", "--out", str(keys)).returncode == 0
    done = portique("keys", "certify", "--root-key", str(keys / "root.key"), "--out", str(keys),
                    "--purposes", "list")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert oct((keys / "signing.key").stat().st_mode & 0o777) == "0o600"
    passes, types = write_demo(tmp_path / "csv", DEMO_DAY, filler=20)
    out = tmp_path / "list.pql"
    done = portique("list", "build", "--passes", str(passes), "--types", str(types),
                    "--version", "7", "--key", str(keys / "signing.key"),
                    "--cert", str(keys / "signing.cert.json"), "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = portique("list", "verify", str(out), "--root", str(keys / "root.pub"))
    assert done.returncode == 0, done.stderr
    assert "valid snapshot" in done.stdout
    assert f"passes         {len(NAMED) + 20}" in done.stdout

    key_id = (keys / "signing.cert.json").read_text().split('"key_id": "')[1][:16]
    revoked = tmp_path / "revoked.json"
    done = portique("keys", "revoke", "--root-key", str(keys / "root.key"), "--version", "1",
                    "--out", str(revoked), key_id)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = portique("list", "build", "--passes", str(passes), "--types", str(types),
                    "--version", "8", "--key", str(keys / "signing.key"),
                    "--cert", str(keys / "signing.cert.json"), "--revocations", str(revoked),
                    "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = portique("list", "verify", str(out), "--root", str(keys / "root.pub"))
    assert done.returncode == 1 and "refused (revoked_key)" in done.stderr


def test_a_bad_row_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    keys = KEYS
    passes, types = write_demo(tmp_path, DEMO_DAY, filler=3)
    with open(passes, "a") as handle:
        handle.write("04ZZ,999,ID999,solo,active,2026-01-01,2026-12-31\n")
    done = portique("list", "build", "--passes", str(passes), "--types", str(types),
                    "--version", "1", "--key", str(keys / "signing.key"),
                    "--cert", str(keys / "signing.cert.json"),
                    "--out", str(tmp_path / "x"))  # fmt: skip
    assert done.returncode == 1
    bad_line = len(passes.read_text().splitlines())
    assert f"{passes}:{bad_line}: serial '04ZZ' is not hexadecimal" in done.stderr


def test_install_refuses_a_demo_list_on_a_provisioned_gate(tmp_path: Path) -> None:
    keys = KEYS
    passes, types = write_demo(tmp_path, DEMO_DAY, filler=3)
    signed = write_demo_list(passes, types, keys, tmp_path / "demo.pql", 1_780_000_000.0)
    config = tmp_path / "portique.toml"
    config.write_text(f'[gate]\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[lists]\nroot_key = "{keys / "root.pub"}"\n')  # fmt: skip
    done = portique("list", "install", str(signed), "-c", str(config))
    assert done.returncode == 1 and "refused (demo_key)" in done.stderr
