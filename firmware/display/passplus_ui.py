"""The Pass+ form's state and actions (no pygame, no drawing).

Staff open it from the staff menu or the desk's home; the public never: a
visitor has no session, a session scoped to one refused pass (a visitor
tapped meanwhile) may act on that pass only, and the role must record
entries or sales. Staff type what the printed ticket shows: its number, its
amount in cents, its date (DDMMYYYY, as printed), the price it pays towards,
and choose its wallet (culture or sport: only culture pays at a museum, so the
wallet is asked, never assumed). OK posts ``PassPlusTicket``; the gate's module
(``firmware/gate/passplus.py``) judges, asks the hub and answers with a
``PassPlusOutcome``, shown on the result screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from firmware.config import DisplaySettings
from firmware.events import PassPlusTicket
from firmware.gate.passplus import MAX_NUMBER, PassPlusOutcome
from firmware.passplus.rules import WALLETS

# The two screens' names (``ui.Screen`` takes them; this module never imports ``ui``).
PASSPLUS = "passplus"
PASSPLUS_RESULT = "passplus_result"
FIELDS = ("number", "amount", "price", "date")
MIN_NUMBER = 4  # as the gate's module: shorter is no ticket number
MAX_CENTS = 8  # digits of an amount in cents (the gate checks the range)
DATE_DIGITS = 8  # DDMMYYYY
# The functions a role needs to take a Pass+ ticket: it pays for an entry or a sale.
ALLOWED = frozenset({"entries", "sales"})


@dataclass
class PassPlusInput:
    """What the form holds: each field as typed, the field being typed, the last answer."""

    typed: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FIELDS, ""))
    active: str = "number"
    wallet: str = ""  # "" until staff chose: the ticket says which
    waiting: bool = False
    outcome: PassPlusOutcome | None = None

    @property
    def generated_on(self) -> date | None:
        """The ticket's date as typed (DDMMYYYY), or None while it is not a date."""
        text = self.typed["date"]
        if len(text) != DATE_DIGITS:
            return None
        try:
            return date(int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            return None

    @property
    def ready(self) -> bool:
        t = self.typed
        return (not self.waiting and MIN_NUMBER <= len(t["number"]) <= MAX_NUMBER
                and int(t["amount"] or 0) > 0 and int(t["price"] or 0) > 0
                and self.generated_on is not None and self.wallet in WALLETS)  # fmt: skip


def may_take(state: Any) -> bool:
    """Whether the session on screen may take a Pass+ ticket (``state``: a ``UiState``)."""
    return state.staff and not state.scoped and bool(ALLOWED & state.session.functions)


class PassPlusActions:
    """Mixed into ``Ui``: the form's actions (``_do_*``) and the hooks the Ui calls."""

    settings: DisplaySettings
    post: Callable[[object], None]
    state: Any  # ui.UiState, with ``passplus``, ``screen``, ``staff`` and ``session``
    _back_at: float
    go_to: Callable[[str], None]

    def _do_passplus(self, _arg: str) -> None:
        if may_take(self.state):
            self.state.passplus = PassPlusInput()
            self.go_to(PASSPLUS)

    def _do_passplus_field(self, name: str) -> None:
        if name in FIELDS:
            self.state.passplus.active = name

    def _do_passplus_wallet(self, wallet: str) -> None:
        if wallet in WALLETS and not self.state.passplus.waiting:
            self.state.passplus.wallet = wallet

    def passplus_key(self, char: str) -> None:
        """A digit from the keypad, or a letter or dash from a keyboard (numbers only)."""
        form = self.state.passplus
        if form.waiting:
            return
        name = form.active
        text = form.typed[name]
        if name == "number":
            if len(text) < MAX_NUMBER and (char.isdigit() or char.isalpha() or char == "-"):
                form.typed[name] = text + char.upper()
        elif char.isdigit():
            limit = DATE_DIGITS if name == "date" else MAX_CENTS
            if len(text) < limit:
                form.typed[name] = text + char if name == "date" else (text + char).lstrip("0")

    def passplus_erase(self) -> None:
        form = self.state.passplus
        if not form.waiting:
            form.typed[form.active] = form.typed[form.active][:-1]

    def passplus_ok(self) -> None:
        form = self.state.passplus
        if not form.ready or not may_take(self.state):
            # Not every field is there yet: OK moves on to the next one.
            if not form.waiting:
                form.active = FIELDS[(FIELDS.index(form.active) + 1) % len(FIELDS)]
            return
        form.waiting = True
        on = form.generated_on
        assert on is not None  # ready says so
        t = form.typed
        self.post(PassPlusTicket(t["number"], form.wallet, int(t["amount"]), on.isoformat(),
                                 int(t["price"])))  # fmt: skip

    def passplus_view(self, view: PassPlusOutcome, now: float) -> None:
        form = self.state.passplus
        if view.outcome == "waiting":
            return
        if not form.waiting or self.state.screen != PASSPLUS:
            # Staff left the form (logged out, a visitor tapped): the answer is journaled,
            # and the next visitor does not see it.
            form.waiting = False
            return
        form.waiting, form.outcome = False, view
        self.go_to(PASSPLUS_RESULT)
        # Staff read it to the visitor and take the rest: a person's pace.
        self._back_at = now + max(self.settings.result_shown_s, self.settings.refusal_actions_s)
