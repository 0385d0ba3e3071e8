"""What the screen shows, and what a touch or a key does: no pygame here.

``Ui`` is the screen's own state (which screen, the digits typed, the
language chosen). It changes on three things only: a view from the loop
(``on_view``), an action from a touch or key (``act``), and time passing
(``tick``, by the injected clock). Whatever concerns the gate (an entry, a
login, the figures) it asks the loop for by posting an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from firmware import access
from firmware.clock import Clock
from firmware.config import DisplaySettings
from firmware.display import culture_ui, passplus_ui
from firmware.display.culture_ui import CultureActions, CultureInput
from firmware.display.passplus_ui import PassPlusActions, PassPlusInput
from firmware.events import (
    AccessCodeEntered,
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
from firmware.gate.culture import CultureOutcome
from firmware.gate.figures import Figures
from firmware.gate.passplus import PassPlusOutcome
from firmware.gate.staff import PIN_DIGITS
from firmware.gate.views import (
    AccessCodeRefused,
    LoginRefused,
    Outcome,
    PassInfo,
    StaffRoster,
    StaffSession,
    StatusView,
)

LANGUAGE_RESET_S = 60.0  # the next visitor finds the gate's own language again
STATUS_REFRESH_S = 5.0
MAX_TYPED = 12
MAX_NAME = 40
# The most children offered before a tap; each pass type's own allowance caps it at the gate.
MAX_CHILDREN = 5


class Screen(StrEnum):
    IDLE = "idle"
    ADMITTED = "admitted"
    REFUSED = "refused"
    STAFF_LOGIN = "staff_login"
    STAFF_PIN = "staff_pin"
    ACCESS_CODE = "access_code"
    STAFF_MENU = "staff_menu"
    FORCE = "force_entry"
    KEYPAD = "keypad"
    PASS_INFO = "pass_info"
    FIGURES = "figures"
    STATUS = "status"
    CULTURE = culture_ui.CULTURE  # the pass Culture keypad (firmware/display/culture_ui.py)
    CULTURE_RESULT = culture_ui.CULTURE_RESULT
    PASSPLUS = passplus_ui.PASSPLUS  # staff take a Pass+ ticket (firmware/display/passplus_ui.py)
    PASSPLUS_RESULT = passplus_ui.PASSPLUS_RESULT
    DESK = "desk"  # the counter's pages (firmware/display/desk_ui.py)


RESULT_SCREENS = (Screen.ADMITTED, Screen.REFUSED, Screen.CULTURE_RESULT, Screen.PASSPLUS_RESULT)
LOGIN_SCREENS = (Screen.STAFF_LOGIN, Screen.STAFF_PIN, Screen.ACCESS_CODE)
# A Pass+ answer is staff's: it goes when they log out, like the form.
VISITOR_SCREENS = (Screen.IDLE, Screen.CULTURE, Screen.ADMITTED, Screen.REFUSED,
                   Screen.CULTURE_RESULT)  # fmt: skip
# Where a number of children is chosen: the idle screen before a tap, and staff keypads.
CHILDREN_SCREENS = (Screen.IDLE, Screen.KEYPAD)


class Purpose(StrEnum):
    """What the number typed on the keypad is for."""

    NUMBER = "number"  # an entry by pass number (the chip cannot be read)
    PAPER = "paper"  # an old paper pass
    INFO = "info"  # the pass information page


@dataclass(frozen=True)
class Action:
    """What a button or key asks for: a name and an optional argument."""

    name: str
    arg: str = ""


@dataclass
class UiState:
    language: str
    screen: Screen = Screen.IDLE
    now: float = 0.0  # monotonic, for countdowns
    outcome: Outcome | None = None
    children: int = 0  # chosen for the next entry (idle screen or a staff keypad)
    children_until: float = 0.0  # monotonic: the choice on the idle screen is forgotten then
    session: StaffSession = field(default_factory=StaffSession)
    accounts: bool | None = None  # whether anyone can log in; None until the loop answered
    login_name: str = ""  # typed on the login screen's keyboard (no roster is shown)
    pin: str = ""
    login_error: str = ""  # "", "wrong" or "locked"
    locked_until: float = 0.0
    code: str = ""  # the access code typed, in base32 letters
    code_error: str = ""  # why the loop refused it (an AccessCodeRefused reason)
    code_locked_until: float = 0.0
    purpose: Purpose = Purpose.NUMBER
    typed: str = ""
    force_reason: str = ""
    force_credential: tuple[str, str] = ("none", "")
    pass_info: PassInfo | None = None
    figures: Figures | None = None
    status: StatusView | None = None
    culture: CultureInput = field(default_factory=CultureInput)
    passplus: PassPlusInput = field(default_factory=PassPlusInput)
    desk: Any = None  # the counter's own state (desk_ui.DeskState) when the screen has one

    @property
    def staff(self) -> bool:
        return self.session.name is not None

    @property
    def scoped(self) -> bool:
        """Staff may act on one refused credential only (a visitor tapped meanwhile)."""
        return self.session.scope is not None

    @property
    def children_allowed(self) -> int:
        """The most children the current screen offers."""
        if self.screen is Screen.KEYPAD and self.purpose is Purpose.INFO:
            return 0
        return MAX_CHILDREN

    @property
    def locked_for(self) -> float:
        return max(0.0, self.locked_until - self.now)

    @property
    def code_locked_for(self) -> float:
        return max(0.0, self.code_locked_until - self.now)


class Ui(CultureActions, PassPlusActions):
    """The screen's state machine; every method runs on the screen's thread."""

    def __init__(
        self,
        settings: DisplaySettings,
        language: str,
        post: Callable[[object], None],
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.default_language = language
        self.post = post
        self.clock = clock
        self.state = UiState(language=language, now=clock.monotonic())
        self._back_at = 0.0  # when a result screen gives way
        self._last_touch = self.state.now
        self._status_at = 0.0

    # -- views from the loop -----------------------------------------------

    def on_view(self, view: object) -> None:
        s = self.state
        s.now = self.clock.monotonic()
        if isinstance(view, Outcome):
            s.outcome = view
            s.children, s.children_until = 0, 0.0  # the choice was for this entry only
            s.screen = Screen.ADMITTED if view.admitted else Screen.REFUSED
            self._back_at = s.now + self._result_time(view)
        elif isinstance(view, StaffRoster):
            s.accounts = view.accounts
            s.locked_until = s.now + view.locked_for_s
        elif isinstance(view, StaffSession):
            self._on_session(view)
        elif isinstance(view, LoginRefused):
            s.pin = ""
            s.login_error = "locked" if view.locked_for_s else "wrong"
            s.locked_until = s.now + view.locked_for_s
        elif isinstance(view, AccessCodeRefused):
            # The code stays: a typo in one group is put right, not the whole code retyped.
            s.code_error = view.reason
            s.code_locked_until = s.now + view.locked_for_s
        elif isinstance(view, PassInfo):
            s.pass_info = view
        elif isinstance(view, Figures):
            s.figures = view
        elif isinstance(view, StatusView):
            s.status = view
        elif isinstance(view, CultureOutcome):
            self.culture_view(view, s.now)
        elif isinstance(view, PassPlusOutcome):
            self.passplus_view(view, s.now)

    def _result_time(self, outcome: Outcome) -> float:
        # Staff acting on a refusal need a person's pace, not a passer-by's glance.
        if self.state.staff and not outcome.admitted and outcome.stored:
            return max(self.settings.result_shown_s, self.settings.refusal_actions_s)
        return self.settings.result_shown_s

    def _on_session(self, session: StaffSession) -> None:
        s = self.state
        was_staff, s.session = s.staff, session
        if session.scope is not None:
            # A visitor tapped: the staff menu is gone; only the refusal on screen is left.
            if s.screen not in (Screen.REFUSED, Screen.FORCE, Screen.PASS_INFO):
                s.screen = Screen.IDLE
            elif s.screen is Screen.REFUSED:
                self._back_at = s.now + self.settings.refusal_actions_s
        elif session.name is not None and not was_staff:
            s.pin, s.login_error, s.code, s.code_error = "", "", "", ""
            s.login_name = ""
            s.screen = Screen.STAFF_MENU
            self.post(StatusRequest())  # for the stale-data warning on the menu
        elif session.name is None and s.screen not in VISITOR_SCREENS:
            s.screen = Screen.IDLE

    # -- touches and keys ----------------------------------------------------

    def act(self, action: Action) -> None:
        s = self.state
        s.now = self._last_touch = self.clock.monotonic()
        handler = getattr(self, f"_do_{action.name}", None)
        if handler is None:
            return
        if s.staff and action.name not in ("logout", "ok", "force", "plus", "minus"):
            self.post(StaffActive())
        handler(action.arg)

    def _do_language(self, language: str) -> None:
        self.state.language = language

    def _do_staff(self, _arg: str) -> None:
        s = self.state
        s.accounts, s.login_error, s.login_name = None, "", ""
        s.screen = Screen.STAFF_LOGIN
        self.post(StaffDoor())

    def _do_login_as(self, name: str) -> None:
        """The name is typed (or, from a tool, given whole): then the PIN."""
        s = self.state
        if name.strip():
            s.login_name, s.pin, s.login_error = name.strip(), "", ""
            s.screen = Screen.STAFF_PIN

    def _do_access_code(self, _arg: str) -> None:
        s = self.state
        s.code, s.code_error = "", ""
        s.screen = Screen.ACCESS_CODE

    def _do_char(self, char: str) -> None:
        s = self.state
        if s.screen is Screen.CULTURE:
            self.culture_key(char)
            return
        if s.screen is Screen.PASSPLUS:
            self.passplus_key(char)
            return
        if s.screen is Screen.STAFF_LOGIN:
            if len(s.login_name) < MAX_NAME and (char.isalnum() or char in " -'"):
                s.login_name += char
                s.login_error = ""
            return
        letter = access.normalise(char)  # a 0, 1 or 8 typed meant O, I or B
        if (
            s.screen is Screen.ACCESS_CODE
            and letter
            and letter in access.ALPHABET
            and (len(s.code) < access.CODE_CHARS)
        ):
            s.code += letter
            s.code_error = ""

    def _do_digit(self, digit: str) -> None:
        s = self.state
        if s.screen in (Screen.ACCESS_CODE, Screen.CULTURE, Screen.STAFF_LOGIN, Screen.PASSPLUS):
            self._do_char(digit)
        elif s.screen is Screen.STAFF_PIN and not s.locked_for and len(s.pin) < PIN_DIGITS[1]:
            s.pin += digit
            s.login_error = ""
        elif s.screen is Screen.KEYPAD and len(s.typed) < MAX_TYPED:
            s.typed += digit

    def _do_erase(self, _arg: str) -> None:
        s = self.state
        if s.screen is Screen.STAFF_PIN:
            s.pin = s.pin[:-1]
        elif s.screen is Screen.KEYPAD:
            s.typed = s.typed[:-1]
        elif s.screen is Screen.ACCESS_CODE:
            s.code, s.code_error = s.code[:-1], ""
        elif s.screen is Screen.CULTURE:
            self.culture_erase()
        elif s.screen is Screen.PASSPLUS:
            self.passplus_erase()
        elif s.screen is Screen.STAFF_LOGIN:
            s.login_name = s.login_name[:-1]

    def _do_ok(self, _arg: str) -> None:
        s = self.state
        if s.screen is Screen.STAFF_PIN and len(s.pin) >= PIN_DIGITS[0] and not s.locked_for:
            self.post(StaffLogin(s.login_name, s.pin))
            s.pin = ""
        elif s.screen is Screen.KEYPAD and s.typed:
            self._submit_typed()
        elif s.screen is Screen.ACCESS_CODE and s.code and not s.code_locked_for:
            self.post(AccessCodeEntered(s.code))
        elif s.screen is Screen.STAFF_LOGIN:
            self._do_login_as(s.login_name)
        elif s.screen is Screen.FORCE:
            self._do_force("")
        elif s.screen is Screen.CULTURE:
            self.culture_ok()
        elif s.screen is Screen.PASSPLUS:
            self.passplus_ok()

    def _submit_typed(self) -> None:
        s = self.state
        if s.purpose is Purpose.NUMBER:
            self.post(TypedPassNumber(s.typed, s.children))
        elif s.purpose is Purpose.PAPER:
            self.post(PaperPass(s.typed, s.children))
        else:
            self._show_pass_info(("number", s.typed))

    def _show_pass_info(self, credential: tuple[str, str]) -> None:
        s = self.state
        s.pass_info = None
        s.screen = Screen.PASS_INFO
        self.post(PassInfoRequest(*credential))

    def _do_back(self, _arg: str) -> None:
        s = self.state
        if s.screen in (Screen.STAFF_PIN, Screen.ACCESS_CODE):
            s.screen = Screen.STAFF_LOGIN
        else:
            self._home()

    def go_to(self, name: str) -> None:
        self.state.screen = Screen(name)

    def _home(self) -> None:
        s = self.state
        s.screen = Screen.STAFF_MENU if s.staff and not s.scoped else Screen.IDLE

    def _do_logout(self, _arg: str) -> None:
        self.post(StaffLogout())

    def _do_menu(self, target: str) -> None:
        s = self.state
        if target in tuple(Purpose):
            s.purpose, s.typed, s.children = Purpose(target), "", 0
            s.screen = Screen.KEYPAD
        elif target == "force":
            self._open_force(("none", ""))
        elif target == "passplus":
            self._do_passplus("")
        elif target == "figures":
            s.figures = None
            s.screen = Screen.FIGURES
            self.post(FiguresRequest())
        elif target == "status":
            s.screen = Screen.STATUS
            self._status_at = s.now
            self.post(StatusRequest())

    def _open_force(self, credential: tuple[str, str]) -> None:
        s = self.state
        s.force_reason, s.force_credential = "", credential
        s.screen = Screen.FORCE

    def _do_force_shown(self, _arg: str) -> None:
        """Force an entry for exactly the credential refused on screen."""
        o = self.state.outcome
        if self.state.screen is Screen.REFUSED and o is not None:
            self._open_force((o.credential_kind, o.credential))

    def _do_force_info(self, _arg: str) -> None:
        info = self.state.pass_info
        if info is not None:
            self._open_force((info.credential_kind, info.credential))

    def _do_info_shown(self, _arg: str) -> None:
        """The information of exactly the credential refused on screen (a pass, not paper)."""
        o = self.state.outcome
        if self.state.screen is Screen.REFUSED and o is not None and info_offered(o):
            self._show_pass_info((o.credential_kind, o.credential))

    def _do_reason(self, code: str) -> None:
        self.state.force_reason = code

    def _do_force(self, _arg: str) -> None:
        s = self.state
        if s.force_reason:
            self.post(ForceEntry(s.force_reason, *s.force_credential))
            s.force_reason = ""

    def _do_plus(self, _arg: str) -> None:
        self._set_children(self.state.children + 1)

    def _do_minus(self, _arg: str) -> None:
        self._set_children(self.state.children - 1)

    def _set_children(self, count: int) -> None:
        s = self.state
        if s.screen not in CHILDREN_SCREENS or s.children_allowed == 0:
            return
        s.children = max(0, min(count, s.children_allowed))
        if s.screen is Screen.IDLE:
            # For the next tap only, and forgotten as the loop forgets it.
            s.children_until = s.now + self.settings.children_prompt_timeout_s
            self.post(ChildrenChosen(s.children))

    # -- time ------------------------------------------------------------------

    def tick(self) -> None:
        s = self.state
        s.now = self.clock.monotonic()
        idle_for = s.now - self._last_touch
        if s.screen in RESULT_SCREENS and s.now >= self._back_at:
            self._home()
        if s.screen is Screen.IDLE and s.children and s.now >= s.children_until:
            s.children = 0
        elif s.screen in LOGIN_SCREENS and idle_for >= self.settings.idle_logout_s:
            s.screen = Screen.IDLE  # a login left half-done
        elif self.culture_abandoned(idle_for):
            s.screen = Screen.IDLE  # a code left half-typed: the next visitor finds the idle screen
        if s.screen is Screen.STATUS and s.now - self._status_at >= STATUS_REFRESH_S:
            self._status_at = s.now
            self.post(StatusRequest())
        if s.screen is Screen.IDLE and not s.staff and idle_for >= LANGUAGE_RESET_S:
            s.language = self.default_language


def info_offered(outcome: Outcome) -> bool:
    """Whether a pass's information can be shown for ``outcome``: not for a paper pass."""
    return outcome.credential_kind in ("chip", "number")


def force_offered(outcome: Outcome) -> bool:
    """Whether staff may force an entry from ``outcome``'s refusal: it was recorded."""
    return not outcome.admitted and outcome.stored
