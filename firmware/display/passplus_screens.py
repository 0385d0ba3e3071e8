"""The Pass+ screens laid out as boxes: the form staff fill from a printed ticket, and the
answer (what the ticket paid and what is left to pay, or why it was refused).

Kept apart from ``screens.py``, which has two entries for them in its table and a
button in the staff menu. The reason codes come from the gate's module
(``firmware/gate/passplus.py``) and the hub's rules (``firmware/passplus/rules.py``);
each is told in the staff's language, the gate's or hub's own words below it.
"""

from __future__ import annotations

from typing import Protocol

from babel.numbers import format_currency
from pygame import Rect

from firmware.display.draw import (
    AMBER,
    GREEN,
    GREEN_LIGHT,
    MUTED,
    RED,
    RED_LIGHT,
    Box,
    Button,
    Icon,
    Text,
)
from firmware.display.i18n import N_, Words
from firmware.display.passplus_ui import PassPlusInput
from firmware.display.ui import Action, UiState

TOP = 64  # as screens.TOP: the top bar
CURRENCY = "EUR"  # Pass+ (Hauts-de-Seine) tickets are in euros

LABELS = {
    "number": N_("Ticket number"),
    "amount": N_("Ticket amount"),
    "price": N_("Price to pay"),
    "date": N_("Ticket date"),
}
WALLETS = {"culture": N_("Culture"), "sport": N_("Sport")}

# reason → what staff tell the visitor / do next
REFUSALS: dict[str, str] = {
    "sport_wallet": N_("A Pass+ sport ticket cannot pay at a museum: only the culture "
                       "wallet can."),
    "unknown_wallet": N_("Pass+ has no such wallet: choose culture or sport as printed."),
    "already_used": N_("This Pass+ ticket has already been used."),
    "bad_number": N_("This is not a Pass+ ticket number: check it on the ticket."),
    "bad_amount": N_("The ticket's amount or the price is not possible: check them."),
    "bad_date": N_("The ticket's date is not a date: check it on the ticket."),
    "not_in_campaign": N_("No Pass+ campaign made tickets on this date: check it."),
    "expired": N_("This Pass+ ticket's campaign is over: it can no longer be used."),
    "hub_offline": N_("The central office cannot be reached: a Pass+ ticket needs it. "
                      "Take another payment."),
    "no_answer": N_("The central office did not answer in time. Try again."),
    "staff_only": N_("Only staff can take a Pass+ ticket: log in first."),
}  # fmt: skip
UNKNOWN_REFUSAL = N_("This Pass+ ticket was refused.")


class Context(Protocol):
    """What a layout needs of ``screens.Context`` (not imported: screens imports this)."""

    width: int
    height: int


def euros(t: Words, cents: int) -> str:
    return format_currency(cents / 100, CURRENCY, locale=t.locale)


def shown(form: PassPlusInput, name: str, t: Words) -> str:
    """A field's value as staff read it on the ticket."""
    text = form.typed[name]
    if name in ("amount", "price"):
        return euros(t, int(text or 0))
    if name == "date":  # DD/MM/YYYY as printed, filled in as typed
        return "/".join(part for part in (text[:2], text[2:4], text[4:]) if part)
    return text


