"""pass Culture at a running gate: keypad, scanner and desk, over a real mosquitto, a real hub
and the fake pass Culture server (tests/fake_passculture.py)."""

from __future__ import annotations

import dataclasses
import io
import os
import pty
import tty
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pygame
import pytest
from cultureworld import FINAL, MUSEUM, CultureGate, Touchscreen
from fake_passculture import KEY, VENUE, FakePassCulture
from syncworld import WAIT_S, Hub, LogWatch
from test_scanner import HAS_UINPUT, NO_UINPUT, events_for

from firmware import config
from firmware.app import start_scanner
from firmware.display.ui import Action, Screen
from firmware.events import PassCultureCode, PassCultureUndo
from firmware.gate.culture import CultureOutcome
from hub.passculture.export import export_validations
from hub.passculture.handler import PassCultureHandler

# -- the "Done when" scenarios -------------------------------------------------------------


def test_duo_booking_typed_at_the_gate_lets_two_through_then_is_already_used(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    gate = make_culture_gate()
    shown = gate.type_code("ab3dk7")  # typed in lower case: the code is case-insensitive
    assert (shown.outcome, shown.reason, shown.persons) == ("admit", "ok", 2)
    assert fake_pc.status("AB3DK7") == "USED"
    assert gate.relay_openings() == 1
    assert gate.records() == [
        ("AB3DK7", True, "passculture", None, "person 1 of 2"),
        ("AB3DK7", True, "passculture", None, "person 2 of 2"),
    ]
    again = gate.type_code("AB3DK7")
    assert (again.outcome, again.reason, again.persons) == ("refuse", "already_used", 0)
    assert gate.records()[-1][:3] == ("AB3DK7", False, "already_used")
    assert gate.relay_openings() == 1
    assert fake_pc.count("PATCH", "/use/") == 1


def test_the_same_code_used_at_another_gate_is_refused_there_too(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    first, second = make_culture_gate("gate-1"), make_culture_gate("gate-2")
    assert first.type_code("AB3DK7").outcome == "admit"
    shown = second.type_code("AB3DK7")
    assert (shown.outcome, shown.reason) == ("refuse", "already_used")


# -- refusals and bad input ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "reason"),
    [("AB3DK", "bad_length"), ("AB3DK0", "bad_character"), ("AB3DKß", "bad_character")],
)
def test_a_malformed_code_is_refused_at_the_gate_without_asking_the_hub(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture, typed: str,
    reason: str
) -> None:  # fmt: skip
    gate = make_culture_gate()
    shown = gate.type_code(typed)
    assert (shown.outcome, shown.reason) == ("refuse", reason)
    assert shown.message  # says what was wrong
    assert fake_pc.requests == [] and gate.records() == []


def test_an_unknown_code_is_refused_unknown_and_journaled(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture
) -> None:
    gate = make_culture_gate()
    shown = gate.type_code("ZZZZZZ")
    assert (shown.outcome, shown.reason) == ("refuse", "unknown")
    assert gate.records() == [("ZZZZZZ", False, "unknown", None, shown.message)]


def test_a_bad_api_key_sends_the_visitor_to_the_desk_and_tells_the_museum(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture, logs: LogWatch
) -> None:
    fake_pc.fail_next(401)
    gate = make_culture_gate()
    shown = gate.type_code("AB3DK7")
    assert (shown.outcome, shown.reason) == ("desk", "bad_api_key")
    # The gate's log and journal carry the museum's message; the visitor's screen shows
    # the words for "desk" (firmware/display/culture_screens.py), never the key problem.
    assert "passculture.toml" in logs.wait_for("the desk will check: bad_api_key")
    assert "passculture.toml" in (gate.records()[-1][4] or "")


def test_pass_culture_too_slow_the_desk_will_check_and_the_late_answer_is_journaled(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture, logs: LogWatch
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    gate = make_culture_gate(answer_timeout_s=0.5)
    fake_pc.slow(3.0, only="PATCH", after_acting=True)
    shown = gate.type_code("AB3DK7")
    assert (shown.outcome, shown.reason) == ("desk", "no_answer")
    assert gate.relay_openings() == 0
    logs.wait_for("late answer")
    credential, admitted, reason, _op, detail = gate.records()[-1]
    assert (credential, admitted, reason) == ("AB3DK7", False, "late_answer")
    assert detail is not None and detail.startswith("admit ok x1")


def test_hub_unreachable_the_visitor_is_asked_to_see_the_desk(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    gate = make_culture_gate(start=False)  # no broker connection: offline
    gate.sync.gate.loop.handle(PassCultureCode("AB3DK7"))
    shown = gate.outcomes.get_nowait()
    assert (shown.outcome, shown.reason) == ("desk", "hub_offline")
    assert fake_pc.status("AB3DK7") == "CONFIRMED"


def test_queueing_while_offline_needs_staff_at_the_desk(
    make_culture_gate: Callable[..., CultureGate],
) -> None:
    gate = make_culture_gate(start=False, offline="queue")
    gate.sync.gate.loop.handle(PassCultureCode("AB3DK7", at_desk=True))  # nobody logged in
    shown = gate.outcomes.get_nowait()
    assert (shown.outcome, shown.reason) == ("refuse", "staff_only")
    gate.sync.gate.loop.handle(PassCultureCode("AB3DK7"))  # a visitor at the gate
    assert gate.outcomes.get_nowait().reason == "hub_offline"


def test_undo_at_the_desk_returns_the_booking_and_is_journaled(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    gate = make_culture_gate()
    assert gate.type_code("AB3DK7").outcome == "admit"
    gate.post(PassCultureUndo("AB3DK7"))
    assert gate.outcome().reason == "staff_only"  # nobody logged in
    gate.login("Marie")
    gate.post(PassCultureUndo("ab3dk7"))
    shown = gate.outcome()
    assert (shown.outcome, shown.reason) == ("undone", "undone")
    assert fake_pc.status("AB3DK7") == "CONFIRMED"
    assert gate.records()[-1][:4] == ("AB3DK7", False, "undone", "Marie")


# -- the scanner wired to the gate ----------------------------------------------------------


def test_a_serial_scanner_qr_is_validated_and_another_scheme_refused(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture,
    make_settings: Callable[..., config.Settings]
) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    controller, device = pty.openpty()
    tty.setraw(device)
    gate = make_culture_gate()
    gate.sync.gate.settings = gate.sync.settings = _with_scanner(
        gate.sync.settings, os.ttyname(device)
    )
    scanner = start_scanner(gate.sync.gate)
    assert scanner is not None
    try:
        os.write(controller, b"https://example.org/ticket/12\r\n")
        shown = gate.outcome()
        assert (shown.outcome, shown.reason) == ("refuse", "other_scheme")
        os.write(controller, b"\x00\xff\xfe binary\r\n")
        assert gate.outcome().reason == "binary"
        os.write(controller, b"X" * 100_000 + b"\r\n")
        assert gate.outcome().reason == "too_long"
        os.write(controller, b"PASSCULTURE:v3;TOKEN:AB3DK7\r\n")
        shown = gate.outcome()
        assert (shown.outcome, shown.persons) == ("admit", 2)
    finally:
        scanner.stop()
        os.close(controller)
        os.close(device)
    assert fake_pc.status("AB3DK7") == "USED"


def _with_scanner(settings: config.Settings, device: str) -> config.Settings:
    scanner = config.ScannerSettings(mode="serial", device=device)
    return dataclasses.replace(settings, scanner=scanner)


def test_a_scanner_that_cannot_be_opened_leaves_the_gate_running(
    make_culture_gate: Callable[..., CultureGate], tmp_path: Path, logs: LogWatch
) -> None:
    gate = make_culture_gate(start=False)
    gate.sync.gate.settings = _with_scanner(gate.sync.settings, str(tmp_path / "no-such-tty"))
    assert start_scanner(gate.sync.gate) is None
    assert "no-such-tty" in logs.wait_for("codes can still be typed")


# -- offline at the desk: queued, validated later, reconciled --------------------------------


def _queue_at_desk(gate: CultureGate, code: str) -> CultureOutcome:
    """Staff accept ``code`` at the desk while the gate cannot reach the hub (not started)."""
    gate.login("Marie", running=False)
    gate.sync.loop.handle(PassCultureCode(code, at_desk=True))
    shown = gate.outcomes.get_nowait()
    while shown.outcome not in FINAL:
        shown = gate.outcomes.get_nowait()
    return shown


def test_a_code_queued_at_the_desk_offline_is_validated_later_and_reconciled(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture, culture_hub: Hub
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, price=2400, price_category="Duo")
    gate = make_culture_gate(start=False, offline="queue")
    shown = _queue_at_desk(gate, "ab3dk7")
    assert (shown.outcome, shown.reason, shown.persons) == ("pending", "pending", 1)
    assert gate.relay_openings() == 1  # staff decided: the visitor goes in now
    assert gate.records() == [("AB3DK7", True, "pending", "Marie", shown_detail(gate))]
    assert fake_pc.status("AB3DK7") == "CONFIRMED"
    gate.sync.start()  # the hub is reachable again: the record goes up and is validated
    handler = _handler(culture_hub)
    assert handler.wait_answered(1, WAIT_S)
    assert fake_pc.status("AB3DK7") == "USED"
    out = io.StringIO()
    export_validations(handler.table, MUSEUM, date.today() - timedelta(days=1),
                       date.today() + timedelta(days=1), out)  # fmt: skip
    lines = out.getvalue().splitlines()
    assert (
        lines[0] == "code,booking_id,offer,price_category,price,quantity,validated_at,gate,operator"
    )
    assert lines[1].startswith("AB3DK7,") and lines[1].endswith(",gate-1,Marie")
    assert ",Duo,24.00,1," in lines[1]
    assert culture_hub.problems() == []
    # The hub restarts: the settled record is not validated again.
    culture_hub.stop()
    culture_hub.start()
    assert _handler(culture_hub).resume_pending(culture_hub.m.entry) == 0
    assert fake_pc.count("PATCH", "/use/") == 1


@pytest.mark.parametrize(
    ("venue", "status", "said"),
    [
        # pass Culture answers 410 without the booking: the desk's side is all there is.
        (VENUE, "CANCELLED", ("cancelled", "visitor unknown")),
        # The booking is read, then refused: the visitor is named.
        (999, "CONFIRMED", ("wrong_venue", "Camille Martin <jeune@example.org>")),
    ],
)
def test_a_queued_code_refused_later_is_a_problem_naming_the_visitor(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture, culture_hub: Hub,
    venue: int, status: str, said: tuple[str, str]
) -> None:  # fmt: skip
    fake_pc.add_venue(KEY, 999)
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=venue, status=status)
    gate = make_culture_gate(start=False, offline="queue")
    assert _queue_at_desk(gate, "AB3DK7").outcome == "pending"
    gate.sync.start()
    assert _handler(culture_hub).wait_answered(1, WAIT_S)
    culture_hub.wait(lambda: bool(culture_hub.problems()), WAIT_S, "a problem reported")
    problem = culture_hub.m.problem.get()
    assert (problem.kind, problem.seq, problem.gate) == ("passculture_refused", 1, "gate-1")
    for text in ("AB3DK7", "Marie", *said):
        assert text in problem.detail
    assert _handler(culture_hub).resume_pending(culture_hub.m.entry) == 0  # never twice


def shown_detail(gate: CultureGate) -> str:
    return "queued at the desk while the hub was unreachable"


def _handler(hub: Hub) -> PassCultureHandler:
    assert hub.service is not None
    return hub.service.passculture


# -- the touch screen: real pygame events into the kiosk (cultureworld.Touchscreen) ----------


def test_a_visitor_types_a_duo_code_on_the_screen_and_two_people_go_through(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture,
    touchscreen: Callable[[CultureGate], Touchscreen]
) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    gate = make_culture_gate()
    screen = touchscreen(gate)
    screen.touch(Action("culture"))
    assert screen.kiosk.screen is Screen.CULTURE
    screen.touch(Action("char", "A"))
    screen.key(pygame.K_b)  # a keyboard works too, in lower case
    screen.key(pygame.K_0)  # not in the alphabet: refused as typed
    screen.key(pygame.K_i)
    assert screen.kiosk.ui.state.culture.typed == "AB"
    assert screen.kiosk.ui.state.culture.refused == "I"
    for key in (pygame.K_3, pygame.K_d, pygame.K_k, pygame.K_7, pygame.K_7):  # a 7th is refused
        screen.key(key)
    assert screen.kiosk.ui.state.culture.typed == "AB3DK7"
    screen.touch(Action("ok"))
    shown = gate.outcome()
    screen.kiosk.step()
    assert screen.kiosk.screen is Screen.CULTURE_RESULT
    assert (shown.outcome, shown.persons) == ("admit", 2)
    assert any("2 people" in getattr(item, "text", "") for item in screen.kiosk.items)
    assert fake_pc.status("AB3DK7") == "USED"
    assert gate.relay_openings() == 1
    assert [r[:3] for r in gate.records()] == [("AB3DK7", True, "passculture")] * 2


def test_the_keypad_has_no_key_for_a_character_a_code_cannot_hold(
    make_culture_gate: Callable[..., CultureGate],
    touchscreen: Callable[[CultureGate], Touchscreen]
) -> None:  # fmt: skip
    screen = touchscreen(make_culture_gate(start=False))
    screen.touch(Action("culture"))
    for char in "0189IO":
        with pytest.raises(LookupError):
            screen.kiosk.button_at(Action("char", char))
    for char in "ABHJNPZ27":
        screen.kiosk.button_at(Action("char", char))


@pytest.mark.skipif(not HAS_UINPUT, reason=NO_UINPUT)
def test_a_keyboard_mode_scanner_started_by_the_gate_admits_a_scanned_qr(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture
) -> None:
    from evdev import UInput

    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    gate = make_culture_gate()
    with UInput(name="portique-test-scanner") as device:
        scanner_settings = config.ScannerSettings(mode="keyboard", device=device.device.path)
        gate.sync.gate.settings = dataclasses.replace(gate.sync.settings, scanner=scanner_settings)
        scanner = start_scanner(gate.sync.gate)
        assert scanner is not None
        try:
            for event in events_for("PASSCULTURE:v3;TOKEN:AB3DK7", "us"):
                device.write(event.type, event.code, event.value)
                device.syn()
            assert gate.outcome().outcome == "admit"
        finally:
            scanner.stop()
    assert fake_pc.status("AB3DK7") == "USED"


@pytest.mark.parametrize("hub_settings", [{"deadline_s": 2.0}])  # retries stop at the deadline
@pytest.mark.parametrize(
    ("fault", "reason"),
    [("422", "invalid_request"), ("contract", "malformed_answer"), ("down", "api_unavailable")],
)
def test_pass_culture_misbehaving_sends_the_visitor_to_the_desk_and_validates_nothing(
    make_culture_gate: Callable[..., CultureGate], fake_pc: FakePassCulture, fault: str,
    reason: str
) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    gate = make_culture_gate()
    if fault == "422":
        fake_pc.fail_next(422)
    elif fault == "contract":
        fake_pc.break_contract()
    else:
        fake_pc.go_down()
    shown = gate.type_code("AB3DK7")
    assert (shown.outcome, shown.reason) == ("desk", reason)
    assert gate.relay_openings() == 0
    if fault == "down":
        fake_pc.come_back()
    assert fake_pc.status("AB3DK7") == "CONFIRMED"
