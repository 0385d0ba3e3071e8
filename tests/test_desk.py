"""The counter desk driven as a cashier would: real pygame events on SDL's dummy driver,
a real nfcpy udp tap, signed tariffs, a receipt printer writing to a file, and the
journal's records as the proof. ManualClock, no sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import DEMO_KEYS, paris
from counterworld import tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from escpos.printer import Dummy
from test_kiosk import Screenful
from test_reader import Presenter, bench, next_tap, udp_path  # noqa: F401 - fixtures
from test_staff import CHEAP

from firmware.app import STAFF_FILE
from firmware.counter import records as kinds
from firmware.counter.receipt import ReceiptPrinter
from firmware.counter.records import detail_of
from firmware.counter.tariffs import sign_tariffs
from firmware.demo import write_demo_list
from firmware.display.desk_ui import Page
from firmware.display.i18n import words
from firmware.display.kiosk import Kiosk
from firmware.display.screens import buttons
from firmware.display.ui import Action, Screen
from firmware.events import CounterSale, DisplayStarted, PaperPass, PassOrder, TillOpen
from firmware.gate.passes import add_months, last_valid_day
from firmware.gate.staff import Role, StaffMember, hash_pin, save_staff
from firmware.trust import certify, load_private_key, raw_public

DAY = date(2026, 6, 1)
NOW = paris(2026, 6, 1, 10)
MUSEUM = "M1"
STOCK = "04D1000000A001"  # in this museum's stock
OTHER_STOCK = "04D1000000A002"  # in another museum's stock
WINDOW_OPEN = "04D1000000A003"  # ends in 3 months minus a day: renewable
WINDOW_SHUT = "04D1000000A004"  # ends in exactly 3 months: not yet
LAPSED = "04D1000000A005"  # expired last week: renewable
NUMBERS = {STOCK: "200001", OTHER_STOCK: "200002", WINDOW_OPEN: "200003",
           WINDOW_SHUT: "200004", LAPSED: "200005"}  # fmt: skip
# Whose stock a pass is in: the office's word, which the list and deltas carry.
STOCK_OF = {STOCK: MUSEUM, OTHER_STOCK: "M2"}


def _active(expires: date) -> tuple[str, str]:
    # The activation day whose year ends on ``expires``.
    activated = expires + timedelta(days=1)
    activated = activated.replace(year=activated.year - 1)
    assert last_valid_day(activated) == expires
    return activated.isoformat(), expires.isoformat()


def write_list(directory: Path) -> Path:
    directory.mkdir(parents=True)
    rows = [
        (STOCK, "stock", "", ""),
        (OTHER_STOCK, "stock", "", ""),
        (WINDOW_OPEN, "active", *_active(add_months(DAY, 3) - timedelta(days=1))),
        (WINDOW_SHUT, "active", *_active(add_months(DAY, 3))),
        (LAPSED, "active", *_active(DAY - timedelta(days=7))),
    ]
    passes = directory / "passes.csv"
    passes.write_text(
        "serial,pass_number,id_number,pass_type,state,activated_on,expires_on,stock_of\n" +
        "".join(f"{s},{NUMBERS[s]},ID{NUMBERS[s]},single,{state},{a},{e},{STOCK_OF.get(s, '')}\n"
                for s, state, a, e in rows))  # fmt: skip
    types = directory / "types.csv"
    types.write_text("code,persons,children\nsingle,1,5\nduo,2,5\n")
    return write_demo_list(passes, types, DEMO_KEYS, directory / "list.pql",
                           paris(2026, 6, 1, 6), 60 * 86400)  # fmt: skip


def write_tariffs(path: Path, **overrides: object) -> None:
    """The office's tariffs, signed by a key the demo root certified for tariffs only."""
    root = load_private_key(DEMO_KEYS / "root.key")
    key = Ed25519PrivateKey.generate()
    cert = certify(root, raw_public(key.public_key()), ["tariffs"], NOW - 86400, NOW + 4e7)
    body = tariff_body(issued_at=NOW - 3600, not_before=NOW - 3600, expires_at=NOW + 3e7)
    body.update(overrides)
    path.write_text(json.dumps(sign_tariffs(body, key, cert)))


def add_accounts(data_dir: Path) -> None:
    save_staff(data_dir / STAFF_FILE, {
        "Anne": StaffMember("Anne", Role.CAISSE, hash_pin("1111", n=CHEAP)),
        "Marc": StaffMember("Marc", Role.STOCK, hash_pin("2222", n=CHEAP)),
        "Lea": StaffMember("Lea", Role.CONTROLE, hash_pin("3333", n=CHEAP)),
    })  # fmt: skip


