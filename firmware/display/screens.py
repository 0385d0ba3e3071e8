"""Each screen laid out as boxes: texts, buttons, icons (no drawing here).

``layout(state, context)`` returns the items of the screen ``state`` is on,
in the panel's pixels. Screens lay out on a base frame of at least 800×480
(``firmware/display/frame.py``), scaled to the panel as a whole. Every touch
target is at least 48 layout units (9 mm on the official 7" panel);
admitted and refused screens show an icon and words as well as a colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pygame import Rect

from firmware import access
from firmware.display import culture_screens, passplus_screens, texts
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
from firmware.display.frame import Frame
from firmware.display.i18n import LANGUAGES, N_, Words, words
from firmware.display.passplus_ui import may_take
from firmware.display.ui import (
    Action,
    Purpose,
    Screen,
    UiState,
    force_offered,
    info_offered,
)
from firmware.gate.staff import FIGURES

# The counter's functions (firmware/counter/roles.py) that open its pages from the menu.
COUNTER_FUNCTIONS = frozenset({"sales", "renewals", "statistics", "pass_orders", "cash_register"})
# The counter's pages: firmware/display/desk_screens.py puts its layouts here when imported
# (it builds on this module's helpers, so this module cannot import it).
DESK_PAGES: dict[str, Callable[[UiState, Words, Context], list[object]]] = {}
TOP = 64  # the bar with the staff and language buttons


class Value(str):
    """A value shown as it is (a number, a date, an id), not words from the catalogue."""


@dataclass(frozen=True)
class Context:
    width: int
    height: int
    zone: ZoneInfo


def layout(state: UiState, ctx: Context) -> list[object]:
    """The items of the screen ``state`` is on, in drawing order, in panel pixels."""
    t = words(state.language)
    frame = Frame.of(ctx.width, ctx.height)
    base = Context(frame.width, frame.height, ctx.zone)
    if state.screen is Screen.DESK or (
        state.screen is Screen.IDLE and state.desk is not None and state.desk.desk_mode
    ):
        page = DESK_PAGES["desk" if state.screen is Screen.DESK else "idle"]
        return frame.scale([*_top_bar(state, t, base), *page(state, t, base)])
    return frame.scale([*_top_bar(state, t, base), *_SCREENS[state.screen](state, t, base)])


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
    items += culture_screens.top_bar_button(s, t, ctx)
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
    items: list[object] = [
        Icon(Rect(40, TOP + 24, 120, 112), "card", BLUE),
        Text(Rect(180, TOP + 16, w - 200, 64), t._("Please present your pass"), 44, bold=True,
             align="left"),
        Text(Rect(180, TOP + 84, w - 200, 64),
             t._("Hold your Museums-PASS-Musées against the reader below the screen."), 24,
             align="left"),
    ]  # fmt: skip
    # Children are chosen before the tap, so the gate opens at the tap itself.
    row = Rect(40, TOP + 168, w - 80, h - TOP - 168 - 56)
    items += [
        Box(row, WHITE, LINE, 2),
        Text(Rect(row.x + 20, row.y + 8, row.width - 440, row.height - 16),
             t._("Children with you? Choose before you tap."), 24, bold=True, align="left"),
    ]  # fmt: skip
    items += children_picker(s, t, Rect(row.right - 410, row.y + 20, 390, row.height - 40))
    items.append(
        Text(Rect(40, h - 50, w - 80, 40), t._("Need help? Please see the desk."), 20,
             colour=MUTED)
    )  # fmt: skip
    return items


def children_picker(s: UiState, t: Words, area: Rect) -> list[object]:
    """− count +, the count large and in words, for the number of children of an entry."""
    side = min(area.height, 120)
    y = area.centery - side // 2
    middle = Rect(area.x + side + 8, area.y, area.width - 2 * side - 16, area.height)
    return [
        Button(Rect(area.x, y, side, side), "", Action("minus"), enabled=s.children > 0,
               icon="minus"),
        Text(Rect(middle.x, middle.y, middle.width, middle.height * 2 // 3), str(s.children),
             min(72, middle.height * 2 // 3), bold=True, data=True),
        Text(Rect(middle.x, middle.y + middle.height * 2 // 3, middle.width, middle.height // 3),
             t.ngettext("{count} child", "{count} children", s.children), 20),
        Button(Rect(area.right - side, y, side, side), "", Action("plus"),
               enabled=s.children < s.children_allowed, icon="plus"),
    ]  # fmt: skip


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
    if o.repeat_of is not None:
        # Tapped again moments after entering: the admission again, not a refusal.
        title = t._("Already admitted at {time}", time=t.time(o.repeat_of, ctx.zone))
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
    if s.staff and force_offered(o):
        # Both act on exactly the credential refused here, never on an earlier one.
        if info_offered(o):
            items.append(Button(Rect(40, h - 100, 340, 72), t._("Pass information"),
                                Action("info_shown"), icon="info"))  # fmt: skip
        items.append(Button(Rect(w - 380, h - 100, 340, 72), t._("Force an entry"),
                            Action("force_shown"), style="danger"))  # fmt: skip
    return items


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
    if s.accounts is None:
        return items + _loading(t, ctx)
    if not s.accounts:
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
    # The name is typed, never listed: whoever stands at the gate learns no one's name.
    field = Rect(16, TOP + 72, w - 32, 64)
    items.append(Box(field, WHITE, BLUE, 3))
    if s.login_name:
        items.append(Text(field.inflate(-24, -8), s.login_name, 30, bold=True, align="left",
                          data=True))  # fmt: skip
    else:
        items.append(Text(field.inflate(-24, -8), t._("Type your name, then OK."), 22,
                          colour=MUTED, align="left"))  # fmt: skip
    if s.locked_for:
        return items + _notice(Rect(16, TOP + 144, w - 32, ctx.height - TOP - 152), _locked(t, s))
    ready = bool(s.login_name.strip())
    return items + keyboard(t, NAME_KEYS, Rect(0, TOP + 142, w, ctx.height - TOP - 142), ready)


ACCESS_BUTTON_W = 220
# The code's keys in base32's own order: the same for every language, where a
# keyboard's QWERTY, AZERTY or QWERTZ would suit one language and puzzle the others.
CODE_KEYS = (*"ABCDEFGHI", *"JKLMNOPQR", *"STUVWXYZ", "erase", *"234567", "ok")
# A name's keys: the same alphabetical order; accents and case need not be typed.
NAME_KEYS = (*"ABCDEFGHI", *"JKLMNOPQR", *"STUVWXYZ", "erase", "-", "'", " ", "ok")
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
    ready = bool(s.code) and not s.code_locked_for
    return items + keyboard(t, CODE_KEYS, Rect(0, TOP + 192, w, h - TOP - 192), ready)


def _grouped(code: str) -> str:
    """The code in groups of five, as the office prints it, a line per few groups."""
    groups = [code[i : i + access.GROUP] for i in range(0, len(code), access.GROUP)]
    per = CODE_GROUPS_PER_LINE
    return "\n".join(" ".join(groups[i : i + per]) for i in range(0, len(groups), per))


def keyboard(t: Words, keys: tuple[str, ...], area: Rect, ready: bool) -> list[object]:
    """An on-screen keyboard of nine keys a row filling ``area``; OK is three keys wide."""
    gap, columns = 6, 9
    rows = -(-(len(keys) + 2) // columns)
    key_w = (area.width - 16 - gap * (columns - 1)) // columns
    key_h = (area.height - 6 - gap * (rows - 1)) // rows
    x0 = area.x + (area.width - columns * key_w - gap * (columns - 1)) // 2
    items: list[object] = []
    for index, key in enumerate(keys):
        rect = Rect(x0 + (index % columns) * (key_w + gap), area.y + (index // columns) *
                    (key_h + gap), key_w, key_h)  # fmt: skip
        if key == "erase":
            items.append(Button(rect, "", Action("erase"), icon="erase"))
        elif key == "ok":
            rect.width = 3 * key_w + 2 * gap
            items.append(Button(rect, t._("OK"), Action("ok"), "primary", ready, 28))
        elif key == " ":
            items.append(Button(rect, "␣", Action("char", key), size=28, data=True))
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
    field = Rect(24, TOP + 96, left_w, 64)
    entry = s.purpose is not Purpose.INFO  # an entry carries its children, like a tap's
    items: list[object] = [
        Text(Rect(24, TOP + 8, left_w, 80), t._(title), 30, bold=True, align="left"),
        Box(field, WHITE, BLUE, 3),
        Text(field.inflate(-24, -8), s.typed, 40, bold=True, align="left", data=True),
        Text(Rect(24, TOP + 166, left_w, 78 if entry else 130), t._(hint), 20, align="left"),
        Button(
            Rect(24, ctx.height - 84, 200, 64), t._("Back"), Action("back"), style="quiet", size=22
        ),
        *_keypad(t, ctx),
    ]
    if entry:
        items += children_picker(s, t, Rect(24, TOP + 250, left_w, 72))
    return items


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
    if COUNTER_FUNCTIONS & s.session.functions:  # the counter's pages, for the roles that sell
        entries.append(("counter", N_("Counter: sales, till, orders"), "card"))
    if may_take(s):
        entries.append(("passplus", N_("Pass+ ticket"), "card"))
    entries.append(("status", N_("Data and sync status"), "info"))
    col_w = (w - 60) // 2
    rows = -(-len(entries) // 2)
    step = min(96, (ctx.height - TOP - 16 - (100 if s.status and s.status.stale else 0)) // rows)
    items: list[object] = []
    for index, (target, label, icon) in enumerate(entries):
        x = 20 + (index % 2) * (col_w + 20)
        y = TOP + 16 + (index // 2) * step
        items.append(
            Button(Rect(x, y, col_w, step - 12), t._(label), Action("menu", target), icon=icon)
        )
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
        target = t._("For the pass refused on screen (chip {serial}).", serial=value)
    elif kind == "paper":
        target = t._("For old paper pass {number}.", number=value)
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
                t._("Expired: it can be renewed at the desk.")
                if info.expired
                else t._("Renewal possible: the pass ends soon."),
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
    items = [
        *_title(t, ctx, t._("Today's figures — {date}", date=t.date(f.day))),
        *_rows(Rect(24, TOP + 64, 360, 0), rows, 32, label_w=270),
        Text(Rect(24, TOP + 226, 360, 30), t._("Refusals"), 22, bold=True, align="left"),
        *_refusal_counts(t, f.refusals, Rect(24, TOP + 258, 370, ctx.height - TOP - 266)),
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


def _refusal_counts(t: Words, refusals: tuple[tuple[str, int], ...], area: Rect) -> list[object]:
    """Every kind of refusal of the day with its count, in two columns."""
    if not refusals:
        return [Text(Rect(area.x, area.y, area.width, 30), t._("none"), 20, align="left")]
    rows = -(-len(refusals) // 2)
    step = min(32, area.height // rows)
    col_w = area.width // 2
    items: list[object] = []
    for index, (code, count) in enumerate(refusals):
        name = t._(texts.REFUSAL_NAMES.get(code, texts.OTHER_REFUSAL))
        rect = Rect(area.x + (index // rows) * col_w, area.y + (index % rows) * step,
                    col_w - 8, step - 2)  # fmt: skip
        items.append(Text(rect, t._("{kind}: {count}", kind=name, count=t.number(count)), 18,
                          align="left"))  # fmt: skip
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
            t._("issued {date}, {age} old", date=_when(t, ctx, st.list_issued_at), age=age)
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
    Screen.STAFF_LOGIN: _staff_login,
    Screen.STAFF_PIN: _staff_pin,
    Screen.ACCESS_CODE: _access_code,
    Screen.STAFF_MENU: _staff_menu,
    Screen.FORCE: _force_entry,
    Screen.KEYPAD: _typed_number,
    Screen.PASS_INFO: _pass_info,
    Screen.FIGURES: _figures,
    Screen.STATUS: _status,
    Screen.CULTURE: culture_screens.keypad,
    Screen.CULTURE_RESULT: culture_screens.result,
    Screen.PASSPLUS: passplus_screens.form,
    Screen.PASSPLUS_RESULT: passplus_screens.result,
}
