"""The pass Culture keypad's state machine on the injected clock: what it takes, what it
asks the loop, and how it gives way (no pygame here: firmware/display/culture_ui.py)."""

from __future__ import annotations

from firmware.clock import ManualClock
from firmware.config import DisplaySettings
from firmware.display.ui import Action, Screen, Ui
from firmware.events import PassCultureCode, PassCultureUndo
from firmware.gate.culture import CultureOutcome
from firmware.gate.views import StaffSession


def keypad(staff: bool = False) -> tuple[Ui, list[object], ManualClock]:
    clock, posted = ManualClock(), []
    ui = Ui(DisplaySettings(), "fr", posted.append, clock)
    if staff:
        ui.on_view(StaffSession("Marie", "controle", frozenset()))
    ui.act(Action("culture"))
    return ui, posted, clock


def type_chars(ui: Ui, text: str) -> None:
    for char in text:
        ui.act(Action("char", char))


def test_lower_case_is_taken_and_look_alikes_are_refused_as_typed() -> None:
    ui, posted, _ = keypad()
    type_chars(ui, "ab3")
    type_chars(ui, "0")
    assert (ui.state.culture.typed, ui.state.culture.refused) == ("AB3", "0")
    type_chars(ui, "dk7Z")  # a seventh character is refused too
    assert ui.state.culture.typed == "AB3DK7"
    ui.act(Action("ok"))
    assert posted == [PassCultureCode("AB3DK7", at_desk=False)]
    ui.act(Action("ok"))  # a double tap while asking asks once
    assert len(posted) == 1


def test_ok_asks_nothing_until_six_characters() -> None:
    ui, posted, _ = keypad()
    type_chars(ui, "AB3DK")
    ui.act(Action("ok"))
    assert posted == []


def test_staff_type_at_the_desk_and_may_undo() -> None:
    ui, posted, _ = keypad(staff=True)
    type_chars(ui, "AB3DK7")
    ui.act(Action("culture_undo"))
    assert PassCultureUndo("AB3DK7") in posted
    visitor, asked, _ = keypad()
    type_chars(visitor, "AB3DK7")
    visitor.act(Action("culture_undo"))
    assert not any(isinstance(event, PassCultureUndo) for event in asked)


def test_a_code_left_half_typed_gives_way_to_the_idle_screen() -> None:
    ui, _, clock = keypad()
    type_chars(ui, "AB")
    clock.advance(DisplaySettings().idle_logout_s + 1)
    ui.tick()
    assert ui.state.screen is Screen.IDLE


def test_the_answer_is_shown_then_the_idle_screen_returns() -> None:
    ui, _, clock = keypad()
    type_chars(ui, "AB3DK7")
    ui.act(Action("ok"))
    ui.on_view(CultureOutcome("waiting", "asked", "AB3DK7"))
    assert ui.state.screen is Screen.CULTURE and ui.state.culture.waiting
    ui.on_view(CultureOutcome("admit", "ok", "AB3DK7", persons=2))
    assert ui.state.screen is Screen.CULTURE_RESULT
    clock.advance(DisplaySettings().result_shown_s + 1)
    ui.tick()
    assert ui.state.screen is Screen.IDLE
