"""The counter's pages on the screen: what a touch does there (no pygame here).

``DeskUi`` is the screen's ``Ui`` with the counter's pages added: the desk's
home (scan a pass or type its number), the pass and its actions, the sale's
steps (tariff, reduced-tariff category and proof, FNAC voucher, payment,
immediate entry), the till, the Z report, statistics and pass orders. As in
``ui.py``, the state changes only on a view, an action or ``tick``; whatever
concerns the counter is posted to the reactor (``counter_desk.py``), which
answers with a view.

On a counter desk (``[gate] mode = "desk"``) the desk's home is the staff's
home; on a gate its pages open from the staff menu ("menu", "counter").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from firmware.clock import Clock
from firmware.config import DisplaySettings
from firmware.display.ui import Screen, Ui
from firmware.events import (
    CounterEntry,
    CounterLookup,
    CounterSale,
    OrderFormRequest,
    PassOrder,
    PeriodClose,
    ReceiptReprint,
    StatisticsRequest,
    TillClose,
    TillOpen,
    TillRequest,
)
from firmware.gate.counter_views import (
    CounterDone,
    CounterPass,
    CounterRefusal,
    OrderForm,
    OrderPlaced,
    ReceiptPrinted,
    StatisticsView,
    TariffChoice,
    TillView,
    ZReport,
)

MAX_NUMBER = 12  # digits of a pass number
MAX_AMOUNT = 8  # digits of an amount in cents: 999 999.99 at most (the counter checks more)
MAX_QUANTITY = 4


class Page(StrEnum):
    HOME = "home"
    PASS = "pass"
    TARIFF = "tariff"
    CATEGORY = "category"
    VOUCHER = "voucher"
    PAYMENT = "payment"
    DONE = "done"
    REFUSED = "refused"
    TILL = "till"
    AMOUNT = "amount"  # the till's float or counted cash
    Z_REPORT = "z_report"
    STATISTICS = "statistics"
    ORDER = "order"
    ORDERED = "ordered"
    WAIT = "wait"  # asked the counter; its answer changes the page
    ENTRY = "entry"  # an entry for the pass on screen: the children with it, then record


# Where Back goes from each page.
_BACK = {
    Page.ENTRY: Page.PASS,
    Page.TARIFF: Page.PASS,
    Page.CATEGORY: Page.TARIFF,
    Page.VOUCHER: Page.TARIFF,
    Page.PAYMENT: Page.VOUCHER,
    Page.AMOUNT: Page.TILL,
    Page.Z_REPORT: Page.TILL,
}


@dataclass
class DeskState:
    desk_mode: bool = False
    page: Page = Page.HOME
    typed: str = ""  # the pass number, amount or quantity being typed
    pass_view: CounterPass | None = None
    renewal: bool = False
    tariff: TariffChoice | None = None
    category: str | None = None
    proof: bool = False  # the cashier saw the buyer's proof for the reduced tariff
    voucher_cents: int = 0
    payment: str = ""
    immediate: bool = False
    nonce: str = ""
    done: CounterDone | None = None
    reprinted: ReceiptPrinted | None = None
    refusal: CounterRefusal | None = None
    till: TillView | None = None
    amount_for: str = ""  # "float" or "counted"
    report: ZReport | None = None
    period: str = "day"
    statistics: StatisticsView | None = None
    order_form: OrderForm | None = None
    order_type: str = ""
    placed: OrderPlaced | None = None

    @property
    def credential(self) -> tuple[str, str]:
        view = self.pass_view
        return ("none", "") if view is None else (view.credential_kind, view.credential)

    @property
    def due_cents(self) -> int:
        return 0 if self.tariff is None else self.tariff.price_cents - self.voucher_cents


class DeskUi(Ui):
    """The screen's state machine with the counter's pages."""

    def __init__(self, settings: DisplaySettings, language: str, post: Callable[[object], None],
                 clock: Clock, desk_mode: bool = False) -> None:  # fmt: skip
        super().__init__(settings, language, post, clock)
        self.state.desk = DeskState(desk_mode=desk_mode)

    @property
    def desk(self) -> DeskState:
        return self.state.desk

    def _page(self, page: Page) -> None:
        self.desk.page = page
        self.state.screen = Screen.DESK

    # -- views -----------------------------------------------------------------

    def on_view(self, view: object) -> None:
        s, d = self.state, self.desk
        s.now = self.clock.monotonic()
        if isinstance(view, CounterPass):
            d.pass_view = view
            self._page(Page.PASS)
        elif isinstance(view, CounterDone):
            d.done, d.reprinted = view, None
            self._page(Page.DONE)
        elif isinstance(view, CounterRefusal):
            if s.staff:  # nobody logged in: the desk's idle page already says to log in
                d.refusal = view
                self._page(Page.REFUSED)
        elif isinstance(view, ReceiptPrinted):
            d.reprinted = view
        elif isinstance(view, TillView):
            d.till = view
            if s.screen is Screen.DESK and d.page in (Page.WAIT, Page.AMOUNT, Page.TILL):
                d.page = Page.TILL
        elif isinstance(view, ZReport):
            d.report = view
            self._page(Page.Z_REPORT)
        elif isinstance(view, StatisticsView):
            d.statistics = view
        elif isinstance(view, OrderForm):
            d.order_form = view
        elif isinstance(view, OrderPlaced):
            d.placed = view
            self._page(Page.ORDERED)
        else:
            super().on_view(view)

    def _on_session(self, session) -> None:  # noqa: ANN001 - a StaffSession
        super()._on_session(session)
        if self.desk.desk_mode and self.state.screen is Screen.STAFF_MENU:
            self._desk_home()

    def _home(self) -> None:
        if self.desk.desk_mode and self.state.staff:
            self._desk_home()
        else:
            super()._home()

    def _desk_home(self) -> None:
        self.desk.typed = ""
        self._page(Page.HOME)

    # -- touches and keys --------------------------------------------------------

    def _on_desk(self, *pages: Page) -> bool:
        return self.state.screen is Screen.DESK and self.desk.page in pages

    def _do_menu(self, target: str) -> None:
        if target == "counter":
            self._desk_home()
        else:
            super()._do_menu(target)

    def _do_digit(self, digit: str) -> None:
        d = self.desk
        limits = {Page.HOME: MAX_NUMBER, Page.VOUCHER: MAX_AMOUNT, Page.AMOUNT: MAX_AMOUNT,
                  Page.ORDER: MAX_QUANTITY}  # fmt: skip
        if self.state.screen is Screen.DESK:
            if d.page in limits and len(d.typed) < limits[d.page]:
                d.typed = (d.typed + digit).lstrip("0") if d.page is not Page.HOME else (
                    d.typed + digit)  # fmt: skip
        else:
            super()._do_digit(digit)

    def _do_erase(self, arg: str) -> None:
        if self.state.screen is Screen.DESK:
            self.desk.typed = self.desk.typed[:-1]
        else:
            super()._do_erase(arg)

    def _do_ok(self, arg: str) -> None:
        d = self.desk
        if self.state.screen is not Screen.DESK:
            super()._do_ok(arg)
        elif d.page is Page.HOME and d.typed:
            self.post(CounterLookup("number", d.typed))
            d.page = Page.WAIT
        elif d.page is Page.VOUCHER:
            self._voucher(int(d.typed or "0"))
        elif d.page is Page.AMOUNT and d.typed:
            cents = int(d.typed)
            self.post(TillOpen(cents) if d.amount_for == "float" else TillClose(cents))
            d.page = Page.WAIT
        elif d.page is Page.ORDER:
            self._do_desk_order("")

    def _do_back(self, arg: str) -> None:
        d = self.desk
        if self.state.screen is not Screen.DESK:
            super()._do_back(arg)
        elif d.page in _BACK:
            d.page, d.typed = _BACK[d.page], ""
        elif d.page is Page.HOME and not d.desk_mode:
            super()._home()  # on a gate: back to the staff menu
        else:
            self._desk_home()

    # -- the pass and the sale ---------------------------------------------------

    def _do_desk_action(self, action: str) -> None:
        d = self.desk
        if d.pass_view is None:
            return
        if action in ("sell", "renew"):
            d.renewal = action == "renew"
            d.tariff, d.category, d.proof, d.voucher_cents = None, None, False, 0
            d.payment, d.immediate, d.nonce = "", False, ""
            self._page(Page.TARIFF)
        elif action == "entry":
            self.state.children = 0  # counted afresh for each entry
            self._page(Page.ENTRY)
        elif action == "information":
            self._show_pass_info(d.credential)
        elif action == "force":
            self._open_force(d.credential)

    def _do_desk_entry(self, _arg: str) -> None:
        s, d = self.state, self.desk
        if d.page is Page.ENTRY and d.pass_view is not None:
            self.post(CounterEntry(*d.credential, s.children))
            s.children = 0

    def _set_children(self, count: int) -> None:
        s = self.state
        if s.screen is Screen.DESK and self.desk.page is Page.ENTRY:
            s.children = max(0, min(count, s.children_allowed))
        else:
            super()._set_children(count)

    def _do_desk_tariff(self, code: str) -> None:
        d = self.desk
        view = d.pass_view
        found = [t for t in (view.tariffs if view else ()) if t.code == code]
        if not found:
            return
        d.tariff, d.category, d.proof, d.typed = found[0], None, False, ""
        self._page(Page.CATEGORY if found[0].reduced else Page.VOUCHER)

    def _do_desk_category(self, category: str) -> None:
        d = self.desk
        if d.tariff is not None and category in d.tariff.categories:
            d.category, d.proof = category, False

    def _do_desk_proof(self, _arg: str) -> None:
        if self.desk.category is not None:
            self.desk.proof = not self.desk.proof

    def _do_desk_next(self, _arg: str) -> None:
        d = self.desk
        if self._on_desk(Page.CATEGORY) and d.category is not None and d.proof:
            d.typed = ""
            d.page = Page.VOUCHER

    def _do_desk_no_voucher(self, _arg: str) -> None:
        self._voucher(0)

    def _voucher(self, cents: int) -> None:
        d = self.desk
        # A voucher larger than the price stays on the page with its warning; the counter
        # refuses it too, whatever the screen lets through.
        if d.tariff is None or cents > d.tariff.price_cents:
            return
        d.voucher_cents, d.typed = cents, ""
        # Made when the confirmation is shown: a second "validate" records nothing twice.
        d.nonce = uuid.uuid4().hex
        d.page = Page.PAYMENT

    def _do_desk_payment(self, method: str) -> None:
        self.desk.payment = method

    def _do_desk_immediate(self, _arg: str) -> None:
        self.desk.immediate = not self.desk.immediate

    def _do_desk_validate(self, _arg: str) -> None:
        d = self.desk
        if not self._on_desk(Page.PAYMENT) or d.tariff is None or not d.payment:
            return
        kind, credential = d.credential
        self.post(CounterSale(kind, credential, d.renewal, d.tariff.code, d.payment, d.category,
                              d.proof, d.voucher_cents, d.immediate, d.nonce))  # fmt: skip
        d.page = Page.WAIT

    def _do_desk_reprint(self, _arg: str) -> None:
        if self.desk.done is not None:
            self.post(ReceiptReprint(self.desk.done.seq))

    # -- the till, statistics, orders --------------------------------------------

    def _do_desk_till(self, _arg: str) -> None:
        self.desk.till = None
        self._page(Page.TILL)
        self.post(TillRequest())

    def _do_desk_amount(self, purpose: str) -> None:
        if purpose in ("float", "counted"):
            self.desk.amount_for, self.desk.typed = purpose, ""
            self._page(Page.AMOUNT)

    def _do_desk_close_day(self, _arg: str) -> None:
        self.post(PeriodClose("day"))
        self._page(Page.WAIT)

    def _do_desk_statistics(self, period: str) -> None:
        d = self.desk
        d.period, d.statistics = period or "day", None
        self._page(Page.STATISTICS)
        self.post(StatisticsRequest(d.period))

    def _do_desk_orders(self, _arg: str) -> None:
        d = self.desk
        d.order_form, d.order_type, d.typed = None, "", ""
        self._page(Page.ORDER)
        self.post(OrderFormRequest())

    def _do_desk_order_type(self, code: str) -> None:
        self.desk.order_type = code

    def _do_desk_order(self, _arg: str) -> None:
        d = self.desk
        if self._on_desk(Page.ORDER) and d.order_type and d.typed:
            self.post(PassOrder(int(d.typed), d.order_type))
            d.page = Page.WAIT
