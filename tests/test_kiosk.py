"""The screen driven as a person would: real pygame events (touches, keys) into the
kiosk, the gate's loop answering, and assertions on what follows: journal
records, the relay, the screen shown. SDL's dummy driver, ManualClock, no sleeps.
"""

from __future__ import annotations

import dataclasses
import io
import queue
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pygame
import pytest
from conftest import ACTIVE, ENDING_SOON, EXPIRED, FAMILY, SINGLE, World, paris
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_reader import Bench, Presenter, bench, next_tap, udp_path  # noqa: F401 - fixtures
from test_staff import add_staff

from firmware import access, provision
from firmware.display.draw import Text
from firmware.display.i18n import words
from firmware.display.kiosk import Kiosk
from firmware.display.screens import buttons
from firmware.display.ui import Action, Screen
from firmware.events import DisplayFailed, DisplayStarted, PassPlusTicket
from firmware.gate.passplus import PassPlusOutcome
from firmware.trust import write_public_key


class Screenful:
    """A gate with its screen, stepped by the test: the loop and the screen answer
    each other until neither has anything left to do."""

    def __init__(self, world: World, kiosk: Kiosk) -> None:
        self.world, self.kiosk, self.loop = world, kiosk, world.loop

    def settle(self) -> None:
        self.kiosk.step()
        while self.loop.process_pending():
            self.kiosk.step()

    def touch(self, action: Action) -> None:
        x, y = self.kiosk.button_at(action)
        size = self.kiosk.context
        pygame.event.post(pygame.event.Event(
            pygame.FINGERUP, x=x / size.width, y=y / size.height, touch_id=1, finger_id=0,
        ))  # fmt: skip
        self.settle()

    def click(self, action: Action) -> None:
        pos = self.kiosk.button_at(action)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=1, touch=False))
        self.settle()

    def key(self, key: int) -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
        self.settle()

    def type_digits(self, digits: str) -> None:
        for digit in digits:
            self.touch(Action("digit", digit))

    def tap(self, serial: str) -> None:
        self.world.tap(serial)
        self.settle()

    def advance(self, seconds: float) -> None:
        self.world.advance(seconds)
        self.settle()

    @property
    def screen(self) -> Screen:
        return self.kiosk.screen

    def texts(self) -> list[str]:
        return [item.text for item in self.kiosk.items if isinstance(item, Text)]

    def shows(self, message: str, **values: object) -> bool:
        """Whether the screen shows ``message`` (an English id) in its current language."""
        expected = words(self.kiosk.ui.state.language)._(message, **values)
        return any(expected in text for text in self.texts())

    def login(self, name: str, pin: str) -> None:
        add_staff(self.world)
        self.touch(Action("staff"))
        self.type_name(name)
        self.touch(Action("ok"))
        self.type_digits(pin)
        self.touch(Action("ok"))

    def type_name(self, name: str) -> None:
        for char in name.upper():
            self.touch(Action("char", char))


@pytest.fixture
def make_screenful(make_world) -> Iterator:
    opened: list[Kiosk] = []

    def make(**sections: dict) -> Screenful:
        sections.setdefault("display", {})
        sections["display"] = {"enabled": True, "fullscreen": False, **sections["display"]}
        world = make_world(**sections)
        settings = world.gate.settings
        kiosk = Kiosk(settings.display, settings.gate.language, settings.zone, world.loop.post,
                      world.clock)  # fmt: skip
        world.gate.on_view.append(kiosk.publish)
        world.loop.handle(DisplayStarted(kiosk.open()))
        opened.append(kiosk)
        screenful = Screenful(world, kiosk)
        screenful.settle()
        return screenful

    yield make
    for kiosk in opened:
        kiosk.close()


@pytest.fixture
def gate(make_screenful) -> Screenful:
    return make_screenful()


# -- visitors ------------------------------------------------------------------------------