class Desk(Screenful):
    """A counter desk with its screen; the cashier's taps and touches drive it."""

    def log_in(self, name: str, pin: str) -> None:
        self.touch(Action("staff"))
        for char in name.upper():  # the name typed: the roster is never shown
            self.touch(Action("char", char))
        self.touch(Action("ok"))
        self.type_digits(pin)
        self.touch(Action("ok"))

    def type_number(self, serial: str) -> None:
        self.type_digits(NUMBERS[serial])
        self.touch(Action("ok"))

    @property
    def page(self) -> Page:
        assert self.screen is Screen.DESK, self.screen
        return self.kiosk.ui.desk.page

    def records(self, kind: str) -> list:
        return [r for r in self.world.journal.records() if r.kind == kind]

    def counter_pass(self):  # noqa: ANN201
        return self.kiosk.ui.desk.pass_view


@pytest.fixture
def make_desk(make_world, tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    opened: list[Kiosk] = []
    listed = write_list(tmp_path / "list")
    tariffs = tmp_path / "tariffs.json"
    receipts = tmp_path / "receipts.bin"

    def make(wall: float = NOW, mode: str = "desk", tariffs_file: bool = True,
             **counter: object) -> Desk:  # fmt: skip
        if tariffs_file:
            write_tariffs(tariffs)
        world = make_world(
            wall=wall,
            gate={"mode": mode},
            lists={"install_at_start": str(listed)},
            display={"enabled": True, "fullscreen": False},
            counter={"tariffs": str(tariffs), "printer": "file",
                     "printer_target": str(receipts), "printer_checks_paper": False,
                     **counter},
        )  # fmt: skip
        if world.gate.store.lookup(STOCK).stock_of is None:
            # A list format without stock_of (before list format 3): the office's word as
            # the list's column above gives it.
            world.gate.counter.stock_owner = lambda record: STOCK_OF.get(record.serial)
        add_accounts(world.gate.settings.gate.data_dir)
        settings = world.gate.settings
        kiosk = Kiosk(settings.display, settings.gate.language, settings.zone, world.loop.post,
                      world.clock, mode=settings.gate.mode)  # fmt: skip
        world.gate.on_view.append(kiosk.publish)
        world.loop.handle(DisplayStarted(kiosk.open()))
        opened.append(kiosk)
        desk = Desk(world, kiosk)
        desk.settle()
        return desk

    make.receipts = receipts  # type: ignore[attr-defined]
    yield make
    for kiosk in opened:
        kiosk.close()


@pytest.fixture
def desk(make_desk) -> Desk:
    return make_desk()


# -- the "Done when": a cashier sells, renews, closes the day; a manager orders -----------


def test_cashier_sells_a_stock_pass_scanned_on_the_reader_reduced_with_voucher_and_entry(
    make_desk, bench  # noqa: F811 - the reader fixture
) -> None:  # fmt: skip
    desk = make_desk()
    desk.log_in("Anne", "1111")
    assert desk.page is Page.HOME and not desk.world.relay_on
    # A real tap: nfcpy's udp driver, the desk's reader, the event into the desk's reactor.
    presenter = Presenter(bench.path, bytes.fromhex(STOCK))
    desk.world.loop.handle(next_tap(bench.events))
    presenter.taken_away()
    desk.settle()
    assert desk.page is Page.PASS and desk.counter_pass().actions[0] == "sell"
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "reduced"))
    assert desk.page is Page.CATEGORY
    desk.touch(Action("desk_category", "student"))
    with pytest.raises(LookupError):  # no next step before the proof is confirmed
        desk.kiosk.button_at(Action("desk_next"))
    desk.touch(Action("desk_proof"))
    desk.touch(Action("desk_next"))
    assert desk.page is Page.VOUCHER
    desk.type_digits("2000")  # 20.00
    desk.touch(Action("ok"))
    desk.touch(Action("desk_payment", "card"))
    desk.touch(Action("desk_immediate"))
    validate = [b.label for b in buttons(desk.kiosk.items)
                                        if b.action == Action("desk_validate")]  # fmt: skip
    assert validate == [words("fr")._("Validate — {amount}", amount=_money(desk, 7900))]
    desk.touch(Action("desk_validate"))
    assert desk.page is Page.DONE, desk.kiosk.ui.desk.refusal
    assert desk.shows("Ask the buyer to register the pass with the central office.")
    assert desk.shows("Receipt printed.")
    (sale,) = desk.records(kinds.SALE)
    detail = detail_of(sale)
    assert (detail["tariff"], detail["category"], detail["voucher_cents"], detail["due_cents"],
            detail["payment"], sale.operator) == ("reduced", "student", 2000, 7900, "card",
                                                  "Anne")  # fmt: skip
    entry = desk.world.last()
    assert (entry.kind, entry.reason, entry.refers_to) == ("decision", "activated", sale.seq)
    assert entry.valid_until == last_valid_day(DAY).isoformat()
    assert b"79.00" in make_desk.receipts.read_bytes()
    assert not desk.world.relay_on  # a desk has no turnstile
    # The pass is active now: scanned again, it is no longer for sale.
    desk.touch(Action("back"))
    desk.type_number(STOCK)
    assert "sell" not in desk.counter_pass().actions and desk.counter_pass().state == "active"


