"""The pass Culture screens laid out as boxes: the keypad, and what became of a code.

Kept apart from ``screens.py`` (which lays out the pass screens); it hooks in
there with one button in the top bar and two entries in its table of screens.
The reason codes come from the gate (``firmware/gate/culture.py``) and the hub
(``hub/passculture/connector.py``); each is told as what happened and what to
do next. A visitor never reads the hub's message (a bad API key is the
museum's business); staff at the desk do.
"""

from __future__ import annotations

from typing import Protocol

from pygame import Rect

from firmware.display.draw import (
    AMBER,
    AMBER_LIGHT,
    BLUE,
    GREEN,
    GREEN_LIGHT,
    MUTED,
    RED,
    RED_LIGHT,
    WHITE,
    Box,
    Button,
    Icon,
    Text,
)
from firmware.display.i18n import N_, Words
from firmware.display.ui import Action, Screen, UiState
from firmware.passculture.codes import LENGTH


class Context(Protocol):
    """What a layout needs of ``screens.Context`` (not imported: screens imports this)."""

    width: int
    height: int


TOP = 64  # as screens.TOP: the top bar
# The counter-mark's alphabet as keys: no 0, 1, 8, 9, I or O, so none can be typed.
KEYS = (*"ABCDEFGHJ", *"KLMNPQRST", *"UVWXYZ234", *"567", "erase", "ok")

# reason → (what happened, what to do next)
REFUSALS: dict[str, tuple[str, str]] = {
    "unknown": (N_("This pass Culture code is not known."),
                N_("Check the 6 characters, or please see the desk.")),
    "already_used": (N_("This pass Culture booking has already been used."),
                     N_("Please see the desk if you need help.")),
    "cancelled": (N_("This pass Culture booking was cancelled."),
                  N_("Please see the desk.")),
    "reimbursed": (N_("This pass Culture booking is closed."),
                   N_("Please see the desk.")),
    "not_yet_validatable": (N_("This pass Culture booking cannot be used yet."),
                            N_("Please come back at the time of your booking.")),
    "wrong_venue": (N_("This pass Culture booking is for another venue."),
                    N_("Please see the desk.")),
    "bad_code": (N_("This is not a pass Culture code."),
                 N_("A code has 6 characters: letters and digits 2 to 7.")),
    "bad_character": (N_("This is not a pass Culture code."),
                      N_("A code has 6 characters: letters and digits 2 to 7.")),
    "bad_length": (N_("This is not a pass Culture code."),
                   N_("A code has 6 characters: letters and digits 2 to 7.")),
    "other_scheme": (N_("This is not a pass Culture booking."),
                     N_("Show the pass Culture QR code or type its 6 characters.")),
    "bad_version": (N_("This pass Culture QR code cannot be read here."),
                    N_("Type the 6 characters shown under it.")),
    "binary": (N_("The scanner could not read this code."),
               N_("Try again, or type the 6 characters.")),
    "too_long": (N_("The scanner could not read this code."),
                 N_("Try again, or type the 6 characters.")),
    "staff_only": (N_("Only staff at the desk can do this."),
                   N_("Log in first.")),
    "not_enabled": (N_("pass Culture is not accepted at this gate."),
                    N_("Please see the desk.")),
    "cannot_undo": (N_("pass Culture does not allow undoing this validation."),
                    N_("Check the booking on the pass Culture portal.")),
    "no_operator": (N_("Only staff at the desk can do this."),
                    N_("Log in first.")),
}  # fmt: skip
UNKNOWN_REFUSAL = (N_("This pass Culture code was refused."), N_("Please see the desk."))
DESK = (N_("The desk will check your booking."),
        N_("Please go to the desk with your pass Culture code."))  # fmt: skip


def top_bar_button(s: UiState, t: Words, ctx: Context) -> list[object]:
    """The way in: for visitors on the idle screen, for staff at the desk."""
    if s.staff:
        rect = Rect(448, 8, ctx.width - 72 * 3 - 8 - 448, 48)
        return [Button(rect, t._("pass Culture"), Action("culture"), "quiet", size=18)]
    if s.screen in (Screen.IDLE, Screen.ADMITTED, Screen.REFUSED, Screen.CULTURE_RESULT):
        rect = Rect(186, 8, 240, 48)
        return [Button(rect, t._("pass Culture code"), Action("culture"), "quiet", size=20)]
    return []