def choose_children(gate: Screenful, count: int) -> None:
    for _ in range(count):
        gate.touch(Action("plus"))


def test_family_chooses_two_children_then_one_tap_opens_for_everyone(gate: Screenful) -> None:
    assert gate.screen is Screen.IDLE
    choose_children(gate, 2)
    assert gate.world.journal.last_seq == 0 and not gate.world.relay_on
    gate.tap(FAMILY)  # a family pass: two holders
    assert gate.world.relay_on  # at the tap: nothing is waited for
    assert (gate.world.last().children, gate.world.journal.last_seq) == (2, 1)
    assert gate.screen is Screen.ADMITTED
    t = words("fr")
    assert any(t.ngettext("Go ahead — {count} person", "Go ahead — {count} people", 4) in text
               for text in gate.texts())  # fmt: skip
    out = io.StringIO()
    gate.world.journal.export_csv(out)
    header, row = out.getvalue().splitlines()
    assert dict(zip(header.split(","), row.split(","), strict=True))["children"] == "2"


def test_children_chosen_by_touch_then_a_real_nfc_tap_opens_for_the_family(
    gate: Screenful,
    bench: Bench,  # noqa: F811 - the reader fixture of test_reader
) -> None:
    """The whole visitor path: touches on the screen, then a card held on nfcpy's udp reader."""
    choose_children(gate, 2)
    holder = Presenter(bench.path, bytes.fromhex(FAMILY))
    tapped = next_tap(bench.events)  # what nfcpy read, as the reader thread posts it
    gate.world.loop.handle(tapped)
    gate.settle()
    assert holder.taken_away()
    record = gate.world.last()
    assert (record.credential, record.children, record.persons) == (FAMILY, 2, 4)
    assert gate.world.relay_on and gate.screen is Screen.ADMITTED
    assert gate.kiosk.ui.state.children == 0  # the next visitor starts from 0


def test_a_visitor_without_children_is_through_with_one_tap(gate: Screenful) -> None:
    gate.tap(ACTIVE)  # a solo pass that allows children: no question asked
    assert gate.world.relay_on and gate.screen is Screen.ADMITTED
    assert gate.world.last().children == 0


def test_the_choice_is_for_the_next_tap_only(gate: Screenful) -> None:
    choose_children(gate, 3)
    gate.tap(ACTIVE)
    assert gate.world.last().children == 3
    assert gate.kiosk.ui.state.children == 0  # shown as 0 again
    gate.advance(10)
    gate.tap(FAMILY)  # the next visitor chose nothing
    assert gate.world.last().children == 0


def test_a_strangers_later_tap_never_inherits_an_abandoned_choice(make_screenful) -> None:
    gate = make_screenful(display={"children_prompt_timeout_s": 20})
    choose_children(gate, 2)  # and the family walks away
    gate.advance(20)
    assert gate.kiosk.ui.state.children == 0
    gate.tap(FAMILY)
    assert gate.world.last().children == 0


def test_the_choice_is_capped_at_the_pass_allowance(gate: Screenful) -> None:
    choose_children(gate, 3)
    gate.tap(SINGLE)  # a pass type that allows no children
    assert gate.world.last().children == 0
    assert gate.kiosk.ui.state.outcome.persons == 1


def test_keys_choose_children_too(gate: Screenful) -> None:
    gate.key(pygame.K_KP_PLUS)
    gate.key(pygame.K_PLUS)
    gate.key(pygame.K_MINUS)
    gate.tap(ACTIVE)
    assert gate.world.last().children == 1


def test_a_mouse_click_works_like_a_touch(gate: Screenful) -> None:
    gate.click(Action("plus"))
    gate.tap(ACTIVE)
    assert gate.world.last().children == 1


def test_minus_stops_at_zero_and_plus_at_five(gate: Screenful) -> None:
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("minus"))
    choose_children(gate, 5)
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("plus"))
    gate.tap(FAMILY)
    assert gate.world.last().children == 5


