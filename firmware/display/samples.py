"""Every screen with sample data, for ``portique screenshot`` and the screenshot tests.

Each sample drives a real ``Ui`` with the views the loop would publish and
the actions a person would take, at a fixed moment, so a screenshot shows
exactly what a gate shows and is the same every time it is made.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from firmware.clock import ManualClock
from firmware.config import DisplaySettings
from firmware.counter.roles import session_functions
from firmware.display.desk_ui import DeskUi
from firmware.display.ui import Action, Ui
from firmware.gate.culture import CultureOutcome
from firmware.gate.figures import Figures
from firmware.gate.passplus import PassPlusOutcome
from firmware.gate.staff import Role
from firmware.gate.views import (
    AccessCodeRefused,
    LoginRefused,
    Outcome,
    PassInfo,
    StaffRoster,
    StaffSession,
    StatusView,
    SyncStatus,
)

ZONE = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 1, 14, 20, tzinfo=ZONE).timestamp()
MONO = 5000.0
FAMILY = "04A1B2C3D4E507"
CONTROLE = StaffSession("Marie", "controle", frozenset({"entries", "status"}))
CAISSE = StaffSession("Jonas", "caisse", session_functions(Role.CAISSE))
TECHNICIAN = StaffSession("technician", "technician", session_functions(Role.TECHNICIAN))
# A code as the office issues it (the sample's signature is not a real one).
CODE = (
    "7GSA6GMDPLLDJ6DAI4OJVVHJKV5FGKHX3MLH7Q6DLZGBMJ7W5IK5BNI2LWVZ"
    "ONXL5SSCUHJOHTLPGL6J7XR2LMSNYTSS4BQ3DY6LXWBIEY77NPAHLQDVV6A"
)


def _admitted(persons: int = 1, renewal: bool = False, **extra: object) -> Outcome:
    return Outcome(
        admitted=True, reason="ok", credential_kind="chip", credential=FAMILY,
        pass_number="100007", valid_until=date(2026, 8, 20) if renewal else date(2027, 3, 9),
        renewal_hint=renewal, persons=persons, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def refused(reason: str, stored: bool = True) -> Outcome:
    """A refusal of the kind ``reason``, as the loop publishes it."""
    valid = {"expired": date(2026, 4, 30), "paper_pass_withdrawn": date(2023, 3, 31)}
    kind = "paper" if reason == "paper_pass_withdrawn" else "chip"
    return Outcome(admitted=False, reason=reason, credential_kind=kind,
                   credential="04A1B2C3D4E503", pass_number="100003",
                   valid_until=valid.get(reason), renewal_possible=reason == "expired",
                   stored=stored)  # fmt: skip


def _status(stale: bool) -> StatusView:
    return StatusView(
        wall=NOW, list_version=42, list_issued_at=NOW - (9 * 86400 if stale else 2 * 3600),
        list_freshness="stale" if stale else "fresh", journal_last_seq=1234, journal_ok=True,
        reader_up=True,
        reader_detail="tty:AMA0:pn532", time_trusted=True, taps=152, admitted=148, refused=4,
        unexpected_passages=1,
        sync=SyncStatus(broker_connected=False, backlog=312, last_ack_seq=922,
                        last_ack_wall=NOW - 9 * 86400) if stale else
        SyncStatus(broker_connected=True, backlog=0, last_ack_seq=1234, last_ack_wall=NOW - 40),
        software_version="1.2.0", release_version="1.3.0", release_date="2026-05-28",
        update_available=not stale,
    )  # fmt: skip


FIGURES = Figures(
    day=date(2026, 6, 1), entries=148, children=61, billable=139, forced=2,
    people=209, refusals=(("expired", 7), ("unknown_pass", 4), ("not_sold", 2), ("blocked", 1),
              ("invalid_serial", 1), ("list_expired", 1), ("paper_pass_withdrawn", 1)),
    by_hour=(0,) * 9 + (6, 18, 25, 14, 20, 31, 22, 9, 3) + (0,) * 6,
)  # fmt: skip

PASS_INFO = PassInfo(
    "chip", "04A1B2C3D4E503", found=True, pass_number="100003", id_number="ID100003",
    pass_type="solo", persons=1, children=5, state="active", activated_on=date(2025, 5, 1),
    valid_until=date(2026, 4, 30), renewal_possible=True, expired=True,
    last_entry_wall=datetime(2026, 3, 14, 11, 5, tzinfo=ZONE).timestamp(),
)  # fmt: skip


def _staff(ui: Ui, session: StaffSession = CONTROLE, stale: bool = False) -> None:
    ui.on_view(session)
    ui.on_view(_status(stale))


def _act(ui: Ui, *actions: tuple[str, str] | str) -> None:
    for action in actions:
        name, arg = (action, "") if isinstance(action, str) else action
        ui.act(Action(name, arg))


def _children(ui: Ui) -> None:
    _act(ui, "plus", "plus")  # chosen on the idle screen, before the tap


def _login(ui: Ui) -> None:
    _act(ui, "staff")
    ui.on_view(StaffRoster(accounts=True))
    _act(ui, *[("char", c) for c in "MARIE"])


def _pin(ui: Ui, locked: bool) -> None:
    _login(ui)
    _act(ui, "ok", *[("digit", d) for d in "12"])
    if locked:
        ui.on_view(LoginRefused("Marie", 45))


def _access_code(ui: Ui, typed: int, refusal: AccessCodeRefused | None = None) -> None:
    _act(ui, "staff")
    ui.on_view(StaffRoster(accounts=True))
    _act(ui, "access_code", *[("char", c) for c in CODE[:typed]])
    if refusal is not None:
        _act(ui, "ok")
        ui.on_view(refusal)


def _culture(outcome: str, reason: str, persons: int = 0, message: str = "") -> CultureOutcome:
    return CultureOutcome(outcome, reason, "AB3DK7", persons, message=message)


def _keypad(ui: Ui, purpose: str, digits: str) -> None:
    _staff(ui)
    _act(ui, ("menu", purpose), *[("digit", d) for d in digits])


def _passplus(ui: Ui, printed: str = "19102026", wallet: str = "culture") -> None:
    _staff(ui, CAISSE)
    _act(ui, ("menu", "passplus"), *[("digit", d) for d in "197199"], "ok",
         *[("digit", d) for d in "2000"], "ok", *[("digit", d) for d in "1500"], "ok",
         *[("digit", d) for d in printed], ("passplus_wallet", wallet))  # fmt: skip


def _passplus_answer(ui: Ui, outcome: PassPlusOutcome) -> None:
    _passplus(ui)
    _act(ui, "ok")
    ui.on_view(outcome)


SAMPLES: dict[str, Callable[[Ui], None]] = {
    "idle": lambda ui: None,
    "admitted": lambda ui: ui.on_view(_admitted()),
    "admitted_renewal": lambda ui: ui.on_view(_admitted(renewal=True)),
    "children": _children,
    "go_ahead": lambda ui: ui.on_view(_admitted(persons=3)),
    "admitted_again": lambda ui: ui.on_view(_admitted(persons=3, repeat_of=NOW - 40)),
    "duo": lambda ui: ui.on_view(_admitted(persons=4)),
    "refused": lambda ui: ui.on_view(refused("expired")),
    "out_of_order": lambda ui: ui.on_view(refused("unknown_pass", stored=False)),
    "staff_login": _login,
    "staff_login_empty": lambda ui: (_act(ui, "staff"), ui.on_view(StaffRoster(accounts=False))),
    "staff_pin": lambda ui: _pin(ui, locked=False),
    "staff_locked": lambda ui: _pin(ui, locked=True),
    "access_code": lambda ui: _access_code(ui, 37),
    "access_code_refused": lambda ui: _access_code(ui, len(CODE),
                                                   AccessCodeRefused("wrong_code", 30)),
    "staff_menu": lambda ui: _staff(ui, CAISSE),
    "staff_menu_technician": lambda ui: _staff(ui, TECHNICIAN),
    "staff_menu_stale": lambda ui: _staff(ui, CONTROLE, stale=True),
    "staff_refused": lambda ui: (_staff(ui), ui.on_view(refused("expired"))),
    "force_entry": lambda ui: (_staff(ui), ui.on_view(refused("not_sold")),
                               _act(ui, "force_shown", ("reason", "sale_not_finalised"))),
    "force_paper": lambda ui: (_staff(ui), ui.on_view(refused("paper_pass_withdrawn")),
                               _act(ui, "force_shown", ("reason", "other"))),
    "typed_number": lambda ui: _keypad(ui, "number", "100007"),
    "paper_pass": lambda ui: (_keypad(ui, "paper", "4711"), _act(ui, "plus", "plus")),
    "paper_refused": lambda ui: (_staff(ui), ui.on_view(refused("paper_pass_withdrawn"))),
    "pass_info": lambda ui: (_keypad(ui, "info", "100003"), _act(ui, "ok"), ui.on_view(PASS_INFO)),
    "pass_info_ending": lambda ui: (_keypad(ui, "info", "100003"), _act(ui, "ok"),
                                    ui.on_view(dataclasses.replace(
                                        PASS_INFO, expired=False, renewal_possible=True,
                                        valid_until=date(2026, 7, 30)))),
    "figures": lambda ui: (_staff(ui, CAISSE), _act(ui, ("menu", "figures")),
                           ui.on_view(FIGURES)),
    "status": lambda ui: (_staff(ui), _act(ui, ("menu", "status")), ui.on_view(_status(False))),
    "status_stale": lambda ui: (_staff(ui, stale=True), _act(ui, ("menu", "status"))),
    "culture_keypad": lambda ui: _act(ui, "culture", *[("char", c) for c in "AB3DKO"]),
    "culture_waiting": lambda ui: (_act(ui, "culture", *[("char", c) for c in "AB3DK7"], "ok"),
                                   ui.on_view(_culture("waiting", "asked"))),
    "culture_admitted": lambda ui: ui.on_view(_culture("admit", "ok", persons=2)),
    "culture_refused": lambda ui: ui.on_view(_culture("refuse", "already_used")),
    "culture_desk": lambda ui: ui.on_view(_culture("desk", "no_answer")),
    "culture_desk_staff": lambda ui: (_staff(ui), _act(ui, "culture",
                                      *[("char", c) for c in "AB3DK7"]),
                                      ui.on_view(_culture("desk", "bad_api_key", message=(
                                          "pass Culture refused LOUVRE's API key: the museum "
                                          "must check its key in the hub's passculture.toml")))),
    "culture_pending": lambda ui: (_staff(ui), ui.on_view(_culture("pending", "pending",
                                                                   persons=1))),
    "passplus_form": _passplus,
    "passplus_bad_date": lambda ui: _passplus(ui, printed="31022026"),
    "passplus_waiting": lambda ui: (_passplus(ui), _act(ui, "ok"),
                                    ui.on_view(PassPlusOutcome("waiting", "asked", "197199"))),
    "passplus_accepted": lambda ui: _passplus_answer(ui, PassPlusOutcome(
        "redeemed", "ok", "197199", 1500, 500)),
    "passplus_refused": lambda ui: _passplus_answer(ui, PassPlusOutcome(
        "refuse", "hub_offline", "197199", message="the hub cannot be reached: a Pass+ ticket "
        "needs it (used once network-wide)")),
    "passplus_sport": lambda ui: _passplus_answer(ui, PassPlusOutcome(
        "refuse", "sport_wallet", "197199", message="a Pass+ sport ticket cannot pay at a "
        "museum: only culture")),
}  # fmt: skip

# The screens the README shows.
MAIN = ("idle", "children", "go_ahead", "refused", "staff_menu", "figures", "status_stale")


def sample_ui(name: str, language: str, settings: DisplaySettings | None = None) -> Ui:
    """A ``Ui`` on the sample ``name``, in ``language``, at the sample moment."""
    clock = ManualClock(wall=NOW, monotonic=MONO)
    ui = DeskUi(settings or DisplaySettings(), language, lambda _event: None, clock)
    SAMPLES[name](ui)
    ui.state.language = language
    ui.state.now = MONO
    return ui
