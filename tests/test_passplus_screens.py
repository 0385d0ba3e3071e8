"""The Pass+ screen: staff type a printed ticket on the touch screen (real pygame events on
the dummy driver) of a running gate whose reactor asks a real hub over a real mosquitto;
visitors never reach it. The form's own rules run on the injected clock, without pygame."""

from __future__ import annotations

import queue
from collections.abc import Callable
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from cultureworld import CultureGate, Touchscreen
from syncworld import WAIT_S, Hub

from firmware.clock import ManualClock
from firmware.config import DisplaySettings
from firmware.display.desk_ui import DeskUi
from firmware.display.draw import Button
from firmware.display.screens import Context, layout
from firmware.display.ui import Action, Screen, Ui
from firmware.events import PassPlusTicket
from firmware.gate.passplus import PassPlusOutcome
from firmware.gate.views import StaffSession

TODAY = date.today()
PRINTED = TODAY.strftime("%d%m%Y")  # the ticket's date as printed: DD/MM/YYYY


class Counter:
    """A staff member at a gate's touch screen, and the Pass+ answers its loop publishes."""

    def __init__(self, gate: CultureGate, screen: Touchscreen, login: bool = True) -> None:
        self.gate, self.screen = gate, screen
        self.answers: queue.Queue[PassPlusOutcome] = queue.Queue()
        gate.sync.gate.on_view.append(
            lambda view: self.answers.put(view) if isinstance(view, PassPlusOutcome) else None
        )
        if login:
            gate.login("Marie")
            screen.kiosk.step()

    def digits(self, text: str) -> None:
        for digit in text:
            self.screen.touch(Action("digit", digit))

    def enter(self, number: str, wallet: str, amount: str = "2000", price: str = "1500",
              printed: str = PRINTED) -> None:  # fmt: skip
        """Type a ticket as printed: number, OK, amount, OK, price, OK, date; its wallet."""
        for index, text in enumerate((number, amount, price, printed)):
            if index:
                self.screen.touch(Action("ok"))  # on to the next field
            self.digits(text)
        self.screen.touch(Action("passplus_wallet", wallet))

    def send(self) -> PassPlusOutcome:
        self.screen.touch(Action("ok"))
        while (answer := self.answers.get(timeout=WAIT_S)).outcome == "waiting":
            pass
        self.screen.kiosk.step()  # the answer reaches the screen
        return answer

    def texts(self) -> str:
        """Every word on screen: texts and buttons' labels."""
        items = self.screen.kiosk.items
        return "\n".join(getattr(i, "text", "") or getattr(i, "label", "") for i in items)

    def records(self) -> list[tuple[str, str, str]]:
        def read() -> list[tuple[str, str, str]]:
            return self.gate.sync.journal.db.execute_sql(
                "SELECT credential, reason, operator FROM record WHERE kind = 'passplus' "
                "ORDER BY seq"
            ).fetchall()

        return [tuple(row) for row in self.gate.sync.on_loop(read)]


@pytest.fixture
def counter(
    make_culture_gate: Callable[..., CultureGate], touchscreen: Callable[..., Touchscreen]
) -> Counter:
    gate = make_culture_gate("desk-1")
    return Counter(gate, touchscreen(gate, "desk"))


def test_staff_at_the_desk_take_a_culture_ticket_then_the_same_ticket_is_refused(
    counter: Counter, culture_hub: Hub
) -> None:
    screen = counter.screen
    assert screen.kiosk.screen is Screen.DESK  # a counter desk: staff land on its home
    screen.touch(Action("passplus"))
    assert screen.kiosk.screen is Screen.PASSPLUS
    counter.enter("197199", "culture", amount="2000", price="1500")
    assert "Ticket amount: €20.00" in counter.texts()
    paid = counter.send()
    assert (paid.outcome, paid.pays_cents, paid.remaining_cents) == ("redeemed", 1500, 0)
    assert screen.kiosk.screen is Screen.PASSPLUS_RESULT
    shown = counter.texts()
    assert "Pass+ ticket accepted" in shown
    assert "Taken from the ticket: €15.00" in shown and "Left to pay: €0.00" in shown
    screen.touch(Action("back"))
    screen.touch(Action("passplus"))
    counter.enter("197199", "culture", amount="2000", price="1500")
    again = counter.send()
    assert (again.outcome, again.reason) == ("refuse", "already_used")
    assert "This Pass+ ticket has already been used." in counter.texts()
    assert counter.records() == [("197199", "redeemed", "Marie"),
                                 ("197199", "already_used", "Marie")]  # fmt: skip
    used = list(culture_hub.m.db.execute_sql("SELECT number, operator FROM passplus_redemption"))
    assert [tuple(row) for row in used] == [("197199", "Marie")]


def test_a_ticket_paying_part_of_the_price_shows_what_is_left_to_pay(counter: Counter) -> None:
    counter.screen.touch(Action("passplus"))
    counter.enter("197200", "culture", amount="1000", price="1500")
    paid = counter.send()
    assert (paid.pays_cents, paid.remaining_cents) == (1000, 500)
    assert "Left to pay: €5.00" in counter.texts()


def test_a_sport_ticket_is_refused_with_its_reason_and_the_hub_is_not_asked(
    counter: Counter, culture_hub: Hub
) -> None:
    counter.screen.touch(Action("passplus"))
    counter.enter("197201", "sport")
    refused = counter.send()
    assert (refused.outcome, refused.reason) == ("refuse", "sport_wallet")
    shown = counter.texts()
    assert "Pass+ ticket refused" in shown
    assert "A Pass+ sport ticket cannot pay at a museum: only the culture wallet can." in shown
    asked = culture_hub.m.db.execute_sql("SELECT count(*) FROM passplus_refusal").fetchone()[0]
    assert asked == 0