def test_a_second_tap_right_after_entering_shows_the_admission_again(gate: Screenful) -> None:
    choose_children(gate, 1)
    gate.tap(FAMILY)
    entered = gate.world.last().wall
    gate.advance(3)
    gate.world.gate.hardware.close_gate()
    gate.tap(FAMILY)  # "nothing opened?": tapped again
    assert gate.screen is Screen.ADMITTED  # never "refused" to the person just admitted
    assert not gate.shows("Entry refused")
    when = words("fr").time(entered, gate.world.gate.settings.zone)
    assert gate.shows("Already admitted at {time}", time=when)
    assert gate.kiosk.ui.state.outcome.persons == 3  # as admitted: two holders, one child
    assert gate.world.last().reason == "already_entered" and not gate.world.relay_on


def test_a_strangers_tap_does_not_change_a_family_entry(gate: Screenful) -> None:
    choose_children(gate, 2)
    gate.tap(FAMILY)
    gate.tap(ACTIVE)  # the next visitor, straight after
    family, stranger = list(gate.world.journal.records())
    assert (family.children, stranger.children) == (2, 0)


def test_pass_without_children_goes_straight_to_go_ahead_with_its_date(gate: Screenful) -> None:
    gate.tap(SINGLE)
    assert gate.screen is Screen.ADMITTED and gate.world.relay_on
    valid_until = gate.kiosk.ui.state.outcome.valid_until
    assert gate.shows("Pass valid until {date}", date=words("fr").date(valid_until))
    assert not gate.shows("Your pass ends soon: you can already renew it at the desk.")


def test_pass_ending_within_three_months_gets_the_renewal_hint(gate: Screenful) -> None:
    gate.tap(ENDING_SOON)
    assert gate.shows("Your pass ends soon: you can already renew it at the desk.")


def test_refused_pass_says_why_and_what_to_do_then_the_idle_screen_returns(
    make_screenful,
) -> None:
    gate = make_screenful(display={"result_shown_s": 5})
    gate.tap(EXPIRED)
    assert gate.screen is Screen.REFUSED and not gate.world.relay_on
    assert gate.shows("This pass expired on {date}.", date="30 avril 2026")
    assert gate.shows("You can renew it at the desk.")
    gate.advance(5)
    assert gate.screen is Screen.IDLE


def test_language_switch_and_back_to_the_default_when_nobody_is_there(gate: Screenful) -> None:
    assert gate.shows("Please present your pass") and gate.kiosk.ui.state.language == "fr"
    gate.touch(Action("language", "de"))
    assert "Bitte zeigen Sie Ihren Pass" in gate.texts()
    gate.tap(EXPIRED)
    assert gate.shows("You can renew it at the desk.")
    assert "Sie können ihn an der Kasse verlängern." in gate.texts()
    gate.advance(70)
    assert gate.kiosk.ui.state.language == "fr"


# -- staff ---------------------------------------------------------------------------------