def test_a_second_validate_of_the_same_sale_records_nothing_twice(desk: Desk) -> None:
    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "cash"))
    nonce = desk.kiosk.ui.desk.nonce
    desk.touch(Action("desk_validate"))
    # The confirmation posted again (a double tap that reached the reactor twice).
    desk.world.loop.handle(CounterSale("number", NUMBERS[STOCK], False, "normal", "cash",
                                       nonce=nonce))  # fmt: skip
    assert len(desk.records(kinds.SALE)) == 1
    # A new confirmation page (a new nonce) for the same pass: refused, it is sold.
    desk.world.loop.handle(CounterSale("number", NUMBERS[STOCK], False, "normal", "cash",
                                       nonce="another"))  # fmt: skip
    desk.settle()
    assert desk.kiosk.ui.desk.refusal.code == "not_in_stock"
    assert len(desk.records(kinds.SALE)) == 1


@pytest.mark.parametrize(
    ("serial", "renewable"),
    [(WINDOW_OPEN, True), (WINDOW_SHUT, False), (LAPSED, True)],
    ids=["three_months_minus_a_day", "exactly_three_months", "expired"],
)
def test_renewal_window_edges(desk: Desk, serial: str, renewable: bool) -> None:
    desk.log_in("Anne", "1111")
    desk.type_number(serial)
    view = desk.counter_pass()
    assert ("renew" in view.actions) is renewable
    if not renewable:
        assert view.renewal_refused == "renewal_too_early"
        opens = _date(desk, view.renewal_from)
        assert desk.shows("Renewal possible from {date} (less than 3 months left).", date=opens)
        # Forced past the screen, the counter refuses too, and records nothing.
        desk.world.loop.handle(CounterSale("number", NUMBERS[serial], True, "normal", "cash"))
        desk.settle()
        assert desk.page is Page.REFUSED and desk.kiosk.ui.desk.refusal.code == (
            "renewal_too_early")  # fmt: skip
        assert desk.records(kinds.RENEWAL) == []


def _money(desk: Desk, cents: int) -> str:
    from firmware.display.desk_screens import money

    return money(words(desk.kiosk.ui.state.language), cents, "EUR")


def _date(desk: Desk, day: date) -> str:
    return words(desk.kiosk.ui.state.language).date(day)


def renew(desk: Desk, serial: str, immediate: bool) -> object:
    desk.type_number(serial)
    desk.touch(Action("desk_action", "renew"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "cheque"))
    if immediate:
        desk.touch(Action("desk_immediate"))
    desk.touch(Action("desk_validate"))
    assert desk.page is Page.DONE
    (record,) = desk.records(kinds.RENEWAL)
    return record


def test_renewal_without_immediate_entry_keeps_every_day_already_paid_for(desk: Desk) -> None:
    desk.log_in("Anne", "1111")
    record = renew(desk, WINDOW_OPEN, immediate=False)
    expires = add_months(DAY, 3) - timedelta(days=1)
    detail = detail_of(record)
    assert (detail["state"], detail["expires_on"]) == ("sold", expires.isoformat())
    assert desk.shows("Current year until {date}; the new year starts at the next entry after "
                      "it", date=_date(desk, expires))  # fmt: skip


