"""Each screen laid out as boxes: texts, buttons, icons (no drawing here).

``layout(state, context)`` returns the items of the screen ``state`` is on.
Sizes are for the default 800×480 and scale with the width and height.
Every touch target is at least 48 px; admitted and refused screens show an
icon and words as well as a colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pygame import Rect

from firmware import access
from firmware.display import texts
from firmware.display.draw import (
    AMBER,
    AMBER_LIGHT,
    BLUE,
    GREEN,
    GREEN_LIGHT,
    LINE,
    MUTED,
    RED,
    RED_LIGHT,
    WHITE,
    Bars,
    Box,
    Button,
    Icon,
    Text,
)
from firmware.display.i18n import LANGUAGES, N_, Words, words
from firmware.display.ui import Action, Purpose, Screen, UiState
from firmware.gate.staff import FIGURES

TOP = 64  # the bar with the staff and language buttons


class Value(str):
    """A value shown as it is (a number, a date, an id), not words from the catalogue."""


@dataclass(frozen=True)
class Context:
    width: int
    height: int
    zone: ZoneInfo


def layout(state: UiState, ctx: Context) -> list[object]:
    """The items of the screen ``state`` is on, in drawing order."""
    t = words(state.language)
    return [*_top_bar(state, t, ctx), *_SCREENS[state.screen](state, t, ctx)]


def buttons(items: list[object]) -> list[Button]:
    return [item for item in items if isinstance(item, Button)]


def _top_bar(s: UiState, t: Words, ctx: Context) -> list[object]:
    items: list[object] = [Box(Rect(0, 0, ctx.width, TOP), WHITE, LINE, 1)]
    if s.staff:
        role = t._(texts.ROLES.get(s.session.role or "", texts.ROLES["controle"]))
        # A session opened by an access code has no person's name: its role is its name.
        by_code = s.session.role in access.ROLES
        items.append(
            Text(
                Rect(12, 8, 250, 48),
                role if by_code else t._("{name} · {role}", name=s.session.name, role=role),
                20,
                bold=True,
                align="left",
            )
        )
        items.append(
            Button(Rect(270, 8, 170, 48), t._("Log out"), Action("logout"), size=20, icon="lock")
        )
    elif s.screen in (Screen.IDLE, Screen.ADMITTED, Screen.REFUSED):
        items.append(
            Button(
                Rect(8, 8, 170, 48),
                t._("Staff"),
                Action("staff"),
                style="quiet",
                size=20,
                icon="person",
            )
        )
    for index, code in enumerate(LANGUAGES):
        rect = Rect(ctx.width - 72 * (len(LANGUAGES) - index), 8, 64, 48)
        style = "selected" if code == s.language else "normal"
        items.append(
            Button(rect, code.upper(), Action("language", code), style, size=22, data=True)
        )
    return items


# -- visitor screens ---------------------------------------------------------------------


def _idle(s: UiState, t: Words, ctx: Context) -> list[object]:
    w, h = ctx.width, ctx.height
    return [
        Icon(Rect(w // 2 - 75, TOP + 30, 150, 140), "card", BLUE),
        Text(Rect(40, TOP + 185, w - 80, 64), t._("Please present your pass"), 46, bold=True),
        Text(
            Rect(60, TOP + 255, w - 120, 80),
            t._("Hold your Museums-PASS-Musées against the reader below the screen."),
            26,
        ),
        Text(
            Rect(40, h - 56, w - 80, 40), t._("Need help? Please see the desk."), 20, colour=MUTED
        ),
    ]


def _result_frame(
    ctx: Context, fill: tuple[int, int, int], ink: tuple[int, int, int], icon: str
) -> list[object]:
    return [
        Box(Rect(16, TOP + 12, ctx.width - 32, ctx.height - TOP - 28), fill, ink, 3),
        Icon(Rect(44, TOP + 44, 150, 150), icon, ink),
    ]


def _admitted(s: UiState, t: Words, ctx: Context) -> list[object]:
    o = s.outcome
    assert o is not None
    w = ctx.width
    title = (
        t._("Welcome — go ahead")
        if o.persons <= 1
        else t.ngettext("Go ahead — {count} person", "Go ahead — {count} people", o.persons)
    )
    items = [
        *_result_frame(ctx, GREEN_LIGHT, GREEN, "check"),
        Text(Rect(220, TOP + 30, w - 260, 110), title, 44, bold=True, colour=GREEN, align="left"),
    ]
    lines = []
    if o.valid_until is not None:
        lines.append(t._("Pass valid until {date}", date=t.date(o.valid_until)))
    if o.operator:
        lines.append(t._("Entry recorded by {name}", name=o.operator))
    if lines:
        items.append(Text(Rect(220, TOP + 145, w - 260, 80), "\n".join(lines), 26, align="left"))
    if not o.renewal_hint:
        # One figure per person let through: the group size at a glance, without words.
        shown = min(o.persons, 8)
        left = 220
        for index in range(shown):
            items.append(Icon(Rect(left + index * 72, TOP + 250, 64, 64), "person", GREEN))
    if o.renewal_hint:
        box = Rect(44, TOP + 240, w - 88, ctx.height - TOP - 280)
        items += [
            Box(box, AMBER_LIGHT, AMBER, 2),
            Icon(Rect(box.x + 16, box.centery - 28, 56, 56), "info", AMBER),
            Text(
                Rect(box.x + 90, box.y + 8, box.width - 106, box.height - 16),
                t._("Your pass ends soon: you can already renew it at the desk."),
                26,
                bold=True,
                align="left",
            ),
        ]
    return items


def _refused(s: UiState, t: Words, ctx: Context) -> list[object]:
    o = s.outcome
    assert o is not None
    w, h = ctx.width, ctx.height
    if not o.stored:
        title, (what, then), ink = t._("Out of order"), texts.NOT_STORED, AMBER
        items = _result_frame(ctx, AMBER_LIGHT, AMBER, "warning")
    else:
        title = t._("Entry refused")
        what, then = texts.REFUSALS.get(o.reason, texts.UNKNOWN_REFUSAL)
        ink = RED
        items = _result_frame(ctx, RED_LIGHT, RED, "cross")
    day = t.date(o.valid_until) if o.valid_until else ""
    bottom = h - 110 if s.staff else h - 40
    items += [
        Text(Rect(220, TOP + 30, w - 260, 64), title, 44, bold=True, colour=ink, align="left"),
        Text(Rect(220, TOP + 100, w - 260, 100), t._(what, date=day), 30, bold=True, align="left"),
        Text(Rect(60, TOP + 210, w - 120, bottom - TOP - 210), t._(then), 28, align="left"),
    ]
    if s.staff and s.last_credential is not None:
        items += [
            Button(
                Rect(40, h - 100, 340, 72),
                t._("Pass information"),
                Action("info_last"),
                icon="info",
            ),
            Button(
                Rect(w - 380, h - 100, 340, 72),
                t._("Force an entry"),
                Action("force_last"),
                style="danger",
            ),
        ]
    return items


def _children(s: UiState, t: Words, ctx: Context) -> list[object]:
    p = s.prompt
    assert p is not None
    w, h = ctx.width, ctx.height
    people = 1 + s.children
    left = max(0.0, p.deadline - s.now)
    fraction = min(1.0, left / p.timeout_s)
    return [
        Text(
            Rect(30, TOP + 10, w - 60, 52),
            t._("Welcome! How many children are with you?"),
            34,
            bold=True,
        ),
        Text(
            Rect(30, TOP + 62, w - 60, 32),
            t.ngettext(
                "Up to {count} child under 18", "Up to {count} children under 18", p.allowance
            ),
            22,
            colour=MUTED,
        ),
        Button(
            Rect(w // 2 - 260, TOP + 104, 130, 130),
            "",
            Action("minus"),
            enabled=s.children > 0,
            icon="minus",
        ),
        Text(Rect(w // 2 - 110, TOP + 104, 220, 100), str(s.children), 96, bold=True, data=True),
        Text(
            Rect(w // 2 - 110, TOP + 204, 220, 32),
            t.ngettext("{count} child", "{count} children", s.children),
            24,
        ),
        Button(
            Rect(w // 2 + 130, TOP + 104, 130, 130),
            "",
            Action("plus"),
            enabled=s.children < p.allowance,
            icon="plus",
        ),
        Button(
            Rect(w // 2 - 250, TOP + 254, 500, 80),
            t.ngettext("Confirm — {count} person", "Confirm — {count} people", people),
            Action("confirm"),
            style="go",
            size=30,
            icon="check",
        ),
        Text(
            Rect(40, h - 64, w - 80, 30),
            t._("Confirmed by itself in {seconds} s", seconds=t.number(round(left))),
            20,
            colour=MUTED,
        ),
        Box(Rect(40, h - 28, w - 80, 12), LINE),
        Box(Rect(40, h - 28, int((w - 80) * fraction), 12), BLUE),
    ]


# -- staff screens -----------------------------------------------------------------------


def _title(t: Words, ctx: Context, title: str, back: bool = True, beside: int = 0) -> list[object]:
    """The screen's title and its Back button, leaving ``beside`` px before Back for a button."""
    items: list[object] = [
        Text(
            Rect(24, TOP + 8, ctx.width - (230 if back else 48) - beside, 56),
            title,
            32,
            bold=True,
            align="left",
        )
    ]
    if back:
        items.append(
            Button(
                Rect(ctx.width - 194, TOP + 8, 176, 56),
                t._("Back"),
                Action("back"),
                style="quiet",
                size=22,
            )
        )
    return items


