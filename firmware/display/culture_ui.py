"""The pass Culture keypad's state and actions (no pygame, no drawing).

Visitors open it from the idle screen ("pass Culture code"), staff from the
top bar at the desk. It takes the 6-character counter-mark case-insensitively
and refuses, as it is typed, any character that cannot be in one (0, 1, 8, 9,
I, O and everything else): the field never holds something that is not a code
in the making. OK asks the gate's loop (``PassCultureCode``); staff also have
"Undo" (``PassCultureUndo``). The loop's ``CultureOutcome`` is shown on the
result screen, which gives way like the other result screens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.config import DisplaySettings
from firmware.events import PassCultureCode, PassCultureUndo
from firmware.gate.culture import CultureOutcome
from firmware.passculture.codes import LENGTH, accept_keystroke

# The two screens' names (``ui.Screen`` takes them; this module never imports ``ui``).
CULTURE = "culture"
CULTURE_RESULT = "culture_result"


@dataclass
class CultureInput:
    """What the keypad holds: the code typed, the character just refused, the last answer."""

    typed: str = ""
    refused: str = ""  # the last key refused as typed ("" when the last key was taken)
    waiting: bool = False  # asked; the answer has not come yet
    outcome: CultureOutcome | None = None


class CultureActions:
    """Mixed into ``Ui``: the keypad's actions (``_do_*``) and the hooks the Ui calls."""

    settings: DisplaySettings
    post: Callable[[object], None]
    state: Any  # ui.UiState, with ``culture``, ``screen`` and ``staff``
    _back_at: float
    go_to: Callable[[str], None]  # ``Ui.go_to``: show the screen of that name

    def _culture(self) -> CultureInput:
        return self.state.culture

    def _do_culture(self, _arg: str) -> None:
        self.state.culture = CultureInput()
        self.go_to(CULTURE)

    def culture_key(self, char: str) -> None:
        culture = self._culture()
        if culture.waiting:
            return
        typed = accept_keystroke(culture.typed, char)
        if typed is None:
            culture.refused = char if len(culture.typed) < LENGTH else ""
            return
        culture.typed, culture.refused = typed, ""

    def culture_erase(self) -> None:
        culture = self._culture()
        if not culture.waiting:
            culture.typed, culture.refused = culture.typed[:-1], ""

    def culture_ok(self) -> None:
        culture = self._culture()
        if len(culture.typed) == LENGTH and not culture.waiting:
            culture.waiting = True
            self.post(PassCultureCode(culture.typed, at_desk=self.state.staff))

    def _do_culture_undo(self, _arg: str) -> None:
        culture = self._culture()
        if self.state.staff and len(culture.typed) == LENGTH and not culture.waiting:
            culture.waiting = True
            self.post(PassCultureUndo(culture.typed))

    def culture_abandoned(self, idle_for: float) -> bool:
        """A visitor left the keypad (staff have their own idle logout)."""
        s = self.state
        return (s.screen == CULTURE and not s.staff and not s.culture.waiting
                and idle_for >= self.settings.idle_logout_s)  # fmt: skip

    def culture_view(self, view: CultureOutcome, now: float) -> None:
        culture = self._culture()
        if view.outcome == "waiting":
            culture.waiting = True
            return
        culture.waiting, culture.outcome = False, view
        self.go_to(CULTURE_RESULT)
        self._back_at = now + self.settings.result_shown_s
