"""Staff accounts, PINs, roles and the staff functions run by the loop.

The screen's events are posted to the loop directly here; tests/test_kiosk.py
drives the same functions through the screen.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from conftest import ACTIVE, EXPIRED, FAMILY, SINGLE, World, paris

from firmware.app import STAFF_FILE
from firmware.events import (
    ChildrenChosen,
    FiguresRequest,
    ForceEntry,
    PaperPass,
    PassInfoRequest,
    StaffActive,
    StaffDoor,
    StaffLogin,
    StaffLogout,
    StatusRequest,
    TypedPassNumber,
)
from firmware.gate.figures import Figures
from firmware.gate.staff import (
    LoginPace,
    PinGuard,
    Role,
    StaffError,
    StaffMember,
    hash_pin,
    load_staff,
    save_staff,
    verify_pin,
)
from firmware.gate.views import (
    LoginRefused,
    PassInfo,
    StaffRoster,
    StaffSession,
    StatusView,
)

CHEAP = 2**4  # scrypt cost for tests only; the command uses the real one


def add_staff(world: World) -> Path:
    path = world.gate.settings.gate.data_dir / STAFF_FILE
    save_staff(path, {
        "Marie": StaffMember("Marie", Role.CONTROLE, hash_pin("1234", n=CHEAP)),
        "Jonas": StaffMember("Jonas", Role.CAISSE, hash_pin("5678", n=CHEAP)),
    })  # fmt: skip
    return path


class Staffed:
    """A world with two staff accounts and the views the loop published."""

    def __init__(self, world: World) -> None:
        self.world, self.loop = world, world.loop
        self.views: list[object] = []
        world.gate.on_view.append(self.views.append)
        add_staff(world)

    def send(self, event: object) -> object:
        self.loop.handle(event)
        return self.views[-1] if self.views else None

    def login(self, name: str, pin: str) -> object:
        return self.send(StaffLogin(name, pin))


@pytest.fixture
def staffed(world: World) -> Staffed:
    return Staffed(world)


# -- accounts and PINs -------------------------------------------------------------------


def test_pin_is_stored_as_a_salted_scrypt_hash(tmp_path: Path) -> None:
    first, second = hash_pin("1234", n=CHEAP), hash_pin("1234", n=CHEAP)
    assert first.startswith("scrypt$16$8$1$") and "1234" not in first
    assert first != second  # a salt of its own
    assert verify_pin("1234", first) and not verify_pin("1235", first)
    assert not verify_pin("1234", "plain$1234")


def test_staff_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "staff.toml"
    members = {'Zoé "Z"': StaffMember('Zoé "Z"', Role.STOCK, hash_pin("0000", n=CHEAP))}
    save_staff(path, members)
    assert load_staff(path) == members
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_broken_staff_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "staff.toml"
    path.write_text('[[staff]]\nname = "A"\nrole = "boss"\npin = "x"\n')
    with pytest.raises(StaffError, match=f"{path}: account 1 needs name, role"):
        load_staff(path)


def test_an_access_codes_role_is_no_accounts_role(tmp_path: Path) -> None:
    path = tmp_path / "staff.toml"
    path.write_text('[[staff]]\nname = "A"\nrole = "technician"\npin = "x"\n')
    with pytest.raises(StaffError, match="role \\(controle, caisse, stock\\)"):
        load_staff(path)


def test_wrong_pins_lock_the_pad_for_growing_delays() -> None:
    guard = PinGuard()
    assert [guard.failed(100.0) for _ in range(5)] == [0.0, 0.0, 30.0, 60.0, 120.0]
    assert guard.locked_for(219.0) == 1.0
    guard.succeeded()
    assert guard.locked_for(100.0) == 0.0 and guard.failures == 0


def test_lock_never_exceeds_fifteen_minutes() -> None:
    guard = PinGuard()
    for _ in range(20):
        locked = guard.failed(0.0)
    assert locked == 900.0


# -- sessions --------------------------------------------------------------------------


def test_door_says_whether_anyone_can_log_in_but_never_who(staffed: Staffed) -> None:
    answer = staffed.send(StaffDoor())
    assert answer == StaffRoster(accounts=True, locked_for_s=0.0)
    assert "Marie" not in repr(answer) and "Jonas" not in repr(answer)


def test_door_of_a_gate_without_accounts_says_so(world: World) -> None:
    views: list[object] = []
    world.gate.on_view.append(views.append)
    world.loop.handle(StaffDoor())
    assert views[-1] == StaffRoster(accounts=False, locked_for_s=0.0)


def test_a_typed_name_finds_its_account_without_case_or_accents(staffed: Staffed) -> None:
    path = staffed.world.gate.settings.gate.data_dir / STAFF_FILE
    members = load_staff(path)
    members["Marie-Hélène"] = StaffMember("Marie-Hélène", Role.STOCK, hash_pin("2468", n=CHEAP))
    save_staff(path, members)
    assert staffed.login("  MARIE-HELENE ", "2468").name == "Marie-Hélène"


def test_any_number_of_accounts_can_log_in(staffed: Staffed) -> None:
    path = staffed.world.gate.settings.gate.data_dir / STAFF_FILE
    members = {f"Guide {n:02d}": StaffMember(f"Guide {n:02d}", Role.CONTROLE,
                                             hash_pin(f"{1000 + n}", n=CHEAP))
               for n in range(30)}  # fmt: skip
    save_staff(path, members)
    assert staffed.login("guide 29", "1029").name == "Guide 29"


def test_login_with_the_right_pin_opens_a_session_with_the_roles_functions(
    staffed: Staffed,
) -> None:
    session = staffed.login("Marie", "1234")
    assert session == StaffSession("Marie", "controle", frozenset({"entries", "status"}))
    # Caisse (seed): entries, sales, renewals, statistics; the gate's figures and status too.
    assert staffed.login("Jonas", "5678").functions == {
        "entries", "figures", "status", "sales", "renewals", "statistics"}  # fmt: skip


def test_third_wrong_pin_locks_that_account_and_refuses_even_its_right_pin(
    staffed: Staffed,
) -> None:
    assert staffed.login("Marie", "0000") == LoginRefused("Marie", 0.0)
    assert staffed.login("Marie", "0001") == LoginRefused("Marie", 0.0)
    assert staffed.login("Marie", "1111") == LoginRefused("Marie", 30.0)
    staffed.world.advance(29)
    assert staffed.login("Marie", "1234") == LoginRefused("Marie", 1.0)
    staffed.world.advance(1)
    assert staffed.login("Marie", "1234").name == "Marie"


def test_a_locked_account_does_not_lock_the_others(staffed: Staffed) -> None:
    for pin in ("0000", "0001", "0002"):
        staffed.login("Marie", pin)
    staffed.world.advance(LoginPace.PAUSE_S)  # the screen's own pause, not Marie's lock
    assert staffed.login("Jonas", "5678").name == "Jonas"
    assert staffed.world.gate.desk.guards["Marie"].locked_for(staffed.world.clock.monotonic())


def test_a_visitor_mashing_the_keypad_cannot_lock_every_account(staffed: Staffed) -> None:
    """Unknown names and wrong PINs slow the screen by a few seconds, and lock nobody."""
    for attempt in range(40):
        staffed.login(f"Visitor{attempt}", f"{attempt:04d}")
        staffed.world.advance(1)
    refused = staffed.login("Marie", "1234")
    assert isinstance(refused, LoginRefused) and refused.locked_for_s <= LoginPace.PAUSE_S
    staffed.world.advance(LoginPace.PAUSE_S)
    assert staffed.login("Marie", "1234").name == "Marie"


def test_unknown_name_and_wrong_pin_get_the_same_answer(staffed: Staffed) -> None:
    assert staffed.login("Mallory", "1234") == LoginRefused("Mallory", 0.0)
    assert staffed.login("Marie", "9999") == LoginRefused("Marie", 0.0)
    assert staffed.world.gate.desk.pace.failures == 2
    assert "Mallory" not in staffed.world.gate.desk.guards  # no account, nothing to lock


def test_idle_staff_are_logged_out(make_world) -> None:
    staffed = Staffed(make_world(display={"idle_logout_s": 60}))
    staffed.login("Marie", "1234")
    staffed.world.advance(40)
    staffed.send(StaffActive())
    staffed.world.advance(40)
    assert staffed.views[-1].name == "Marie"
    staffed.world.advance(21)
    assert staffed.views[-1] == StaffSession()


def test_logout_ends_the_session(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    assert staffed.send(StaffLogout()) == StaffSession()
    staffed.send(ForceEntry("other"))
    assert staffed.world.journal.last_seq == 0


# -- entries ---------------------------------------------------------------------------


def test_forced_entry_is_journaled_with_operator_and_reason(staffed: Staffed) -> None:
    world = staffed.world
    world.tap(EXPIRED)
    world.advance(5)
    staffed.login("Marie", "1234")
    outcome = staffed.send(ForceEntry("sale_not_finalised", "chip", EXPIRED))
    record = world.last()
    assert (record.reason, record.operator, record.detail) == (
        "forced", "Marie", "sale_not_finalised")  # fmt: skip
    assert record.admitted and record.credential == EXPIRED and world.relay_on
    assert outcome.admitted and outcome.operator == "Marie"


def test_forced_entry_without_a_valid_reason_is_refused(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    staffed.send(ForceEntry(""))
    staffed.send(ForceEntry("because"))
    assert staffed.world.journal.last_seq == 0


def test_forced_entry_without_a_session_is_refused(staffed: Staffed) -> None:
    assert staffed.send(ForceEntry("other")) == StaffSession()
    assert staffed.world.journal.last_seq == 0


def test_typed_pass_number_is_decided_like_a_tap(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    outcome = staffed.send(TypedPassNumber(" 100008 "))
    record = staffed.world.last()
    assert (record.credential_kind, record.credential, record.pass_number) == (
        "number", "100008", "100008")  # fmt: skip
    assert (record.reason, record.operator) == ("ok", "Marie")
    assert outcome.admitted and outcome.persons == 1


def test_typed_unknown_number_is_refused(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    staffed.send(TypedPassNumber("999999"))
    assert staffed.world.last().reason == "unknown_pass"


def test_typed_family_number_carries_its_children_and_opens_at_once(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    outcome = staffed.send(TypedPassNumber("100007", children=2))
    assert (staffed.world.last().children, outcome.persons) == (2, 4)  # two holders
    assert staffed.world.relay_on


def test_paper_pass_entry_carries_children(make_world) -> None:
    staffed = Staffed(make_world(rules={"paper_pass_last_day": date(2027, 3, 31)}))
    staffed.login("Marie", "1234")
    outcome = staffed.send(PaperPass("12345", children=3))
    record = staffed.world.last()
    assert (record.reason, record.credential_kind, record.children) == ("paper_pass", "paper", 3)
    assert outcome.admitted and outcome.persons == 4


def test_paper_pass_children_are_capped_at_five(make_world) -> None:
    staffed = Staffed(make_world(rules={"paper_pass_last_day": date(2027, 3, 31)}))
    staffed.login("Marie", "1234")
    staffed.send(PaperPass("12345", children=9))
    assert staffed.world.last().children == 5


def test_old_paper_pass_is_refused_since_april_2023_with_operator(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    outcome = staffed.send(PaperPass("12345"))
    record = staffed.world.last()
    assert (record.reason, record.credential_kind, record.operator) == (
        "paper_pass_withdrawn", "paper", "Marie")  # fmt: skip
    assert outcome.valid_until.isoformat() == "2023-03-31"


def test_pass_information_for_a_refused_pass(staffed: Staffed) -> None:
    staffed.world.tap(EXPIRED)
    staffed.login("Marie", "1234")
    info = staffed.send(PassInfoRequest("chip", EXPIRED))
    assert isinstance(info, PassInfo) and info.found
    assert (info.pass_number, info.state, info.pass_type) == ("100003", "active", "solo")
    assert info.valid_until.isoformat() == "2026-04-30"
    assert info.renewal_possible
    missing = staffed.send(PassInfoRequest("number", "424242"))
    assert missing == PassInfo("number", "424242", found=False)


# -- figures and status ----------------------------------------------------------------


def test_controle_may_not_see_figures(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    assert staffed.send(FiguresRequest()).name == "Marie"  # answered with the session only


def test_todays_figures_count_the_journal(make_world) -> None:
    world = make_world(wall=paris(2026, 6, 1, 9, 30))
    staffed = Staffed(world)
    world.tap(SINGLE)
    world.advance(3600)  # 10:30
    world.loop.handle(ChildrenChosen(2))
    world.tap(FAMILY)
    world.tap(EXPIRED)
    world.tap("DEADBEEF")
    world.tap(SINGLE)  # billed earlier today: admitted again, not billable
    staffed.login("Jonas", "5678")
    staffed.send(ForceEntry("other"))
    figures = staffed.send(FiguresRequest())
    assert isinstance(figures, Figures)
    assert (figures.entries, figures.children, figures.billable, figures.forced) == (4, 2, 3, 1)
    assert dict(figures.refusals) == {"expired": 1, "unknown_pass": 1}
    assert figures.by_hour[9] == 1 and figures.by_hour[10] == 3
    assert figures.people == 7  # the family pass: two holders and two children


def test_status_shows_list_version_and_no_sync_yet(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    status = staffed.send(StatusRequest())
    assert isinstance(status, StatusView)
    assert status.list_version == staffed.world.gate.store.version
    assert (status.journal_last_seq, status.time_trusted) == (0, True)
    assert status.sync.broker_connected is None and status.sync.backlog is None
    assert not status.stale  # the demo list was written when the gate started


def test_status_is_stale_when_the_list_is_past_its_signed_expiry(make_world) -> None:
    expires = paris(2026, 6, 1, 6) + 60 * 86400  # the demo list: issued 1 June, 60 days
    staffed = Staffed(make_world(wall=expires + 3600))
    staffed.login("Marie", "1234")
    status = staffed.send(StatusRequest())
    assert status.stale and status.list_freshness == "stale"
    assert status.list_age_s == 60 * 86400 + 3600


# -- the command -----------------------------------------------------------------------


def staff_command(tmp_path: Path, *args: str, pin: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "portique.toml"
    config.write_text(f'[gate]\ndata_dir = "{tmp_path / "data"}"\n')
    return subprocess.run(
        [sys.executable, "-m", "firmware", "staff", *args, "-c", str(config)],
        input=f"{pin}\n", capture_output=True, text=True,
    )  # fmt: skip


def test_staff_add_reads_the_pin_from_stdin_and_stores_only_a_hash(tmp_path: Path) -> None:
    done = staff_command(tmp_path, "add", "Léa", "--role", "caisse", pin="246810")
    assert done.returncode == 0, done.stderr
    staff_file = tmp_path / "data" / STAFF_FILE
    assert "246810" not in staff_file.read_text()
    member = load_staff(staff_file)["Léa"]
    assert member.role is Role.CAISSE and verify_pin("246810", member.pin_hash)
    listed = staff_command(tmp_path, "list")
    assert listed.stdout == "Léa\tcaisse\n"


def test_staff_add_refuses_a_short_pin(tmp_path: Path) -> None:
    done = staff_command(tmp_path, "add", "Léa", "--role", "stock", pin="12")
    assert done.returncode == 2
    assert "4 to 8 digits" in done.stderr


def test_staff_remove_names_a_member_it_does_not_know(tmp_path: Path) -> None:
    done = staff_command(tmp_path, "remove", "Nobody")
    assert done.returncode == 1 and "no staff member 'Nobody'" in done.stderr


def test_active_pass_still_works_while_staff_are_logged_in(staffed: Staffed) -> None:
    staffed.login("Marie", "1234")
    staffed.world.tap(ACTIVE)
    assert staffed.world.relay_on
