"""Access codes from the central office, checked offline with real Ed25519 keys."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware import access
from firmware.access import AccessCodeError, Lockout, check, issue
from firmware.trust import raw_public

NOW = 1_780_000_000.0
OFFICE = Ed25519PrivateKey.generate()
OFFICE_PUBLIC = raw_public(OFFICE.public_key())


def code_for(museum="M042", gate="nord-1", role="technician", expires_at=NOW + 7 * 86400) -> str:
    return issue(OFFICE, museum, gate, role, expires_at)


def refused(text: str, museum="M042", gate="nord-1", now=NOW, used=None) -> str:  # noqa: ANN001
    with pytest.raises(AccessCodeError) as caught:
        check(text, OFFICE_PUBLIC, museum, gate, now, used or set())
    return caught.value.code


def test_a_code_opens_its_own_museum_gate_and_role() -> None:
    text = code_for(role="cash")
    opened = check(text, OFFICE_PUBLIC, "M042", "nord-1", NOW, set())
    assert (opened.museum, opened.gate, opened.role) == ("M042", "nord-1", "cash")
    assert opened.expires_at <= NOW + 7 * 86400


def test_a_code_is_short_enough_to_type_in_groups() -> None:
    groups = code_for().split("-")
    assert len(groups) == 24 and all(len(g) == 5 for g in groups[:-1])


def test_typing_mistakes_that_are_not_ambiguous_are_forgiven() -> None:
    text = code_for().lower().replace("-", " ")
    assert check(text, OFFICE_PUBLIC, "M042", "nord-1", NOW, set()).role == "technician"


def test_a_code_for_another_gate_is_refused() -> None:
    assert refused(code_for(gate="sud-2")) == "wrong_code"
    assert refused(code_for(museum="M043")) == "wrong_code"


def test_a_code_signed_by_another_office_key_is_refused() -> None:
    forged = issue(Ed25519PrivateKey.generate(), "M042", "nord-1", "technician", NOW + 60)
    assert refused(forged) == "wrong_code"


def test_an_expired_code_is_refused() -> None:
    text = code_for(expires_at=NOW + 600)
    assert check(text, OFFICE_PUBLIC, "M042", "nord-1", NOW + 540, set())
    assert refused(text, now=NOW + 660) == "expired"


def test_a_code_is_used_once_per_gate() -> None:
    text = code_for()
    used: set[int] = set()
    used.add(check(text, OFFICE_PUBLIC, "M042", "nord-1", NOW, used).nonce)
    assert refused(text, used=used) == "used"


@pytest.mark.parametrize("text", ["", "ABCDE-FGHIJ", "!!!!!-?????", code_for()[:-7]])
def test_garbled_codes_are_refused_as_malformed(text: str) -> None:
    assert refused(text) == "malformed"


def test_wrong_codes_lock_out_with_growing_delays() -> None:
    lockout = Lockout()
    delays = [lockout.failed(NOW) for _ in range(6)]
    assert delays == [0.0, 0.0, 0.0, 30.0, 60.0, 120.0]
    assert lockout.wait_s(NOW + 100) == 20.0
    assert lockout.wait_s(NOW + 121) == 0.0
    for _ in range(20):
        lockout.failed(NOW)
    assert lockout.wait_s(NOW) == 3600.0  # never longer than an hour
    lockout.succeeded()
    assert lockout.wait_s(NOW) == 0.0


def test_the_qr_form_reads_back_as_the_code_the_gate_accepts(tmp_path: Path) -> None:
    """`portique-hub access-code issue --qr`: what the counter's scanner reads opens the gate."""
    import subprocess
    import sys

    from firmware.trust import generate_private_key, read_public_key, write_public_key

    key = generate_private_key(tmp_path / "office.key")
    write_public_key(key, tmp_path / "office.pub")
    image = tmp_path / "code.png"
    done = subprocess.run(
        [sys.executable, "-m", "hub", "access-code", "issue", "--museum", "M1", "--gate", "G1",
         "--office-key", str(tmp_path / "office.key"), "--qr", str(image),
         "--data", str(tmp_path / "hub")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip()
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
    assert scanned == access.normalise(printed) and "-" not in scanned
    opened = access.check(scanned, read_public_key(tmp_path / "office.pub"), "M1", "G1",
                          time.time(), set())  # fmt: skip
    assert opened.role == "technician"