def _notice(rect: Rect, text: str, size: int = 24) -> list[object]:
    """A warning in a box: an icon and words, not a colour alone."""
    return [
        Box(rect, AMBER_LIGHT, AMBER, 3),
        Icon(Rect(rect.x + 14, rect.centery - 26, 52, 52), "warning", AMBER),
        Text(
            Rect(rect.x + 80, rect.y + 6, rect.width - 94, rect.height - 12),
            text,
            size,
            bold=True,
            align="left",
        ),
    ]


def _loading(t: Words, ctx: Context) -> list[object]:
    return [Text(Rect(24, TOP + 160, ctx.width - 48, 60), t._("Loading…"), 28, colour=MUTED)]


def _staff_login(s: UiState, t: Words, ctx: Context) -> list[object]:
    w = ctx.width
    items = _title(t, ctx, t._("Staff login: who are you?"), beside=ACCESS_BUTTON_W + 16)
    # Always there, even with no account yet: a technician setting the gate up needs it most.
    items.append(
        Button(
            Rect(w - 194 - 12 - ACCESS_BUTTON_W, TOP + 8, ACCESS_BUTTON_W, 56),
            t._("Access code"),
            Action("access_code"),
            size=22,
            icon="lock",
        )
    )
    if s.roster is None:
        return items + _loading(t, ctx)
    if not s.roster:
        return items + [
            Text(
                Rect(40, TOP + 100, w - 80, 160),
                t._(
                    "No staff account on this gate yet. A technician adds one with the command "
                    "{command}.",
                    command="portique staff add",
                ),
                26,
            )
        ]
    col_w = (w - 100) // 2
    for index, name in enumerate(s.roster[:8]):
        x = 40 + (index % 2) * (col_w + 20)
        y = TOP + 80 + (index // 2) * 76
        items.append(
            Button(Rect(x, y, col_w, 64), name, Action("login_as", name), data=True, icon="person")
        )
    if s.locked_for:
        items += _notice(Rect(40, ctx.height - 84, w - 80, 72), _locked(t, s))
    return items


ACCESS_BUTTON_W = 220
# The code's keys in base32's own order: the same for every language, where a
# keyboard's QWERTY, AZERTY or QWERTZ would suit one language and puzzle the others.
CODE_KEYS = (*"ABCDEFGHI", *"JKLMNOPQR", *"STUVWXYZ", "erase", *"234567", "ok")
CODE_GROUPS_PER_LINE = 8


def _access_code(s: UiState, t: Words, ctx: Context) -> list[object]:
    w, h = ctx.width, ctx.height
    header = Rect(16, TOP + 4, w - 16 - 182, 86)
    items: list[object] = [
        Button(Rect(w - 166, TOP + 14, 150, 64), t._("Back"), Action("back"), "quiet", size=22)
    ]
    problems = []
    if s.code_error and s.code_error != "locked":
        reason = texts.ACCESS_REFUSALS.get(s.code_error, texts.UNKNOWN_ACCESS_REFUSAL)
        problems.append(t._(reason))
    if s.code_locked_for:
        problems.append(
            t._("Too many wrong codes. Try again in {time}.", time=t.duration(s.code_locked_for))
        )
    if problems:
        items += _notice(header, "\n".join(problems), 20)
    else:
        groups = -(-access.CODE_CHARS // access.GROUP)
        typing = min(groups, len(s.code) // access.GROUP + 1)
        items += [
            Text(Rect(header.x + 8, header.y, 300, header.height), t._("Access code"), 30,
                 bold=True, align="left"),
            Text(Rect(header.x + 316, header.y, header.width - 324, header.height),
                 t._("Group {group} of {total}", group=typing, total=groups), 22, colour=MUTED,
                 align="right"),
        ]  # fmt: skip
    field = Rect(16, TOP + 96, w - 32, 88)
    items.append(Box(field, WHITE, BLUE, 3))
    if s.code:
        items.append(Text(field.inflate(-24, -8), _grouped(s.code), 22, bold=True, data=True))
    else:
        hint = t._("Type the code from the central office: letters A–Z and digits 2–7, then OK.")
        items.append(Text(field.inflate(-24, -8), hint, 22, colour=MUTED))
    return items + _code_keys(s, t, ctx, Rect(0, TOP + 192, w, h - TOP - 192))


def _grouped(code: str) -> str:
    """The code in groups of five, as the office prints it, a line per few groups."""
    groups = [code[i : i + access.GROUP] for i in range(0, len(code), access.GROUP)]
    per = CODE_GROUPS_PER_LINE
    return "\n".join(" ".join(groups[i : i + per]) for i in range(0, len(groups), per))


def _code_keys(s: UiState, t: Words, ctx: Context, area: Rect) -> list[object]:
    """The on-screen keyboard: four rows of nine, OK three keys wide."""
    gap, columns, rows = 6, 9, 4
    key_w = (area.width - 16 - gap * (columns - 1)) // columns
    key_h = (area.height - 6 - gap * (rows - 1)) // rows
    x0 = area.x + (area.width - columns * key_w - gap * (columns - 1)) // 2
    items: list[object] = []
    for index, key in enumerate(CODE_KEYS):
        rect = Rect(x0 + (index % columns) * (key_w + gap), area.y + (index // columns) *
                    (key_h + gap), key_w, key_h)  # fmt: skip
        if key == "erase":
            items.append(Button(rect, "", Action("erase"), icon="erase"))
        elif key == "ok":
            rect.width = 3 * key_w + 2 * gap
            ready = bool(s.code) and not s.code_locked_for
            items.append(Button(rect, t._("OK"), Action("ok"), "primary", ready, 28))
        else:
            items.append(Button(rect, key, Action("char", key), size=28, data=True))
    return items


def _locked(t: Words, s: UiState) -> str:
    return t._("Too many wrong PINs. Try again in {time}.", time=t.duration(s.locked_for))


def _keypad(t: Words, ctx: Context, enabled: bool = True) -> list[object]:
    x0, y0 = ctx.width - 396, TOP + 16
    keys = [*"123456789", "erase", "0", "ok"]
    items: list[object] = []
    for index, key in enumerate(keys):
        rect = Rect(x0 + (index % 3) * 128, y0 + (index // 3) * 98, 118, 88)
        if key == "erase":
            items.append(Button(rect, "", Action("erase"), enabled=enabled, icon="erase"))
        elif key == "ok":
            items.append(Button(rect, t._("OK"), Action("ok"), "primary", enabled, 28))
        else:
            items.append(
                Button(rect, key, Action("digit", key), enabled=enabled, size=34, data=True)
            )
    return items


def _staff_pin(s: UiState, t: Words, ctx: Context) -> list[object]:
    left_w = ctx.width - 440
    items: list[object] = [
        Text(
            Rect(24, TOP + 16, left_w, 80),
            t._("PIN for {name}", name=s.login_name),
            30,
            bold=True,
            align="left",
        ),
    ]
    shown = max(4, len(s.pin))
    for index in range(shown):
        kind = "dot" if index < len(s.pin) else "ring"
        items.append(Icon(Rect(30 + index * 40, TOP + 116, 28, 28), kind, BLUE))
    if s.locked_for:
        items += _notice(Rect(24, TOP + 170, left_w, 150), _locked(t, s), 22)
    elif s.login_error:
        items += _notice(Rect(24, TOP + 170, left_w, 110), t._("Wrong PIN. Please try again."))
    items.append(
        Button(
            Rect(24, ctx.height - 84, 200, 64), t._("Back"), Action("back"), style="quiet", size=22
        )
    )
    return items + _keypad(t, ctx, enabled=not s.locked_for)


_KEYPAD_TEXTS = {
    Purpose.NUMBER: (
        N_("Entry by pass number"),
        N_("Type the number printed on the pass, then OK: the gate decides as for a tap."),
    ),
    Purpose.PAPER: (N_("Old paper pass"), N_("Type the number of the old paper pass, then OK.")),
    Purpose.INFO: (N_("Pass information"), N_("Type the number printed on the pass, then OK.")),
}


def _typed_number(s: UiState, t: Words, ctx: Context) -> list[object]:
    left_w = ctx.width - 440
    title, hint = _KEYPAD_TEXTS[s.purpose]
    field = Rect(24, TOP + 104, left_w, 72)
    return [
        Text(Rect(24, TOP + 16, left_w, 80), t._(title), 30, bold=True, align="left"),
        Box(field, WHITE, BLUE, 3),
        Text(field.inflate(-24, -8), s.typed, 40, bold=True, align="left", data=True),
        Text(Rect(24, TOP + 188, left_w, 130), t._(hint), 22, align="left"),
        Button(
            Rect(24, ctx.height - 84, 200, 64), t._("Back"), Action("back"), style="quiet", size=22
        ),
        *_keypad(t, ctx),
    ]


def _staff_menu(s: UiState, t: Words, ctx: Context) -> list[object]:
    w = ctx.width
    entries = [
        ("force", N_("Force an entry"), "warning"),
        ("number", N_("Entry by pass number"), "card"),
        ("paper", N_("Old paper pass"), "card"),
        ("info", N_("Pass information"), "info"),
    ]
    if FIGURES in s.session.functions:
        entries.append(("figures", N_("Today's figures"), "person"))
    entries.append(("status", N_("Data and sync status"), "info"))
    col_w = (w - 60) // 2
    items: list[object] = []
    for index, (target, label, icon) in enumerate(entries):
        x = 20 + (index % 2) * (col_w + 20)
        y = TOP + 16 + (index // 2) * 96
        items.append(Button(Rect(x, y, col_w, 84), t._(label), Action("menu", target), icon=icon))
    status = s.status
    if status is not None and status.stale:
        items += _notice(Rect(20, ctx.height - 100, w - 40, 88), _stale_text(t, status), 22)
    return items


def _stale_text(t: Words, status) -> str:  # noqa: ANN001 - a StatusView
    if status.list_age_s is None:
        return t._("No pass list: every pass is refused. Load a list from the hub.")
    return t._(
        "Data out of date: the pass list is {age} old. Decisions may be wrong: "
        "synchronise the gate.",
        age=t.duration(status.list_age_s),
    )


def _force_entry(s: UiState, t: Words, ctx: Context) -> list[object]:
    w, h = ctx.width, ctx.height
    kind, value = s.force_credential
    if kind == "number":
        target = t._("For pass number {number}.", number=value)
    elif kind == "chip":
        target = t._("For the pass last presented.")
    else:
        target = t._("No pass: the entry is recorded without a pass number.")
    items = [
        *_title(t, ctx, t._("Force an entry")),
        Text(Rect(24, TOP + 70, w - 48, 34), target, 22, align="left"),
        Text(Rect(24, TOP + 106, w - 48, 34), t._("Choose a reason:"), 22, bold=True, align="left"),
    ]
    col_w = (w - 60) // 2
    for index, (code, label) in enumerate(texts.FORCE_REASONS.items()):
        chosen = code == s.force_reason
        rect = Rect(20 + (index % 2) * (col_w + 20), TOP + 148 + (index // 2) * 84, col_w, 72)
        items.append(
            Button(
                rect,
                t._(label),
                Action("reason", code),
                "selected" if chosen else "normal",
                icon="check" if chosen else "",
            )
        )
    label = t._("Force the entry") if s.force_reason else t._("Choose a reason first")
    items.append(
        Button(
            Rect(w - 420, h - 88, 400, 76),
            label,
            Action("force"),
            "danger",
            enabled=bool(s.force_reason),
            icon="warning",
        )
    )
    return items


def _pass_info(s: UiState, t: Words, ctx: Context) -> list[object]:
    info = s.pass_info
    if info is None:
        return _title(t, ctx, t._("Pass information")) + _loading(t, ctx)
    w = ctx.width
    if not info.found:
        return [
            *_title(t, ctx, t._("Unknown pass")),
            *_notice(
                Rect(24, TOP + 90, w - 48, 140),
                t._(
                    "Pass {number} is not in this gate's list. The list may be out of date: "
                    "check the data status.",
                    number=info.credential,
                ),
            ),
        ]
    never = t._("none")
    rows = [
        (t._("ID number"), Value(info.id_number) if info.id_number else never),
        (t._("Holders"), Value(t.number(info.persons))),
        (t._("Children allowed"), Value(t.number(info.children))),
        (
            t._("State"),
            t._("expired")
            if info.expired
            else t._(texts.PASS_STATES.get(info.state or "", "none")),
        ),
        (t._("Activated on"), Value(t.date(info.activated_on)) if info.activated_on else never),
        (t._("Valid until"), Value(t.date(info.valid_until)) if info.valid_until else never),
        (t._("Last entry at this gate"), _when(t, ctx, info.last_entry_wall) or never),
    ]
    items = [
        *_title(t, ctx, t._("Pass {number}", number=info.pass_number)),
        *_rows(Rect(24, TOP + 72, w - 48, 0), rows, 36),
    ]
    if info.renewal_possible:
        items.append(
            Text(
                Rect(24, ctx.height - 92, w - 460, 76),
                t._("Renewal possible: the pass ends soon."),
                22,
                bold=True,
                colour=AMBER,
                align="left",
            )
        )
    items.append(
        Button(
            Rect(w - 420, ctx.height - 88, 400, 76),
            t._("Force an entry"),
            Action("force_info"),
            "danger",
            icon="warning",
        )
    )
    return items


def _when(t: Words, ctx: Context, wall: float | None) -> str:
    if wall is None:
        return ""
    from datetime import datetime

    moment = datetime.fromtimestamp(wall, ctx.zone)
    return t._("{date}, {time}", date=t.date(moment.date()), time=t.time(wall, ctx.zone))


def _rows(top: Rect, rows: list[tuple[str, str]], step: int, label_w: int = 330) -> list[object]:
    items: list[object] = []
    for index, (label, value) in enumerate(rows):
        y = top.y + index * step
        items.append(
            Text(Rect(top.x, y, label_w - 10, step - 4), label, 22, colour=MUTED, align="left")
        )
        items.append(
            Text(
                Rect(top.x + label_w, y, top.width - label_w, step - 4),
                value,
                22,
                bold=True,
                align="left",
                data=isinstance(value, Value),
            )
        )
    return items


def _figures(s: UiState, t: Words, ctx: Context) -> list[object]:
    f = s.figures
    if f is None:
        return _title(t, ctx, t._("Today's figures")) + _loading(t, ctx)
    w = ctx.width
    rows = [
        (t._("Entries"), Value(t.number(f.entries))),
        (t._("Accompanying children"), Value(t.number(f.children))),
        (t._("People in total"), Value(t.number(f.people))),
        (t._("Billable entries"), Value(t.number(f.billable))),
        (t._("Forced entries"), Value(t.number(f.forced))),
    ]
    refusals = [
        (t._(texts.REFUSAL_NAMES.get(code, texts.OTHER_REFUSAL)), Value(t.number(count)))
        for code, count in f.refusals[:3]
    ]
    items = [
        *_title(t, ctx, t._("Today's figures — {date}", date=t.date(f.day))),
        *_rows(Rect(24, TOP + 70, 360, 0), rows, 36, label_w=270),
        Text(Rect(24, TOP + 256, 360, 32), t._("Refusals"), 22, bold=True, align="left"),
        *_rows(Rect(24, TOP + 290, 360, 0), refusals or [(t._("none"), "")], 32, label_w=270),
        Text(Rect(410, TOP + 70, w - 430, 32), t._("Entries by hour"), 22, bold=True, align="left"),
    ]
    busy = [hour for hour, count in enumerate(f.by_hour) if count]
    first, last = min([9, *busy]), max([18, *busy])
    hours = range(first, last + 1)
    items.append(
        Bars(
            Rect(410, TOP + 110, w - 430, ctx.height - TOP - 130),
            tuple(f.by_hour[h] for h in hours),
            tuple(str(h) for h in hours),
        )
    )
    return items


def _status(s: UiState, t: Words, ctx: Context) -> list[object]:
    st = s.status
    if st is None:
        return _title(t, ctx, t._("Data and sync status")) + _loading(t, ctx)
    w = ctx.width
    items = _title(t, ctx, t._("Data and sync status"))
    y = TOP + 70
    if st.stale:
        items += _notice(Rect(20, y, w - 40, 96), _stale_text(t, st), 24)
        y += 108
    no_sync = t._("not connected / no sync yet")
    age = t.duration(st.list_age_s) if st.list_age_s is not None else ""
    sync = st.sync
    reader = {None: t._("not started"), True: t._("working"), False: t._("not working")}
    rows = [
        (
            t._("Pass list"),
            t._("version {version}, {age} old", version=st.list_version, age=age)
            if age
            else t._("none"),
        ),
        (
            t._("Journal"),
            t._("last record no. {seq}", seq=t.number(st.journal_last_seq))
            if st.journal_ok
            else t._("cannot record: see the log"),
        ),
        (
            t._("Hub connection"),
            no_sync
            if sync.broker_connected is None
            else t._("connected")
            if sync.broker_connected
            else t._("not connected"),
        ),
        (
            t._("Records not yet sent"),
            no_sync if sync.backlog is None else Value(t.number(sync.backlog)),
        ),
        (t._("Last acknowledgement"), _when(t, ctx, sync.last_ack_wall) or no_sync),
        (t._("NFC reader"), reader[st.reader_up]),
        (
            t._("Clock"),
            t._("trusted")
            if st.time_trusted and st.clock_trusted
            else t._("not trusted: last known time used"),
        ),
        (
            t._("Since the start"),
            t._(
                "{taps} decided, {admitted} admitted, {refused} refused",
                taps=t.number(st.taps),
                admitted=t.number(st.admitted),
                refused=t.number(st.refused),
            ),
        ),
        (t._("Walked through without entry"), Value(t.number(st.unexpected_passages))),
        (
            t._("Outages since the start"),
            t._(
                "screen {screen}, reader {reader}",
                screen=t.number(st.display_failures),
                reader=t.number(st.reader_reconnects),
            ),
        ),
    ]
    if not st.stale:  # the stale-data warning needs the room, and matters more
        rows.append((t._("Software"), _software(t, st)))
    step = min(38, (ctx.height - y - 8) // len(rows))
    return items + _rows(Rect(24, y, w - 48, 0), rows, step)


def _software(t: Words, st) -> str:  # noqa: ANN001 - a StatusView
    """The version the gate runs and, from the office's release notice, whether a newer exists."""
    if st.update_available:
        return t._("{running}; new: {new}", running=st.software_version, new=st.release_version)
    return t._("version {running}", running=st.software_version)


_SCREENS: dict[Screen, Callable[[UiState, Words, Context], list[object]]] = {
    Screen.IDLE: _idle,
    Screen.ADMITTED: _admitted,
    Screen.REFUSED: _refused,
    Screen.CHILDREN: _children,
    Screen.STAFF_LOGIN: _staff_login,
    Screen.STAFF_PIN: _staff_pin,
    Screen.ACCESS_CODE: _access_code,
    Screen.STAFF_MENU: _staff_menu,
    Screen.FORCE: _force_entry,
    Screen.KEYPAD: _typed_number,
    Screen.PASS_INFO: _pass_info,
    Screen.FIGURES: _figures,
    Screen.STATUS: _status,
}