def test_staff_log_in_and_force_an_entry_with_a_reason(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    assert gate.screen is Screen.STAFF_MENU
    gate.touch(Action("menu", "force"))
    with pytest.raises(LookupError):  # no reason chosen yet: the button is disabled
        gate.kiosk.button_at(Action("force"))
    gate.touch(Action("reason", "sale_not_finalised"))
    gate.touch(Action("force"))
    record = gate.world.last()
    assert (record.reason, record.operator, record.detail, record.credential_kind) == (
        "forced", "Marie", "sale_not_finalised", "none")  # fmt: skip
    assert gate.world.relay_on and gate.screen is Screen.ADMITTED


def test_force_entry_for_the_refused_pass_from_its_refusal(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.tap(EXPIRED)
    gate.touch(Action("info_shown"))
    assert gate.screen is Screen.PASS_INFO
    assert gate.kiosk.ui.state.pass_info.pass_number == "100003"
    assert gate.shows("expired")
    assert gate.shows("Expired: it can be renewed at the desk.")
    assert not gate.shows("Renewal possible: the pass ends soon.")
    gate.touch(Action("force_info"))
    gate.touch(Action("reason", "list_not_current"))
    gate.touch(Action("force"))
    record = gate.world.last()
    assert (record.reason, record.credential, record.pass_number) == ("forced", EXPIRED, "100003")


def test_wrong_pins_lock_the_pad_and_say_so(gate: Screenful) -> None:
    add_staff(gate.world)
    gate.touch(Action("staff"))
    gate.type_name("Marie")
    gate.touch(Action("ok"))
    for _ in range(3):
        gate.type_digits("9999")
        gate.touch(Action("ok"))
    assert gate.screen is Screen.STAFF_PIN
    assert gate.shows("Too many wrong PINs. Try again in {time}.",
                      time=words("fr").duration(30))  # fmt: skip
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("digit", "1"))
    gate.advance(30)
    gate.type_digits("1234")
    gate.key(pygame.K_RETURN)
    assert gate.screen is Screen.STAFF_MENU


def test_typed_pass_number_records_an_entry_by_number(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "number"))
    gate.type_digits("100008")
    gate.key(pygame.K_BACKSPACE)
    gate.key(pygame.K_8)
    gate.touch(Action("ok"))
    record = gate.world.last()
    assert (record.credential_kind, record.credential, record.operator) == (
        "number", "100008", "Marie")  # fmt: skip
    assert gate.screen is Screen.ADMITTED


def test_old_paper_pass_is_refused_with_the_explanation(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "paper"))
    gate.type_digits("4711")
    gate.touch(Action("ok"))
    assert gate.world.last().reason == "paper_pass_withdrawn"
    assert gate.shows("Paper passes are no longer accepted since {date}.", date="31 mars 2023")
    assert gate.shows("The holder must contact the central office to replace it.")


def test_controle_sees_no_figures_but_caisse_does(make_screenful) -> None:
    gate = make_screenful(gate={"museum": "M1", "gate": "G1"}, wall=paris(2026, 6, 1, 11))
    gate.tap(SINGLE)
    gate.tap(EXPIRED)
    gate.login("Marie", "1234")
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("menu", "figures"))
    gate.touch(Action("logout"))
    assert gate.screen is Screen.IDLE
    gate.login("Jonas", "5678")
    gate.touch(Action("menu", "figures"))
    figures = gate.kiosk.ui.state.figures
    assert (figures.entries, figures.by_hour[11], dict(figures.refusals)) == (1, 1, {"expired": 1})
    assert gate.shows("Entries by hour")


def test_status_shows_what_the_gate_knows_and_no_sync_yet(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "status"))
    assert gate.screen is Screen.STATUS
    assert gate.shows("not connected / no sync yet")
    assert gate.shows("trusted")


def test_idle_staff_are_logged_out_back_to_the_visitor_screen(make_screenful) -> None:
    gate = make_screenful(display={"idle_logout_s": 30})
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "status"))
    gate.advance(31)
    assert gate.screen is Screen.IDLE and not gate.kiosk.ui.state.staff


# -- staff screens never reach the public ------------------------------------------------


def force_shown(gate: Screenful, reason: str = "other") -> None:
    gate.touch(Action("force_shown"))
    gate.touch(Action("reason", reason))
    gate.touch(Action("force"))


def test_a_visitors_tap_ends_the_staff_screens(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "status"))
    gate.tap(ACTIVE)
    assert gate.screen is Screen.ADMITTED and not gate.kiosk.ui.state.staff
    gate.advance(10)
    assert gate.screen is Screen.IDLE
    gate.touch(Action("staff"))  # the way back in asks for a name and PIN again
    assert gate.screen is Screen.STAFF_LOGIN