def test_renewal_with_immediate_entry_starts_today_and_adds_the_days_left(desk: Desk) -> None:
    desk.log_in("Anne", "1111")
    record = renew(desk, WINDOW_OPEN, immediate=True)
    left = (add_months(DAY, 3) - timedelta(days=1) - DAY).days
    assert detail_of(record)["expires_on"] == (last_valid_day(DAY) + timedelta(days=left)
                                               ).isoformat()  # fmt: skip
    assert desk.world.last().reason == "activated"


def test_stock_manager_opens_the_till_sells_closes_with_a_difference_and_prints_the_z_report(
    make_desk,
) -> None:
    desk = make_desk()
    desk.log_in("Marc", "2222")
    desk.touch(Action("desk_till"))
    assert desk.page is Page.TILL
    desk.touch(Action("desk_amount", "float"))
    desk.type_digits("10000")  # 100.00
    desk.touch(Action("ok"))
    assert desk.kiosk.ui.desk.till.open
    desk.touch(Action("back"))
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "cash"))
    desk.touch(Action("desk_validate"))
    desk.touch(Action("back"))
    desk.touch(Action("desk_till"))
    assert desk.kiosk.ui.desk.till.expected_cents == 10000 + 11900
    desk.touch(Action("desk_amount", "counted"))
    desk.type_digits("21800")  # one euro short
    desk.touch(Action("ok"))
    till = desk.kiosk.ui.desk.till
    assert (till.open, till.counted_cents, till.difference_cents) == (False, 21800, -100)
    assert desk.shows("Difference")
    desk.touch(Action("desk_close_day"))
    assert desk.page is Page.Z_REPORT
    report = desk.kiosk.ui.desk.report
    assert report.label == "2026-06-01" and report.printed == "printed"
    assert any("sales 1" in line for line in report.lines)
    (closure,) = desk.records(kinds.CLOSURE)
    assert detail_of(closure)["closure"]["totals"]["gross_cents"] == 11900
    assert b"Z day 2026-06-01" in make_desk.receipts.read_bytes()


def test_stock_manager_orders_passes(desk: Desk) -> None:
    desk.log_in("Marc", "2222")
    desk.touch(Action("desk_orders"))
    assert desk.page is Page.ORDER
    desk.touch(Action("desk_order_type", "single"))
    desk.type_digits("50")
    desk.touch(Action("ok"))
    sent = words("fr").ngettext("Order sent: {count} pass", "Order sent: {count} passes", 50)
    assert desk.page is Page.ORDERED and sent in desk.texts()
    (order,) = desk.records(kinds.PASS_ORDER)
    assert detail_of(order)["quantity"] == 50 and order.operator == "Marc"


def test_statistics_show_entries_and_sales_as_a_chart(desk: Desk) -> None:
    from firmware.display.draw import Bars

    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "card"))
    desk.touch(Action("desk_immediate"))
    desk.touch(Action("desk_validate"))
    desk.touch(Action("back"))
    desk.touch(Action("desk_statistics", "day"))
    desk.touch(Action("desk_statistics", "month"))
    bars = [item for item in desk.kiosk.items if isinstance(item, Bars)]
    assert [b.values for b in bars] == [(1,), (1,)] and bars[0].labels == ("06",)


# -- roles: each function through the screen ------------------------------------------------

SHORTCUTS = {"till": Action("desk_till"), "statistics": Action("desk_statistics", "day"),
             "orders": Action("desk_orders"), "paper": Action("menu", "paper"),
             "force": Action("menu", "force")}  # fmt: skip
ROLE_TABLE = {  # the seed: Contrôle = entries; Caisse = + sales, renewals, statistics;
    # Stock = all of Caisse + pass orders and the cash register.
    ("Lea", "3333"): {"sell": False, "renew": False, "entry": True, "till": False,
                      "statistics": False, "orders": False, "paper": True, "force": True},
    ("Anne", "1111"): {"sell": True, "renew": True, "entry": True, "till": False,
                       "statistics": True, "orders": False, "paper": True, "force": True},
    ("Marc", "2222"): {"sell": True, "renew": True, "entry": True, "till": True,
                       "statistics": True, "orders": True, "paper": True, "force": True},
}  # fmt: skip
CASES = [(who, function, allowed) for who, table in ROLE_TABLE.items()
         for function, allowed in table.items()]  # fmt: skip


@pytest.mark.parametrize(("who", "function", "allowed"), CASES,
                         ids=[f"{w[0]}-{f}" for w, f, _ in CASES])  # fmt: skip