def test_a_ticket_for_the_staff_language_is_refused_in_that_language(counter: Counter) -> None:
    counter.screen.touch(Action("language", "fr"))
    counter.screen.touch(Action("passplus"))
    counter.enter("197202", "sport")
    counter.send()
    assert "Un ticket Pass+ sport" in counter.texts()


def test_a_visitor_without_a_staff_session_cannot_reach_the_screen(
    make_culture_gate: Callable[..., CultureGate], touchscreen: Callable[..., Touchscreen]
) -> None:
    gate = make_culture_gate("gate-1")
    visitor = Counter(gate, touchscreen(gate), login=False)
    kiosk = visitor.screen.kiosk
    assert kiosk.screen is Screen.IDLE
    for action in (Action("passplus"), Action("menu", "passplus")):
        with pytest.raises(LookupError):
            kiosk.button_at(action)
    kiosk.ui.act(Action("passplus"))  # as if a touch landed there anyway
    kiosk.ui.act(Action("menu", "passplus"))
    kiosk.step()
    assert kiosk.screen is Screen.IDLE
    # A ticket posted to the loop without a session is refused there too, and not journaled.
    gate.post(PassPlusTicket("197203", "culture", 2000, TODAY.isoformat(), 1500))
    refused = visitor.answers.get(timeout=WAIT_S)
    assert (refused.outcome, refused.reason) == ("refuse", "staff_only")
    assert visitor.records() == []


def test_staff_reach_it_from_the_gate_staff_menu(
    make_culture_gate: Callable[..., CultureGate], touchscreen: Callable[..., Touchscreen]
) -> None:
    gate = make_culture_gate("gate-2")
    staff = Counter(gate, touchscreen(gate))
    assert staff.screen.kiosk.screen is Screen.STAFF_MENU
    staff.screen.touch(Action("menu", "passplus"))
    assert staff.screen.kiosk.screen is Screen.PASSPLUS
    staff.screen.touch(Action("back"))
    assert staff.screen.kiosk.screen is Screen.STAFF_MENU


# -- the form's rules, without pygame --------------------------------------------------------


MARIE = StaffSession("Marie", "controle", frozenset({"entries"}))


def form(session: StaffSession | None = MARIE) -> tuple[Ui, list[object]]:
    posted: list[object] = []
    ui = Ui(DisplaySettings(), "en", posted.append, ManualClock())
    if session is not None:
        ui.on_view(session)
    ui.act(Action("passplus"))
    return ui, posted


def fill(ui: Ui, number: str = "197199", wallet: str = "culture",
         printed: str = PRINTED) -> None:  # fmt: skip
    for name, text in (("number", number), ("amount", "2000"), ("price", "1500"),
                       ("date", printed)):  # fmt: skip
        ui.act(Action("passplus_field", name))
        for char in text:
            ui.act(Action("digit", char))
    ui.act(Action("passplus_wallet", wallet))


def test_a_double_tap_on_ok_sends_the_ticket_once() -> None:
    ui, posted = form()
    fill(ui)
    ui.act(Action("ok"))
    ui.act(Action("ok"))
    assert posted.count(PassPlusTicket("197199", "culture", 2000, TODAY.isoformat(), 1500)) == 1
    assert len([event for event in posted if isinstance(event, PassPlusTicket)]) == 1


def test_nothing_is_sent_without_the_wallet_or_with_a_date_that_does_not_exist() -> None:
    ui, posted = form()
    fill(ui, wallet="")
    ui.act(Action("ok"))
    ui, no_date = form()
    fill(ui, printed="31022026")
    ui.act(Action("ok"))
    sent = [event for event in posted + no_date if isinstance(event, PassPlusTicket)]
    assert sent == []
    shown = layout(ui.state, Context(800, 480, ZoneInfo("UTC")))
    assert any(getattr(item, "text", "") == "This date does not exist." for item in shown)


def test_a_keyboard_types_letters_and_dashes_in_the_number_only() -> None:
    ui, _ = form()
    for char in ("P", "P", "-", "1", "2", "3", "4", "!"):
        ui.act(Action("char", char) if not char.isdigit() else Action("digit", char))
    ui.act(Action("passplus_field", "amount"))
    ui.act(Action("char", "A"))
    assert ui.state.passplus.typed["number"] == "PP-1234"
    assert ui.state.passplus.typed["amount"] == ""


def test_a_session_scoped_to_a_refused_pass_cannot_open_it() -> None:
    scoped = StaffSession("Marie", "controle", frozenset({"entries"}), ("chip", "04AABB"))
    ui, _ = form(scoped)
    assert ui.state.screen is not Screen.PASSPLUS
    nothing, _ = form(StaffSession("Guest", "controle", frozenset({"status"})))
    assert nothing.state.screen is not Screen.PASSPLUS


def test_an_answer_arriving_after_staff_logged_out_is_not_shown_to_the_next_visitor() -> None:
    ui, _ = form()
    fill(ui)
    ui.act(Action("ok"))
    ui.on_view(StaffSession())  # logged out while the hub was asked
    assert ui.state.screen is Screen.IDLE
    ui.on_view(PassPlusOutcome("redeemed", "ok", "197199", 1500, 0))
    assert ui.state.screen is Screen.IDLE


def test_the_desk_home_offers_pass_plus_to_staff_who_record_entries() -> None:
    ui = DeskUi(DisplaySettings(), "en", [].append, ManualClock(), desk_mode=True)
    ui.on_view(StaffSession("Marie", "caisse", frozenset({"entries", "sales"})))
    items = layout(ui.state, Context(800, 480, ZoneInfo("UTC")))
    assert any(isinstance(i, Button) and i.action == Action("passplus") for i in items)