def test_a_visitors_refused_tap_closes_the_pass_plus_form_and_the_loop_takes_no_ticket(
    gate: Screenful,
) -> None:
    answers: list[tuple[str, str]] = []
    gate.world.gate.on_view.append(
        lambda v: answers.append((v.outcome, v.reason)) if isinstance(v, PassPlusOutcome) else None
    )
    ticket = PassPlusTicket("197199", "culture", 2000, "2026-03-14", 1500)
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "passplus"))
    assert gate.screen is Screen.PASSPLUS
    gate.loop.post(ticket)  # staff's: asked of the hub (none here)
    gate.settle()
    gate.tap(EXPIRED)
    assert gate.screen is Screen.REFUSED and gate.kiosk.ui.state.scoped
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("menu", "passplus"))
    gate.kiosk.ui.act(Action("passplus"))
    gate.settle()
    assert gate.screen is Screen.REFUSED
    gate.loop.post(ticket)  # behind the screen's back, while the session is the visitor's pass
    gate.settle()
    assert answers == [("refuse", "hub_offline"), ("refuse", "staff_only")]


def test_a_refusal_seen_by_staff_keeps_its_actions_for_20_s_and_more(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.tap(EXPIRED)
    assert gate.screen is Screen.REFUSED
    gate.advance(25)  # a person's pace: read, walk over, decide
    assert gate.screen is Screen.REFUSED
    force_shown(gate, "sale_not_finalised")
    record = gate.world.last()
    assert (record.reason, record.credential, record.operator) == ("forced", EXPIRED, "Marie")


def test_refusal_actions_end_after_their_time_and_log_out(make_screenful) -> None:
    gate = make_screenful(display={"refusal_actions_s": 30})
    gate.login("Marie", "1234")
    gate.tap(EXPIRED)
    gate.advance(31)
    assert gate.screen is Screen.IDLE and not gate.kiosk.ui.state.staff


def test_the_next_visitors_refusal_shows_no_staff_action(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.tap(EXPIRED)
    gate.advance(3)
    gate.tap("04A1B2C3D4E504")  # the next visitor: a blocked pass
    assert gate.screen is Screen.REFUSED and not gate.kiosk.ui.state.staff
    for action in (Action("force_shown"), Action("info_shown")):
        with pytest.raises(LookupError):
            gate.kiosk.button_at(action)


def test_a_refusal_after_staff_left_offers_nothing_to_the_visitor(make_screenful) -> None:
    gate = make_screenful(display={"idle_logout_s": 30})
    gate.login("Marie", "1234")
    gate.advance(31)  # staff walked away
    gate.tap(EXPIRED)
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("force_shown"))


def test_a_refusals_actions_do_not_lead_back_to_the_staff_menu(gate: Screenful) -> None:
    gate.login("Marie", "1234")
    gate.tap(EXPIRED)
    gate.touch(Action("info_shown"))
    gate.touch(Action("back"))
    assert gate.screen is Screen.IDLE  # not the staff menu: a visitor may be standing there


def test_the_login_screen_never_lists_staff_names(gate: Screenful) -> None:
    add_staff(gate.world)
    gate.touch(Action("staff"))
    assert gate.screen is Screen.STAFF_LOGIN
    assert not any("Marie" in text or "Jonas" in text for text in gate.texts())
    assert not any(b.action.name == "login_as" for b in buttons(gate.kiosk.items))


def test_a_name_typed_on_a_keyboard_logs_in(gate: Screenful) -> None:
    add_staff(gate.world)
    gate.touch(Action("staff"))
    for key in (pygame.K_j, pygame.K_o, pygame.K_n, pygame.K_a, pygame.K_s, pygame.K_RETURN):
        gate.key(key)
    gate.type_digits("5678")
    gate.key(pygame.K_RETURN)
    assert gate.screen is Screen.STAFF_MENU and gate.kiosk.ui.state.session.name == "Jonas"


# -- every staff action acts on the credential on screen ----------------------------------


def test_after_a_chip_refusal_force_and_information_act_on_that_chip(gate: Screenful) -> None:
    gate.tap(SINGLE)  # an earlier pass, admitted: never the target
    gate.login("Marie", "1234")
    gate.tap(EXPIRED)
    gate.touch(Action("info_shown"))
    assert gate.kiosk.ui.state.pass_info.credential == EXPIRED
    gate.touch(Action("force_info"))
    assert gate.shows("For the pass refused on screen (chip {serial}).", serial=EXPIRED)
    gate.touch(Action("reason", "other"))
    gate.touch(Action("force"))
    record = gate.world.last()
    assert (record.reason, record.credential_kind, record.credential) == (
        "forced", "chip", EXPIRED)  # fmt: skip


def test_after_a_typed_number_refusal_force_acts_on_that_number(gate: Screenful) -> None:
    gate.tap(SINGLE)
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "number"))
    gate.type_digits("999999")
    gate.touch(Action("ok"))
    assert gate.screen is Screen.REFUSED
    gate.touch(Action("info_shown"))
    assert (gate.kiosk.ui.state.pass_info.credential, gate.kiosk.ui.state.pass_info.found) == (
        "999999", False)  # fmt: skip
    gate.touch(Action("back"))
    gate.touch(Action("menu", "number"))
    gate.type_digits("999999")
    gate.touch(Action("ok"))
    force_shown(gate)
    record = gate.world.last()
    assert (record.reason, record.credential_kind, record.credential) == (
        "forced", "number", "999999")  # fmt: skip