def test_each_role_is_offered_exactly_its_functions(desk: Desk, who, function, allowed) -> None:
    desk.log_in(*who)
    if function in SHORTCUTS:
        try:
            desk.kiosk.button_at(SHORTCUTS[function])
            offered = True
        except LookupError:
            offered = False
        assert offered is allowed
        return
    serial = {"sell": STOCK, "renew": WINDOW_OPEN, "entry": WINDOW_OPEN}[function]
    desk.type_number(serial)
    assert (function in desk.counter_pass().actions) is allowed


@pytest.mark.parametrize("who", [("Lea", "3333"), ("Anne", "1111")])
def test_a_role_without_the_function_is_refused_by_the_counter_too(desk: Desk, who) -> None:
    desk.log_in(*who)
    for event in (TillOpen(100), PassOrder(5, "single")):
        desk.world.loop.handle(event)
        desk.settle()
        assert desk.kiosk.ui.desk.refusal.code == "not_permitted"
    assert desk.records(kinds.TILL_OPEN) == desk.records(kinds.PASS_ORDER) == []


def test_controle_records_an_entry_with_children_at_the_desk(desk: Desk) -> None:
    desk.log_in("Lea", "3333")
    desk.type_number(WINDOW_OPEN)
    desk.touch(Action("desk_action", "entry"))
    assert desk.page is Page.ENTRY
    desk.touch(Action("plus"))
    desk.touch(Action("plus"))
    desk.touch(Action("desk_entry"))
    entry = desk.world.last()
    assert (entry.kind, entry.admitted, entry.children, entry.operator) == (
        "decision", True, 2, "Lea")  # fmt: skip
    assert not desk.world.relay_on


def test_a_gates_staff_menu_opens_the_counter_for_a_cashier(make_desk) -> None:
    gate = make_desk(mode="gate")
    gate.log_in("Anne", "1111")
    assert gate.screen is Screen.STAFF_MENU
    gate.touch(Action("menu", "counter"))
    assert gate.page is Page.HOME
    gate.type_number(STOCK)
    assert "sell" in gate.counter_pass().actions


# -- bad input --------------------------------------------------------------------------


def test_a_pass_in_another_museums_stock_is_not_offered_for_sale_nor_sold(desk: Desk) -> None:
    desk.log_in("Anne", "1111")
    desk.type_number(OTHER_STOCK)
    assert "sell" not in desk.counter_pass().actions
    desk.world.loop.handle(CounterSale("number", NUMBERS[OTHER_STOCK], False, "normal", "cash"))
    desk.settle()
    assert desk.kiosk.ui.desk.refusal.code == "other_museums_stock"
    assert desk.records(kinds.SALE) == []


@pytest.mark.parametrize("problem", ["missing", "unsigned", "expired"])
def test_bad_tariffs_block_sales_with_a_message_but_never_entries(make_desk, problem) -> None:
    desk = make_desk(tariffs_file=problem != "missing")
    path = Path(desk.world.gate.settings.counter.tariffs)
    if problem == "unsigned":
        document = json.loads(path.read_text())
        document["tariffs"]["tariffs"]["normal"]["price_cents"] = 1
        path.write_text(json.dumps(document))
    elif problem == "expired":
        write_tariffs(path, expires_at=NOW - 60, not_before=NOW - 7200, issued_at=NOW - 7200)
    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    view = desk.counter_pass()
    assert view.sales_blocked and desk.shows("Sales are blocked: the tariffs from the central "
                                             "office are missing, unsigned or expired. Entries "
                                             "still work.")  # fmt: skip
    with pytest.raises(LookupError):
        desk.kiosk.button_at(Action("desk_action", "sell"))
    desk.touch(Action("back"))
    desk.type_number(WINDOW_OPEN)
    desk.touch(Action("desk_action", "entry"))
    desk.touch(Action("desk_entry"))
    assert desk.world.last().admitted and desk.records(kinds.SALE) == []


def test_a_voucher_larger_than_the_price_is_refused_on_the_screen(desk: Desk) -> None:
    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.type_digits("12000")  # 120.00 > 119.00
    assert desk.shows("The voucher is larger than the price.")
    desk.touch(Action("ok"))
    assert desk.page is Page.VOUCHER