def form(s: UiState, t: Words, ctx: Context) -> list[object]:
    w, h = ctx.width, ctx.height
    p = s.passplus
    left_w = w - 440
    items: list[object] = [
        Text(Rect(24, TOP + 4, left_w - 160, 48), t._("Pass+ ticket"), 28, bold=True,
             align="left"),
        Button(Rect(24 + left_w - 150, TOP + 4, 150, 48), t._("Back"), Action("back"), "quiet",
               size=22),
    ]  # fmt: skip
    for index, name in enumerate(LABELS):
        rect = Rect(24, TOP + 60 + index * 58, left_w, 50)
        label = t._("{field}: {value}", field=t._(LABELS[name]), value=shown(p, name, t))
        style = "selected" if p.active == name else "normal"
        items.append(Button(rect, label, Action("passplus_field", name), style, size=20))
    half = (left_w - 8) // 2
    for index, (wallet, label) in enumerate(WALLETS.items()):
        rect = Rect(24 + index * (half + 8), TOP + 296, half, 50)
        style = "selected" if p.wallet == wallet else "normal"
        items.append(Button(rect, t._(label), Action("passplus_wallet", wallet), style,
                            enabled=not p.waiting, size=20))  # fmt: skip
    hint = Rect(24, TOP + 352, left_w, h - TOP - 356)
    if p.waiting:
        items.append(Text(hint, t._("Asking the central office…"), 20, bold=True, align="left"))
    elif len(p.typed["date"]) == 8 and p.generated_on is None:
        items += [Icon(Rect(hint.x, hint.y + 8, 40, 40), "warning", AMBER),
                  Text(hint.inflate(-48, 0).move(24, 0), t._("This date does not exist."), 20,
                       bold=True, align="left")]  # fmt: skip
    else:
        text = t._("Type each field as printed on the ticket, choose its wallet, then OK.")
        items.append(Text(hint, text, 18, colour=MUTED, align="left"))
    return items + _keypad(t, ctx, p)


def _keypad(t: Words, ctx: Context, p: PassPlusInput) -> list[object]:
    x0, y0 = ctx.width - 396, TOP + 16
    items: list[object] = []
    for index, key in enumerate([*"123456789", "erase", "0", "ok"]):
        rect = Rect(x0 + (index % 3) * 128, y0 + (index // 3) * 98, 118, 88)
        if key == "erase":
            items.append(Button(rect, "", Action("erase"), enabled=not p.waiting, icon="erase"))
        elif key == "ok":
            # OK sends when all is there; before, it moves to the next field.
            items.append(Button(rect, t._("OK"), Action("ok"), "primary", not p.waiting, 28))
        else:
            items.append(Button(rect, key, Action("digit", key), enabled=not p.waiting,
                                size=34, data=True))  # fmt: skip
    return items


def result(s: UiState, t: Words, ctx: Context) -> list[object]:
    o = s.passplus.outcome
    assert o is not None
    w, h = ctx.width, ctx.height
    frame = Rect(16, TOP + 12, w - 32, h - TOP - 28)
    if o.outcome == "redeemed":
        fill, ink, icon = GREEN_LIGHT, GREEN, "check"
        title = t._("Pass+ ticket accepted")
        lines = [t._("Taken from the ticket: {amount}", amount=euros(t, o.pays_cents)),
                 t._("Left to pay: {amount}", amount=euros(t, o.remaining_cents))]  # fmt: skip
    else:
        fill, ink, icon = RED_LIGHT, RED, "cross"
        title = t._("Pass+ ticket refused")
        lines = [t._(REFUSALS.get(o.reason, UNKNOWN_REFUSAL))]
    items: list[object] = [
        Box(frame, fill, ink, 3),
        Icon(Rect(44, TOP + 44, 150, 150), icon, ink),
        Text(Rect(220, TOP + 30, w - 260, 64), title, 36, bold=True, colour=ink, align="left"),
        Text(Rect(220, TOP + 94, w - 260, 40), o.number, 24, bold=True, align="left", data=True),
    ]
    for index, line in enumerate(lines):
        items.append(Text(Rect(220, TOP + 140 + index * 56, w - 260, 52), line, 24, bold=True,
                          align="left"))  # fmt: skip
    if o.message:
        # The gate's or hub's own words (the first use, the campaign's dates): staff only.
        detail = f"{o.reason} · {o.message}"
        items.append(Text(Rect(40, h - 150, w - 300, 90), detail, 16, colour=MUTED,
                          align="left", data=True))  # fmt: skip
    items.append(Button(Rect(w - 236, h - 104, 200, 64), t._("Done"), Action("back"),
                        "primary", size=22))  # fmt: skip
    return items