def test_after_a_paper_pass_refusal_force_acts_on_that_paper_pass(gate: Screenful) -> None:
    gate.tap(SINGLE)  # pass 100008 admitted just before: never the target
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "paper"))
    gate.type_digits("12345")
    gate.touch(Action("ok"))
    assert gate.world.last().reason == "paper_pass_withdrawn"
    with pytest.raises(LookupError):
        gate.kiosk.button_at(Action("info_shown"))  # a paper pass has no information here
    gate.touch(Action("force_shown"))
    assert gate.shows("For old paper pass {number}.", number="12345")
    gate.touch(Action("reason", "other"))
    gate.touch(Action("force"))
    record = gate.world.last()
    assert (record.reason, record.credential_kind, record.credential, record.pass_number) == (
        "forced", "paper", "12345", None)  # fmt: skip


def test_a_paper_pass_entry_carries_children(make_screenful) -> None:
    gate = make_screenful(rules={"paper_pass_last_day": date(2027, 3, 31)})
    gate.login("Marie", "1234")
    gate.touch(Action("menu", "paper"))
    gate.type_digits("4711")
    choose_children(gate, 2)
    gate.touch(Action("ok"))
    record = gate.world.last()
    assert (record.reason, record.children, record.credential) == ("paper_pass", 2, "4711")
    assert gate.world.relay_on and gate.kiosk.ui.state.outcome.persons == 3


# -- a screen that fails -------------------------------------------------------------------


def test_a_screen_that_crashes_leaves_the_gate_admitting(gate: Screenful) -> None:
    pygame.display.quit()  # the video system goes away under the screen
    assert not gate.kiosk.step_safely()
    gate.world.loop.process_pending()
    status = gate.world.gate.health
    assert status.display_up is False and "display stopped" in status.display_detail
    gate.world.tap(FAMILY)  # the next family enters at once, children 0
    assert gate.world.relay_on and gate.world.last().children == 0


def test_a_screen_that_cannot_start_leaves_the_gate_admitting(make_world, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "nosuchdriver")
    world = make_world()
    settings = world.gate.settings
    kiosk = Kiosk(settings.display, "fr", settings.zone, world.loop.post, world.clock)
    world.gate.on_view.append(kiosk.publish)
    assert not kiosk.run_once()  # returns at once: it could not start
    world.loop.process_pending()
    assert world.gate.health.display_up is False
    assert "could not start" in world.gate.health.display_detail
    world.tap(FAMILY)
    assert world.relay_on and world.last().children == 0