def keypad(s: UiState, t: Words, ctx: Context) -> list[object]:
    w, h = ctx.width, ctx.height
    c = s.culture
    back = Button(Rect(w - 166, TOP + 10, 150, 60), t._("Back"), Action("back"), "quiet", size=22)
    title = t._("pass Culture code") if not s.staff else t._("pass Culture at the desk")
    items: list[object] = [Text(Rect(24, TOP + 10, w - 400, 60), title, 28, bold=True,
                                align="left"), back]  # fmt: skip
    if s.staff:
        ready = len(c.typed) == LENGTH and not c.waiting
        items.append(Button(Rect(w - 376, TOP + 10, 200, 60), t._("Undo"),
                            Action("culture_undo"), "danger", ready, 22))  # fmt: skip
    field = Rect(24, TOP + 78, 6 * 64, 72)
    for index in range(LENGTH):
        cell = Rect(field.x + index * 64, field.y, 56, field.height)
        items.append(Box(cell, WHITE, BLUE, 3))
        if index < len(c.typed):
            items.append(Text(cell, c.typed[index], 36, bold=True, data=True))
    hint = Rect(field.right + 16, field.y, w - field.right - 40, field.height)
    if c.waiting:
        items.append(Text(hint, t._("Checking your booking…"), 22, bold=True, align="left"))
    elif c.refused:
        items += [
            Icon(Rect(hint.x, hint.y + 12, 44, 44), "warning", AMBER),
            Text(Rect(hint.x + 52, hint.y, hint.width - 52, hint.height),
                 t._("{char} cannot be in a code", char=c.refused), 20, bold=True,
                 align="left"),
        ]  # fmt: skip
    else:
        text = t._("Letters and digits 2–7, as in the app.")
        items.append(Text(hint, text, 20, colour=MUTED, align="left"))
    return items + _keys(c.typed, c.waiting, t, Rect(0, TOP + 160, w, h - TOP - 160))


def _keys(typed: str, waiting: bool, t: Words, area: Rect) -> list[object]:
    gap, columns, rows = 6, 9, 4
    key_w = (area.width - 16 - gap * (columns - 1)) // columns
    key_h = (area.height - 6 - gap * (rows - 1)) // rows
    x0 = area.x + (area.width - columns * key_w - gap * (columns - 1)) // 2
    items: list[object] = []
    for index, key in enumerate(KEYS):
        x = x0 + (index % columns) * (key_w + gap)
        rect = Rect(x, area.y + (index // columns) * (key_h + gap), key_w, key_h)
        if key == "erase":
            items.append(Button(rect, "", Action("erase"), enabled=not waiting, icon="erase"))
        elif key == "ok":
            rect.width = 5 * key_w + 4 * gap
            ready = len(typed) == LENGTH and not waiting
            items.append(Button(rect, t._("OK"), Action("ok"), "primary", ready, 28))
        else:
            full = len(typed) >= LENGTH or waiting
            items.append(Button(rect, key, Action("char", key), enabled=not full, size=28,
                                data=True))  # fmt: skip
    return items


def result(s: UiState, t: Words, ctx: Context) -> list[object]:
    o = s.culture.outcome
    assert o is not None
    w, h = ctx.width, ctx.height
    frame = Rect(16, TOP + 12, w - 32, h - TOP - 28)
    if o.outcome in ("admit", "pending") and o.stored:
        fill, ink, icon = GREEN_LIGHT, GREEN, "check"
        title = t.ngettext("Go ahead — {count} person", "Go ahead — {count} people",
                           max(o.persons, 1))  # fmt: skip
        what = (N_("pass Culture booking validated.") if o.outcome == "admit"
                else N_("Accepted: pass Culture will confirm the booking later."))  # fmt: skip
        then = N_("Enjoy your visit!")
    elif o.outcome == "undone":
        fill, ink, icon = AMBER_LIGHT, AMBER, "info"
        title, what, then = t._("Validation undone"), N_("The booking can be used again."), ""
    elif o.outcome == "desk" or not o.stored:
        fill, ink, icon = AMBER_LIGHT, AMBER, "warning"
        title, (what, then) = t._("Please see the desk"), DESK
    else:
        fill, ink, icon = RED_LIGHT, RED, "cross"
        title, (what, then) = t._("Entry refused"), REFUSALS.get(o.reason, UNKNOWN_REFUSAL)
    items: list[object] = [
        Box(frame, fill, ink, 3),
        Icon(Rect(44, TOP + 44, 150, 150), icon, ink),
        Text(Rect(220, TOP + 30, w - 260, 64), title, 40, bold=True, colour=ink, align="left"),
        Text(Rect(220, TOP + 100, w - 260, 100), t._(what), 26, bold=True, align="left"),
    ]
    bottom = h - 40
    if s.staff and (o.message or o.code):
        # Staff read the hub's own words (a bad API key, pass Culture down): the museum's.
        detail = " · ".join(part for part in (o.code, o.reason, o.message) if part)
        items.append(Text(Rect(40, h - 130, w - 80, 90), detail, 18, colour=MUTED, align="left",
                          data=True))  # fmt: skip
        bottom = h - 130
    if then:
        items.append(Text(Rect(60, TOP + 210, w - 120, bottom - TOP - 210), t._(then), 24,
                          align="left"))  # fmt: skip
    return items