def test_an_absurd_or_negative_amount_is_refused_with_its_reason(desk: Desk) -> None:
    desk.log_in("Marc", "2222")
    desk.world.loop.handle(TillOpen(10**12))
    desk.settle()
    assert desk.kiosk.ui.desk.refusal.code == "absurd_amount"
    desk.world.loop.handle(CounterSale("number", NUMBERS[STOCK], False, "normal", "cash",
                                       voucher_cents=-5))  # fmt: skip
    desk.settle()
    assert desk.kiosk.ui.desk.refusal.code == "negative_amount"
    assert desk.records(kinds.SALE) == desk.records(kinds.TILL_OPEN) == []


class PaperOut(Dummy):
    def _read(self) -> bytes:
        return bytes([0x0C])


def test_a_printer_out_of_paper_keeps_the_sale_and_the_receipt_can_be_reprinted(
    desk: Desk,
) -> None:
    counter = desk.world.gate.counter.counter()
    zone = desk.world.gate.settings.zone
    counter.printer = ReceiptPrinter(PaperOut(), zone, check_paper=True)
    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "cash"))
    desk.touch(Action("desk_validate"))
    assert desk.shows("No receipt: the printer is out of paper. Load a roll, then reprint. "
                      "The sale is recorded.")  # fmt: skip
    assert len(desk.records(kinds.SALE)) == 1
    fresh = Dummy()
    counter.printer = ReceiptPrinter(fresh, zone, check_paper=False)
    desk.touch(Action("desk_reprint"))
    assert desk.shows("Receipt printed.") and b"119.00" in fresh.output
    assert len(desk.records(kinds.REPRINT)) == 1


class Unplugged(Dummy):
    def _raw(self, msg: bytes) -> None:
        raise OSError(19, "No such device")


def test_an_unplugged_printer_keeps_the_sale_says_so_and_offers_a_reprint(desk: Desk) -> None:
    counter = desk.world.gate.counter.counter()
    counter.printer = ReceiptPrinter(Unplugged(), desk.world.gate.settings.zone, check_paper=False)
    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "card"))
    desk.touch(Action("desk_validate"))
    assert desk.kiosk.ui.desk.done.printed == "printer_error"
    assert desk.shows("No receipt: the printer failed. The sale is recorded; reprint it.")
    assert desk.kiosk.button_at(Action("desk_reprint")) and len(desk.records(kinds.SALE)) == 1


def test_a_full_disk_refuses_the_sale_with_a_message_and_sells_nothing(desk: Desk) -> None:
    desk.log_in("Anne", "1111")
    desk.type_number(STOCK)
    journal = desk.world.journal
    pages = journal.db.execute_sql("PRAGMA page_count").fetchone()[0]
    journal.db.execute_sql(f"PRAGMA max_page_count = {pages}")
    for _ in range(200):  # fill the last free pages with paper-pass refusals, until one fails
        desk.world.loop.handle(PaperPass("4711"))
        if not desk.world.gate.recorder.ok:
            break
    assert not desk.world.gate.recorder.ok
    desk.settle()
    desk.advance(10)  # the refusal's page gives way to the desk's home
    desk.type_number(STOCK)
    desk.touch(Action("desk_action", "sell"))
    desk.touch(Action("desk_tariff", "normal"))
    desk.touch(Action("desk_no_voucher"))
    desk.touch(Action("desk_payment", "cash"))
    desk.touch(Action("desk_validate"))
    assert desk.page is Page.REFUSED and desk.kiosk.ui.desk.refusal.code == "not_stored"
    assert desk.records(kinds.SALE) == []
    journal.db.execute_sql(f"PRAGMA max_page_count = {pages * 100}")
    desk.touch(Action("back"))
    assert desk.page is Page.HOME


def test_a_tap_at_the_desk_before_anyone_logs_in_records_nothing(desk: Desk) -> None:
    before = desk.world.journal.last_seq
    desk.tap(STOCK)
    assert desk.screen is Screen.IDLE and desk.shows("Counter")
    assert desk.world.journal.last_seq == before and not desk.world.relay_on


def test_desk_mode_and_counter_settings_are_checked(make_settings) -> None:
    from firmware.config import ConfigError

    with pytest.raises(ConfigError, match=r"\[gate\] mode = 'till': must be one of gate, desk"):
        make_settings(gate={"mode": "till"})
    with pytest.raises(ConfigError, match=r"\[counter\] printer = 'usb' needs printer_target"):
        make_settings(counter={"printer": "usb"})
    with pytest.raises(ConfigError, match=r"\[counter\] tse = 'fiskaly' needs fiskaly_tss_id"):
        make_settings(counter={"tse": "fiskaly"})