def test_a_failed_screen_is_tried_again_and_comes_back(make_world, monkeypatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "nosuchdriver")  # SDL refuses to start
    world = make_world()
    settings = world.gate.settings
    events: queue.Queue[object] = queue.Queue()
    windowed = dataclasses.replace(settings.display, fullscreen=False)
    kiosk = Kiosk(windowed, "fr", settings.zone, events.put, world.clock)
    kiosk.start()
    try:
        failed = events.get(timeout=20)
        assert isinstance(failed, DisplayFailed) and "no video driver" in failed.detail
        monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")  # the screen is back
        assert isinstance(events.get(timeout=20), DisplayStarted)  # after the back-off
    finally:
        kiosk.stop()


# -- access codes from the central office ------------------------------------------------

_CODE_KEYS = {c: getattr(pygame, f"K_{c.lower()}") for c in access.ALPHABET}


@pytest.fixture
def office(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    write_public_key(key, tmp_path / "office.pub")
    return key, tmp_path / "office.pub"


@pytest.fixture
def coded(make_screenful, office) -> Screenful:
    """A gate whose [gate] office_key is the test office's public key."""
    return make_screenful(gate={"office_key": str(office[1])})


def code_for(gate: Screenful, office, role: str = "technician", gate_id: str = "G1",
             valid_s: float = 3600) -> str:  # fmt: skip
    return access.issue(office[0], "M1", gate_id, role, gate.world.clock.wall() + valid_s)


def open_code_screen(gate: Screenful) -> None:
    gate.touch(Action("staff"))
    gate.touch(Action("access_code"))
    assert gate.screen is Screen.ACCESS_CODE


def touch_code(gate: Screenful, code: str) -> None:
    """Open the access code screen and type ``code`` on its keyboard, then OK."""
    open_code_screen(gate)
    type_code(gate, code)


def type_code(gate: Screenful, code: str) -> None:
    for char in access.normalise(code):
        gate.touch(Action("char", char))
    gate.touch(Action("ok"))


def access_records(gate: Screenful) -> list[tuple]:
    return [(r.kind, r.admitted, r.reason, r.operator)
            for r in gate.world.journal.records() if r.kind == "access_code"]  # fmt: skip


def test_a_code_typed_on_the_screen_opens_a_technician_session(coded: Screenful, office) -> None:
    touch_code(coded, code_for(coded, office))
    assert coded.screen is Screen.STAFF_MENU
    session = coded.kiosk.ui.state.session
    assert (session.name, session.role) == ("technician", "technician")
    assert session.functions == {
        "entries",
        "figures",
        "status",
        "sales",
        "renewals",
        "statistics",
        "pass_orders",
        "cash_register",
    }  # as Stock
    assert coded.shows("Technician")
    assert access_records(coded) == [("access_code", True, "staff_session", "technician")]
    coded.touch(Action("menu", "status"))
    assert coded.screen is Screen.STATUS


def test_a_code_typed_on_a_keyboard_opens_a_cash_session(coded: Screenful, office) -> None:
    code = code_for(coded, office, role="cash")
    open_code_screen(coded)
    coded.key(pygame.K_q)  # a slip, put right
    coded.key(pygame.K_BACKSPACE)
    for char in access.normalise(code):
        coded.key(_CODE_KEYS[char])
    shown = [text for text in coded.texts() if text.startswith(code[:11].replace("-", " "))]
    assert shown, "the code is shown in groups of five"
    coded.key(pygame.K_RETURN)
    assert coded.kiosk.ui.state.session.role == "cash" and coded.shows("Cash desk")
    assert access_records(coded) == [("access_code", True, "staff_session", "cash")]
    coded.touch(Action("menu", "figures"))  # the Caisse role's functions
    assert coded.screen is Screen.FIGURES


def test_wrong_codes_lock_out_and_the_screen_shows_the_wait(coded: Screenful, office) -> None:
    touch_code(coded, code_for(coded, office, gate_id="G2"))
    assert coded.shows("This code is not for this gate: check it, or ask the central office.")
    for _ in range(3):  # the code stays, so OK tries it again
        coded.touch(Action("ok"))
    assert coded.shows("Too many wrong codes. Try again in {time}.",
                       time=words("fr").duration(30))  # fmt: skip
    with pytest.raises(LookupError):  # OK is off until the wait is over
        coded.kiosk.button_at(Action("ok"))
    assert access_records(coded) == [("access_code", False, "wrong_code", None)] * 4
    coded.advance(30)
    coded.touch(Action("back"))  # to the staff login, and a fresh code screen
    coded.touch(Action("access_code"))
    type_code(coded, code_for(coded, office))
    assert coded.screen is Screen.STAFF_MENU


def test_a_used_code_is_refused(coded: Screenful, office) -> None:
    code = code_for(coded, office)
    touch_code(coded, code)
    coded.touch(Action("logout"))
    touch_code(coded, code)
    assert coded.screen is Screen.ACCESS_CODE and not coded.kiosk.ui.state.staff
    assert coded.shows("This code has already been used on this gate.")
    assert access_records(coded)[-1] == ("access_code", False, "used", "technician")


def test_a_code_used_by_portique_provision_is_refused_on_the_screen(
    coded: Screenful, office
) -> None:
    code = code_for(coded, office, valid_s=20 * 365 * 86400)  # provision reads the system's clock
    settings = coded.world.gate.settings.gate
    request = provision.Request(
        museum="M1", gate="G1", code=code, office_key=office[1],
        config_path=settings.data_dir / "unused.toml", data_dir=settings.data_dir,
    )  # fmt: skip
    provision.consume_code(request, provision.check_code(request))
    touch_code(coded, code)
    assert coded.kiosk.ui.state.code_error == "used"


def test_an_expired_code_is_refused(coded: Screenful, office) -> None:
    code = code_for(coded, office, valid_s=600)
    coded.advance(660)
    touch_code(coded, code)
    assert coded.shows("This code has expired: ask the central office for a new one.")
    assert access_records(coded) == [("access_code", False, "expired", "technician")]


def test_a_garbled_code_is_refused_as_unreadable(coded: Screenful, office) -> None:
    touch_code(coded, code_for(coded, office)[:40])
    assert coded.shows("This code cannot be read: check every group.")
    assert access_records(coded) == [("access_code", False, "malformed", None)]


def test_without_the_office_key_every_code_is_refused_naming_the_file(
    coded: Screenful, office, caplog
) -> None:
    office[1].unlink()
    touch_code(coded, code_for(coded, office))
    assert coded.shows("This gate cannot check codes: its office key is missing (see the log).")
    assert str(office[1]) in caplog.text and not coded.kiosk.ui.state.staff
    assert access_records(coded) == []


def test_a_code_session_ends_when_the_code_expires(make_screenful, office) -> None:
    gate = make_screenful(gate={"office_key": str(office[1])}, display={"idle_logout_s": 3600})
    touch_code(gate, code_for(gate, office, valid_s=120))
    gate.advance(100)
    gate.touch(Action("menu", "status"))
    assert gate.kiosk.ui.state.staff
    gate.advance(21)
    assert gate.screen is Screen.IDLE and not gate.kiosk.ui.state.staff


def test_a_code_session_ends_at_the_idle_logout_before_its_expiry(make_screenful, office) -> None:
    gate = make_screenful(gate={"office_key": str(office[1])}, display={"idle_logout_s": 30})
    touch_code(gate, code_for(gate, office))
    gate.advance(31)
    assert gate.screen is Screen.IDLE and not gate.kiosk.ui.state.staff
