"""Provisioning a gate with an access code, enrolling it at the hub, and taking it down."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases
from syncworld import Hub, Mosquitto, wait_until

from firmware import access, config
from firmware.trust import generate_private_key, key_id, read_public_key, write_public_key
from hub.keys import OFFICE_PUBLIC

ROOT_PUB = Path(__file__).parent.parent / "provisioning" / "demo-keys" / "root.pub"


@pytest.fixture
def office(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = generate_private_key(tmp_path / "office.key")
    write_public_key(key, tmp_path / "office.pub")
    return key, tmp_path / "office.pub"


def code_for(office_key: Ed25519PrivateKey, gate: str = "G1", role: str = "technician") -> str:
    return access.issue(office_key, "M1", gate, role, time.time() + 3600)


def provision(
    tmp_path: Path, office_pub: Path, code: str, *extra: str
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "firmware", "provision", "--museum", "M1", "--gate", "G1",
         "--code", code, "--office-key", str(office_pub), "--root-key", str(ROOT_PUB),
         "--data-dir", str(tmp_path / "data"), "--pin-factory", "mock",
         "-c", str(tmp_path / "etc" / "portique.toml"), *extra],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def journal_rows(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "data" / "journal.sqlite") as con:
        return con.execute("SELECT kind, admitted, reason FROM record ORDER BY seq").fetchall()


def test_a_good_code_sets_the_gate_up(tmp_path: Path, office) -> None:
    key, office_pub = office
    done = provision(tmp_path, office_pub, code_for(key))
    assert done.returncode == 0, done.stderr
    settings = config.load(tmp_path / "etc" / "portique.toml")
    assert (settings.gate.museum, settings.gate.gate) == ("M1", "G1")
    assert settings.lists.root_key == tmp_path / "etc" / "root.pub"
    assert read_public_key(settings.lists.root_key) == read_public_key(ROOT_PUB)
    private = tmp_path / "data" / "gate.key"
    assert private.stat().st_mode & 0o777 == 0o600
    assert journal_rows(tmp_path) == [("access_code", 1, "provisioned")]
    assert "portique-hub gate add --museum M1 --gate G1" in done.stdout


def test_a_code_for_another_gate_is_refused_and_journaled(tmp_path: Path, office) -> None:
    key, office_pub = office
    done = provision(tmp_path, office_pub, code_for(key, gate="G2"))
    assert done.returncode == 1 and "not issued for museum M1, gate G1" in done.stderr
    assert journal_rows(tmp_path) == [("access_code", 0, "wrong_code")]
    assert not (tmp_path / "etc" / "portique.toml").exists()


def test_wrong_codes_lock_out_and_a_code_is_used_once(tmp_path: Path, office) -> None:
    key, office_pub = office
    good = code_for(key)
    assert provision(tmp_path, office_pub, good).returncode == 0
    again = provision(tmp_path, office_pub, good)
    assert again.returncode == 1 and "already been used" in again.stderr
    for _ in range(3):
        provision(tmp_path, office_pub, code_for(key, gate="G9"))
    locked = provision(tmp_path, office_pub, code_for(key))
    assert locked.returncode == 1 and "too many wrong codes" in locked.stderr
    reasons = [reason for _, _, reason in journal_rows(tmp_path)]
    assert reasons == ["provisioned", "used", "wrong_code", "wrong_code", "wrong_code"]


def test_a_cash_code_cannot_set_a_gate_up(tmp_path: Path, office) -> None:
    key, office_pub = office
    done = provision(tmp_path, office_pub, code_for(key, role="cash"))
    assert done.returncode == 1 and "cash mode" in done.stderr


@both_databases
def test_the_gate_announces_its_key_and_the_hub_enrols_it(
    tmp_path: Path, office, broker: Mosquitto, hub: Hub
) -> None:
    key, office_pub = office
    (hub.dir / OFFICE_PUBLIC).write_bytes(office_pub.read_bytes())
    done = provision(tmp_path, office_pub, code_for(key), "--broker",
                     f"127.0.0.1:{broker.port}", "--no-tls")  # fmt: skip
    assert done.returncode == 0, done.stderr
    public = read_public_key(tmp_path / "data" / "gate.pub")
    g = hub.m.gate_key
    wait_until(lambda: g.get_or_none(g.museum == "M1", g.gate == "G1") is not None, "enrolled")
    assert g.get(g.museum == "M1", g.gate == "G1").key_id == key_id(public)


def test_a_replayed_enrolment_cannot_replace_the_key(
    tmp_path: Path, office, broker: Mosquitto, hub: Hub
) -> None:
    from firmware.sync.enrol import announce

    key, office_pub = office
    (hub.dir / OFFICE_PUBLIC).write_bytes(office_pub.read_bytes())
    code = code_for(key)
    assert provision(tmp_path, office_pub, code, "--broker", f"127.0.0.1:{broker.port}",
                     "--no-tls").returncode == 0  # fmt: skip
    g = hub.m.gate_key
    wait_until(lambda: g.get_or_none(g.museum == "M1", g.gate == "G1") is not None, "enrolled")
    first = g.get(g.museum == "M1", g.gate == "G1").key_id
    intruder = Ed25519PrivateKey.generate()
    settings = config.from_dict({"sync": {"port": broker.port}}).sync
    handled = hub.service.handled
    assert announce(settings, "M1", "G1", intruder, "x" * 16, code, time.time()) is None
    wait_until(lambda: hub.service.handled > handled, "enrolment handled")
    assert g.get(g.museum == "M1", g.gate == "G1").key_id == first


def deprovision(tmp_path: Path, *extra: str) -> CompletedProcess:
    return subprocess.run([sys.executable, "-m", "firmware", "deprovision",
                           "-c", str(tmp_path / "etc" / "portique.toml"), *extra],
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_deprovision_keeps_unacknowledged_records(tmp_path: Path, office) -> None:
    key, office_pub = office
    assert provision(tmp_path, office_pub, code_for(key)).returncode == 0
    refused = deprovision(tmp_path)
    assert (
        refused.returncode == 1 and "1 record(s) from seq 1 are not acknowledged" in refused.stderr
    )
    assert deprovision(tmp_path, "--force").returncode == 2
    export = tmp_path / "kept.jsonl"
    done = deprovision(tmp_path, "--force", "--export", str(export))
    assert done.returncode == 0, done.stderr
    kept = [json.loads(line) for line in export.read_text().splitlines()]
    assert [(r["seq"], r["reason"]) for r in kept] == [(1, "provisioned")]
    assert not (tmp_path / "data" / "gate.key").exists()
    assert not (tmp_path / "data" / "journal.sqlite").exists()
    assert not (tmp_path / "etc" / "portique.toml").exists()


# -- a code is used up only by a provisioning that succeeded ----------------------------------


def test_a_typo_in_the_root_key_does_not_burn_the_code(tmp_path: Path, office) -> None:
    key, office_pub = office
    code = code_for(key)
    typo = subprocess.run(
        [sys.executable, "-m", "firmware", "provision", "--museum", "M1", "--gate", "G1",
         "--code", code, "--office-key", str(office_pub), "--root-key",
         str(tmp_path / "rot.pub"), "--data-dir", str(tmp_path / "data"),
         "--pin-factory", "mock", "-c", str(tmp_path / "etc" / "portique.toml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert typo.returncode == 1 and "rot.pub" in typo.stderr and "Traceback" not in typo.stderr
    done = provision(tmp_path, office_pub, code)
    assert done.returncode == 0, done.stderr
    assert journal_rows(tmp_path) == [("access_code", 1, "provisioned")]


def test_an_unwritable_config_folder_does_not_burn_the_code(tmp_path: Path, office) -> None:
    key, office_pub = office
    code = code_for(key)
    (tmp_path / "etc").write_text("a file where the folder should be")
    blocked = provision(tmp_path, office_pub, code)
    assert blocked.returncode == 1 and "not writable" in blocked.stderr
    (tmp_path / "etc").unlink()
    assert provision(tmp_path, office_pub, code).returncode == 0


def test_an_unreachable_broker_does_not_burn_the_code(tmp_path: Path, office) -> None:
    from conftest import free_port

    key, office_pub = office
    code = code_for(key)
    away = provision(tmp_path, office_pub, code, "--broker", f"127.0.0.1:{free_port()}",
                     "--no-tls")  # fmt: skip
    assert away.returncode == 1 and "unreachable" in away.stderr, away.stderr
    assert "still good" in away.stderr
    assert provision(tmp_path, office_pub, code).returncode == 0


def test_a_gate_enrols_at_a_broker_with_accounts_on_the_first_try(tmp_path: Path, office) -> None:
    key, office_pub = office
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "M1/G1", "g1-secret"],
                   check=True)  # fmt: skip
    secured = Mosquitto(tmp_path / "broker", anonymous=False,
                        extra=f"password_file {passwd}\n").start()  # fmt: skip
    try:
        secret = tmp_path / "broker.password"
        secret.write_text("wrong\n")
        refused = provision(tmp_path, office_pub, code := code_for(key), "--broker",
                            f"127.0.0.1:{secured.port}", "--no-tls", "--username", "M1/G1",
                            "--password-file", str(secret))  # fmt: skip
        assert refused.returncode == 1 and "refused the connection" in refused.stderr
        secret.write_text("g1-secret\n")
        login = ("--broker", f"127.0.0.1:{secured.port}", "--no-tls", "--username", "M1/G1",
                 "--password-file", str(secret))  # fmt: skip
        done = provision(tmp_path, office_pub, code, *login)
        assert done.returncode == 0, done.stderr
        settings = config.load(tmp_path / "etc" / "portique.toml")
        assert settings.sync is not None and settings.sync.password_file == secret
    finally:
        secured.stop()
