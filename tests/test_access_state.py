"""One try of an access code: the state shared by `portique provision` and the kiosk,
on a real journal file and a real state file, with real Ed25519 keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware import access
from firmware.access import AccessCodeError
from firmware.access_state import ACCESS_STATE, Door, attempt
from firmware.clock import Now
from firmware.journal.journal import Journal
from firmware.trust import write_public_key

NOW = 1_780_000_000.0


@pytest.fixture
def office(tmp_path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    write_public_key(key, tmp_path / "office.pub")
    return key


@pytest.fixture
def door(tmp_path: Path) -> Door:
    return Door("M1", "G1", tmp_path / "data", tmp_path / "office.pub")


@pytest.fixture
def journal(door: Door) -> Iterator[Journal]:
    door.data_dir.mkdir(parents=True)
    opened = Journal.open(door.data_dir / "journal.sqlite")
    yield opened
    opened.close()


def at(wall: float) -> Now:
    return Now(wall=wall, monotonic=wall - NOW, trusted=True)


def try_code(door: Door, journal: Journal, text: str, wall: float = NOW) -> access.AccessCode:
    return attempt(door, text, at(wall), journal.append, opened="staff_session")


def refusal(door: Door, journal: Journal, text: str, wall: float = NOW) -> AccessCodeError:
    with pytest.raises(AccessCodeError) as caught:
        try_code(door, journal, text, wall)
    return caught.value


def rows(journal: Journal) -> list[tuple]:
    return [(r.kind, r.admitted, r.reason, r.operator, r.credential) for r in journal.records()]


def test_a_good_code_is_recorded_with_its_role_and_first_group(door, journal, office) -> None:
    text = access.issue(office, "M1", "G1", "cash", NOW + 600)
    assert try_code(door, journal, text).role == "cash"
    assert rows(journal) == [("access_code", True, "staff_session", "cash", text[:5])]


def test_a_used_code_is_refused_with_its_proven_role(door, journal, office) -> None:
    text = access.issue(office, "M1", "G1", "technician", NOW + 600)
    try_code(door, journal, text)
    assert refusal(door, journal, text.lower()).code == "used"
    assert rows(journal)[-1][2:4] == ("used", "technician")


def test_wrong_codes_lock_out_in_the_shared_file_and_are_recorded(door, journal, office) -> None:
    wrong = access.issue(office, "M1", "G2", "technician", NOW + 600)
    waits = [refusal(door, journal, wrong).wait_s for _ in range(4)]
    assert waits == [0.0, 0.0, 0.0, 30.0]
    state = json.loads((door.data_dir / ACCESS_STATE).read_text())
    assert (state["failures"], state["locked_until"]) == (4, NOW + 30)
    good = access.issue(office, "M1", "G1", "technician", NOW + 600)
    locked = refusal(door, journal, good, NOW + 10)
    assert (locked.code, locked.wait_s) == ("locked", 20.0)
    assert [r[2:4] for r in rows(journal)] == [("wrong_code", None)] * 4  # locked: not tried
    assert try_code(door, journal, good, NOW + 30).role == "technician"


def test_a_missing_office_key_refuses_every_code_naming_the_file(door, journal, office) -> None:
    door.office_key.unlink()
    refused = refusal(door, journal, access.issue(office, "M1", "G1", "cash", NOW + 600))
    assert refused.code == "no_office_key" and str(door.office_key) in str(refused)
    assert rows(journal) == []


def test_a_role_refused_here_counts_as_a_wrong_code(door, journal, office) -> None:
    text = access.issue(office, "M1", "G1", "cash", NOW + 600)
    with pytest.raises(AccessCodeError, match="not here") as caught:
        attempt(door, text, at(NOW), journal.append, "provisioned", {"cash": "not here"})
    assert caught.value.code == "wrong_role"
    assert rows(journal)[-1][1:3] == (False, "wrong_role")


# -- failing closed -------------------------------------------------------------------------


def test_an_emptied_state_file_does_not_make_a_used_code_work_again(door, journal, office) -> None:
    text = access.issue(office, "M1", "G1", "technician", NOW + 600)
    try_code(door, journal, text)
    (door.data_dir / ACCESS_STATE).write_text("")
    assert refusal(door, journal, text).code == "state_damaged"
    assert "move" in str(refusal(door, journal, text))


def test_a_deleted_state_file_is_rebuilt_from_the_journal(door, journal, office) -> None:
    used = access.issue(office, "M1", "G1", "technician", NOW + 600)
    try_code(door, journal, used)
    wrong = access.issue(office, "M1", "G2", "technician", NOW + 600)
    for _ in range(4):
        refusal(door, journal, wrong)
    (door.data_dir / ACCESS_STATE).unlink()  # or moved aside after damage
    locked = refusal(door, journal, used, NOW + 10)
    assert (locked.code, locked.wait_s) == ("locked", 20.0)  # the lockout survived
    assert refusal(door, journal, used, NOW + 30).code == "used"  # and the used code


def test_a_damaged_state_file_refuses_every_code_until_moved_aside(door, journal, office) -> None:
    door.data_dir.mkdir(exist_ok=True)
    (door.data_dir / ACCESS_STATE).write_text('{"failures": "many"}')
    good = access.issue(office, "M1", "G1", "technician", NOW + 600)
    refused = refusal(door, journal, good)
    assert refused.code == "state_damaged" and str(door.data_dir / ACCESS_STATE) in str(refused)
    (door.data_dir / ACCESS_STATE).rename(door.data_dir / "access.json.damaged")
    assert try_code(door, journal, good).role == "technician"


def test_checking_a_code_does_not_use_it_up(door, journal, office) -> None:
    from firmware.access_state import check, consume

    text = access.issue(office, "M1", "G1", "technician", NOW + 600)
    code = check(door, text, at(NOW), journal.append)
    assert check(door, text, at(NOW), journal.append) == code  # still good
    consume(door, text, code, at(NOW), journal.append, "provisioned")
    assert refusal(door, journal, text).code == "used"
    state = json.loads((door.data_dir / ACCESS_STATE).read_text())
    assert state["used"] == [code.nonce]
