"""The counter on a real journal file: records, till, signed closures, receipts, archives."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from counterworld import T0, YEAR_S, Office, make_pass, tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from escpos.printer import Dummy

from firmware.clock import FlooredClock, ManualClock
from firmware.counter import records as kinds
from firmware.counter.archive import export_archive, verify_archive
from firmware.counter.closures import closure_problems
from firmware.counter.receipt import ReceiptPrinter
from firmware.counter.records import detail_of
from firmware.counter.roles import NotPermitted
from firmware.counter.rules import Basket, CounterRefused
from firmware.counter.service import Counter
from firmware.counter.tariffs import TariffsUnavailable, current, parse_body
from firmware.gate.passes import PassState
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal
from firmware.trust import raw_public

PARIS = ZoneInfo("Europe/Paris")
CASHIER = StaffMember("Anne", Role.CAISSE)
MANAGER = StaffMember("Marc", Role.STOCK)
CONTROL = StaffMember("Lea", Role.CONTROLE)


class PaperOut(Dummy):
    """python-escpos's Dummy printer answering the paper sensor with 'no paper'."""

    def _read(self) -> bytes:
        return bytes([0x0C])


class Unplugged(Dummy):
    def _raw(self, msg: bytes) -> None:
        raise OSError(19, "No such device")


@pytest.fixture
def world(tmp_path: Path):  # noqa: ANN201
    clock = ManualClock(wall=T0)
    journal = Journal.open(tmp_path / "journal.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    key = Ed25519PrivateKey.generate()
    printer = Dummy()
    counter = Counter(journal, FlooredClock(clock), PARIS, "M1", "desk1",
                      lambda now: current(tariffs, now), key,
                      ReceiptPrinter(printer, PARIS, check_paper=False))  # fmt: skip
    yield counter, clock, printer, key
    journal.close()


def local_state(counter: Counter, serial: str) -> tuple[str, str | None, str | None]:
    row = counter.journal.models.local_pass.get_by_id(serial)
    return row.state, row.activated_on, row.expires_on


def test_sale_with_voucher_and_immediate_entry_records_sale_then_entry(world) -> None:  # noqa: ANN001
    counter, _, printer, _ = world
    basket = Basket("reduced", "card", "student", True, voucher_cents=2000, immediate_entry=True)
    done = counter.sell(CASHIER, make_pass(), "M1", basket)
    detail = detail_of(done.record)
    assert done.record.kind == kinds.SALE and done.record.operator == "Anne"
    assert (detail["price_cents"], detail["voucher_cents"], detail["due_cents"]) == (
        9900, 2000, 7900)  # fmt: skip
    assert (detail["payment"], detail["category"]) == ("card", "student")
    assert done.entry.kind == "decision" and done.entry.reason == "activated"
    assert done.entry.refers_to == done.record.seq and done.entry.billable
    assert local_state(counter, "04A1B2C3D4E5F6")[0] == "active"
    assert counter.journal.verify_chain() == []
    assert b"79.00" in printer.output and b"100200" in printer.output and done.printed.printed


def test_sale_without_entry_leaves_the_pass_sold_and_prints_the_register_hint(world) -> None:  # noqa: ANN001
    counter, _, printer, _ = world
    done = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    assert done.entry is None
    assert local_state(counter, "04A1B2C3D4E5F6") == ("sold", None, None)
    assert "Enregistrez votre pass".encode("cp437", "replace")[:10] in printer.output


def test_controle_cannot_sell_and_nothing_is_recorded(world) -> None:  # noqa: ANN001
    counter = world[0]
    with pytest.raises(NotPermitted):
        counter.sell(CONTROL, make_pass(), "M1", Basket("normal", "cash"))
    assert counter.journal.last_seq == 0


def test_expired_tariffs_block_a_sale_and_record_nothing(world) -> None:  # noqa: ANN001
    counter, clock, _, _ = world
    clock.advance(YEAR_S + 86400)
    with pytest.raises(TariffsUnavailable) as caught:
        counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    assert caught.value.code == "expired" and counter.journal.last_seq == 0


def test_printer_out_of_paper_keeps_the_sale_and_it_can_be_reprinted(world) -> None:  # noqa: ANN001
    counter = world[0]
    counter.printer = ReceiptPrinter(PaperOut(), PARIS)
    done = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    assert done.printed.code == "out_of_paper" and counter.journal.last_seq == 1
    fresh = Dummy()
    counter.printer = ReceiptPrinter(fresh, PARIS, check_paper=False)
    again = counter.reprint(CASHIER, done.record.seq)
    assert again.printed.printed and b"DUPLICATA" in fresh.output and b"119.00" in fresh.output
    assert again.record.kind == kinds.REPRINT and again.record.refers_to == done.record.seq


def test_unplugged_printer_keeps_the_sale(world) -> None:  # noqa: ANN001
    counter = world[0]
    counter.printer = ReceiptPrinter(Unplugged(), PARIS, check_paper=False)
    done = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    assert done.printed.code == "printer_error" and done.record.seq == 1


def test_cancellation_is_a_new_record_and_puts_the_pass_back(world) -> None:  # noqa: ANN001
    counter = world[0]
    sale = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash")).record
    original_hash = sale.hash
    cancel = counter.cancel(CASHIER, sale.seq, "wrong pass handed over").record
    assert cancel.kind == kinds.CANCELLATION and cancel.refers_to == sale.seq
    assert local_state(counter, "04A1B2C3D4E5F6")[0] == "stock"
    assert counter.journal.models.record.get_by_id(sale.seq).hash == original_hash
    with pytest.raises(CounterRefused, match="already"):
        counter.cancel(CASHIER, sale.seq, "again")


def test_renewal_is_recorded_with_its_dates(world) -> None:  # noqa: ANN001
    from datetime import date

    counter, _, printer, _ = world
    record = make_pass(PassState.ACTIVE, date(2025, 6, 20), date(2026, 6, 19))
    done = counter.renew(CASHIER, record, Basket("normal", "cheque"))
    assert done.record.kind == kinds.RENEWAL and done.record.valid_until == "2026-06-19"
    assert local_state(counter, record.serial) == ("sold", "2025-06-20", "2026-06-19")
    # The holder keeps the current year; the receipt says so and when the new one starts.
    assert b"Valable jusqu'au 2026-06-19" in printer.output
    assert b"la premi" in printer.output


def test_till_open_sales_close_with_counted_cash_and_difference(world) -> None:  # noqa: ANN001
    counter = world[0]
    with pytest.raises(NotPermitted):
        counter.open_till(CASHIER, 5000)
    counter.open_till(MANAGER, 5000)
    with pytest.raises(CounterRefused, match="already open"):
        counter.open_till(MANAGER, 5000)
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    counter.sell(CASHIER, make_pass(serial="01020305"), "M1", Basket("normal", "card"))
    closed = detail_of(counter.close_till(MANAGER, 16800).record)
    assert closed["expected_cents"] == 5000 + 11900
    assert closed["difference_cents"] == 16800 - 16900
    assert closed["totals"]["by_payment"] == {"card": 11900, "cash": 11900}


@pytest.mark.parametrize("amount", [-1, 10**12, 3.5])
def test_absurd_float_or_count_is_refused(world, amount: object) -> None:  # noqa: ANN001
    with pytest.raises(CounterRefused):
        world[0].open_till(MANAGER, amount)


def test_day_closure_is_signed_and_carries_a_perpetual_grand_total(world) -> None:  # noqa: ANN001
    counter, clock, printer, key = world
    public = raw_public(key.public_key())
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    first = detail_of(counter.close_period(MANAGER, "day").record)
    assert closure_problems(first, public) == []
    assert first["closure"]["grand_total_cents"] == 11900
    with pytest.raises(CounterRefused, match="already closed"):
        counter.close_period(MANAGER, "day")
    clock.advance(86400)
    sale = counter.sell(CASHIER, make_pass(serial="01020305"), "M1", Basket("normal", "card"))
    counter.cancel(CASHIER, sale.record.seq, "mistake")
    second = detail_of(counter.close_period(MANAGER, "day").record)["closure"]
    assert second["totals"]["net_cents"] == 0 and second["grand_total_cents"] == 11900
    assert second["grand_total_absolute_cents"] == 11900 + 2 * 11900
    assert second["number"] == 2 and second["first_seq"] == first["closure"]["last_seq"] + 1
    month = detail_of(counter.close_period(MANAGER, "month").record)["closure"]
    assert month["parts"] == 2 and month["totals"]["sales"] == 2
    assert b"grand total" in printer.output


def test_a_forged_closure_fails_its_signature(world) -> None:  # noqa: ANN001
    counter, _, _, key = world
    document = detail_of(counter.close_period(MANAGER, "day").record)
    document["closure"]["grand_total_cents"] += 100
    assert closure_problems(document, raw_public(key.public_key()))


def test_archive_verifies_offline_and_detects_a_rewritten_sale(world, tmp_path: Path) -> None:  # noqa: ANN001
    counter, _, _, key = world
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    counter.close_period(MANAGER, "day")
    out = tmp_path / "archive.json"
    assert export_archive(counter.journal, key, out) == 2
    key_id, count, problems = verify_archive(out)
    assert (count, problems) == (2, []) and key_id
    archive = json.loads(out.read_text())
    detail = json.loads(archive["records"][0]["detail"])
    detail["due_cents"] = 100
    archive["records"][0]["detail"] = json.dumps(detail)
    out.write_text(json.dumps(archive))
    assert any("does not match its hash" in p for p in verify_archive(out)[2])


def test_archive_with_a_record_removed_is_detected(world, tmp_path: Path) -> None:  # noqa: ANN001
    counter, _, _, key = world
    for serial in ("01020304", "01020305"):
        counter.sell(CASHIER, make_pass(serial=serial), "M1", Basket("normal", "cash"))
    out = tmp_path / "archive.json"
    export_archive(counter.journal, key, out)
    archive = json.loads(out.read_text())
    del archive["records"][-1]
    out.write_text(json.dumps(archive))
    assert any("added or removed" in p for p in verify_archive(out)[2])


def test_garbage_archive_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("[1, 2]")
    assert "not a portique archive" in verify_archive(path)[2][0]


def test_pass_order_is_a_stock_function_with_a_sane_quantity(world) -> None:  # noqa: ANN001
    counter = world[0]
    with pytest.raises(NotPermitted):
        counter.order_passes(CASHIER, 10, "single")
    for bad in (0, -5, 100000, True):
        with pytest.raises(CounterRefused):
            counter.order_passes(MANAGER, bad, "single")
    with pytest.raises(CounterRefused, match="pass type"):
        counter.order_passes(MANAGER, 10, "triple")
    order = counter.order_passes(MANAGER, 50, "single").record
    assert order.kind == kinds.PASS_ORDER and detail_of(order)["quantity"] == 50


def test_statistics_by_day_week_and_month(world) -> None:  # noqa: ANN001
    counter, clock, _, _ = world
    immediate = Basket("normal", "cash", immediate_entry=True)
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", immediate)
    clock.advance(86400)
    counter.sell(CASHIER, make_pass(serial="01020305"), "M1", Basket("normal", "card"))
    days = counter.statistics(CASHIER, "day")
    assert [(b.key, b.sales, b.entries, b.revenue_cents) for b in days] == [
        ("2026-05-28", 1, 1, 11900), ("2026-05-29", 1, 0, 11900)]  # fmt: skip
    weeks = counter.statistics(CASHIER, "week")
    assert [(b.key, b.sales) for b in weeks] == [("2026-W22", 2)]
    assert counter.statistics(CASHIER, "month")[0].revenue_cents == 23800
    with pytest.raises(NotPermitted):
        counter.statistics(CONTROL, "day")


def test_tariffs_signed_by_the_office_feed_the_counter(tmp_path: Path) -> None:
    from firmware.counter.tariffs import load_tariffs

    office = Office()
    path = tmp_path / "tariffs.json"
    path.write_text(json.dumps(office.sign()))
    trust = office.trust()
    assert load_tariffs(path, trust, T0).tariffs["normal"].price_cents == 11900


def test_portique_journal_verify_checks_an_archive_offline(world, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from firmware.cli import main

    counter, _, _, key = world
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    counter.close_period(MANAGER, "day")
    out = tmp_path / "archive.json"
    export_archive(counter.journal, key, out)
    assert main(["journal", "verify", "--archive", str(out)]) == 0
    assert "2 records checked, 0 problem(s)" in capsys.readouterr().out
    archive = json.loads(out.read_text())
    archive["records"][0]["operator"] = "someone else"
    out.write_text(json.dumps(archive))
    assert main(["journal", "verify", "--archive", str(out)]) == 1
    assert "seq 1: content does not match its hash" in capsys.readouterr().out


def test_double_tap_on_validate_records_one_sale(world) -> None:  # noqa: ANN001
    counter = world[0]
    basket = Basket("normal", "cash", immediate_entry=True, nonce="n-1")
    first = counter.sell(CASHIER, make_pass(), "M1", basket)
    second = counter.sell(CASHIER, make_pass(), "M1", basket)
    assert second.record.seq == first.record.seq
    assert counter.journal.last_seq == 2  # the sale and its entry, once


def test_a_stale_stock_record_cannot_sell_a_pass_twice(world) -> None:  # noqa: ANN001
    counter = world[0]
    counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    with pytest.raises(CounterRefused) as caught:
        counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "card"))
    assert caught.value.code == "not_in_stock" and counter.journal.last_seq == 1


def test_a_cancelled_sale_lets_the_pass_be_sold_again(world) -> None:  # noqa: ANN001
    counter = world[0]
    sale = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash")).record
    counter.cancel(CASHIER, sale.seq, "wrong tariff")
    again = counter.sell(CASHIER, make_pass(), "M1", Basket("reduced", "cash", "pupil", True))
    assert again.record.kind == kinds.SALE


def test_the_same_year_is_not_renewed_twice_from_a_stale_record(world) -> None:  # noqa: ANN001
    from datetime import date

    counter = world[0]
    record = make_pass(PassState.ACTIVE, date(2025, 6, 20), date(2026, 6, 19))
    counter.renew(CASHIER, record, Basket("normal", "cash", immediate_entry=True))
    with pytest.raises(CounterRefused) as caught:
        counter.renew(CASHIER, record, Basket("normal", "cash"))
    assert caught.value.code == "already_renewed"


def test_a_clock_set_back_cannot_revive_expired_tariffs(world) -> None:  # noqa: ANN001
    counter, clock, _, _ = world
    clock.advance(YEAR_S + 86400)
    counter.clock.now()  # the counter saw the true time once
    clock.set_wall(T0)  # then the clock is set back a year
    with pytest.raises(TariffsUnavailable) as caught:
        counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    assert caught.value.code == "expired"


def test_a_day_whose_records_were_pruned_is_not_closed_with_wrong_totals(world) -> None:  # noqa: ANN001
    from firmware.journal.outbox import Outbox

    counter, clock, _, _ = world
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    counter.close_period(MANAGER, "day")
    clock.advance(86400)
    for serial in ("01020305", "01020306"):
        counter.sell(CASHIER, make_pass(serial=serial), "M1", Basket("normal", "cash"))
    outbox = Outbox(counter.journal)
    last = counter.journal.last_seq
    assert outbox.acknowledge(last, outbox.hash_at(last), T0, outbox.epoch) is None
    assert outbox.prune(T0 + 10 * YEAR_S, 100) > 0
    with pytest.raises(CounterRefused) as caught:
        counter.close_period(MANAGER, "day")
    assert caught.value.code == "records_pruned"


def test_only_a_sale_can_be_cancelled_and_only_with_a_reason(world) -> None:  # noqa: ANN001
    counter = world[0]
    opened = counter.open_till(MANAGER, 1000).record
    with pytest.raises(CounterRefused) as caught:
        counter.cancel(CASHIER, opened.seq, "oops")
    assert caught.value.code == "not_a_sale"
    sale = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash")).record
    with pytest.raises(CounterRefused) as caught:
        counter.cancel(CASHIER, sale.seq, "   ")
    assert caught.value.code == "reason_required"
    with pytest.raises(CounterRefused):
        counter.cancel(CASHIER, 999, "no such record")


def test_a_cash_cancellation_lowers_the_cash_expected_in_the_till(world) -> None:  # noqa: ANN001
    counter = world[0]
    counter.open_till(MANAGER, 2000)
    sale = counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash")).record
    counter.cancel(CASHIER, sale.seq, "changed their mind")
    closed = detail_of(counter.close_till(MANAGER, 2000).record)
    assert (closed["expected_cents"], closed["difference_cents"]) == (2000, 0)


def test_the_day_cannot_close_while_the_till_is_open(world) -> None:  # noqa: ANN001
    counter = world[0]
    counter.open_till(MANAGER, 2000)
    with pytest.raises(CounterRefused) as caught:
        counter.close_period(MANAGER, "day")
    assert caught.value.code == "till_open"


def test_a_year_closure_adds_up_its_month_closures(world) -> None:  # noqa: ANN001
    counter, clock, _, key = world
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    counter.close_period(MANAGER, "day")
    counter.close_period(MANAGER, "month")
    clock.advance(40 * 86400)
    counter.sell(CASHIER, make_pass(serial="01020305"), "M1", Basket("normal", "card"))
    counter.close_period(MANAGER, "day")
    counter.close_period(MANAGER, "month")
    year = detail_of(counter.close_period(MANAGER, "year").record)
    assert year["closure"]["parts"] == 2 and year["closure"]["totals"]["net_cents"] == 23800
    assert year["closure"]["totals"]["by_payment"] == {"card": 11900, "cash": 11900}
    assert closure_problems(year, raw_public(key.public_key())) == []


def test_an_oversized_tariff_file_is_refused_unread(tmp_path: Path) -> None:
    from firmware.counter.tariffs import MAX_DOCUMENT_BYTES, load_tariffs

    path = tmp_path / "tariffs.json"
    path.write_bytes(b" " * (MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(TariffsUnavailable) as caught:
        load_tariffs(path, Office().trust(), T0)
    assert caught.value.code == "too_large"


def test_an_archive_resigned_by_another_key_fails_against_the_gate_key(
    world, tmp_path: Path, capsys
) -> None:  # noqa: ANN001
    from firmware.cli import main
    from firmware.trust import write_public_key

    counter, _, _, key = world
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    out, gate_pub = tmp_path / "archive.json", tmp_path / "gate.pub"
    write_public_key(key, gate_pub)
    export_archive(counter.journal, key, out)
    assert main(["journal", "verify", "--archive", str(out), "--gate-key", str(gate_pub)]) == 0
    export_archive(counter.journal, Ed25519PrivateKey.generate(), out)  # a forger's key
    assert main(["journal", "verify", "--archive", str(out), "--gate-key", str(gate_pub)]) == 1
    assert "not by the gate's key" in capsys.readouterr().out


def test_a_closure_that_does_not_carry_the_grand_total_on_is_reported(world) -> None:  # noqa: ANN001
    from firmware.counter.closures import build_closure, chain_problems, sign_closure

    counter, clock, _, key = world
    counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    first = detail_of(counter.close_period(MANAGER, "day").record)
    clock.advance(86400)
    counter.sell(CASHIER, make_pass(serial="01020305"), "M1", Basket("normal", "cash"))
    second = detail_of(counter.close_period(MANAGER, "day").record)
    assert chain_problems([first, second]) == []
    # A closure made as if the first day had never been closed: signed, but out of line.
    records = counter._till_records()
    restart = sign_closure(build_closure("day", "2026-05-29", records[2:], None, 4, "0" * 64,
                                         T0, "M1", "desk1"), key)  # fmt: skip
    problems = chain_problems([first, restart])
    assert any("does not follow" in p for p in problems)
    assert any("not linked" in p for p in problems)
    assert any("grand total" in p for p in problems)


def test_the_screen_is_told_to_have_the_buyer_register_and_to_reprint(world) -> None:  # noqa: ANN001
    counter = world[0]
    assert counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash")).hints == (
        "ask_to_register",)  # fmt: skip
    counter.printer = ReceiptPrinter(PaperOut(), PARIS)
    done = counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    assert done.hints == ("ask_to_register", "reprint")


def test_actions_offered_follow_the_role(world) -> None:  # noqa: ANN001
    counter = world[0]
    assert counter.actions_for(CASHIER, make_pass(), "M1") == ("sell", "information")
    assert counter.actions_for(CONTROL, make_pass(), "M1") == ("information",)


def test_till_status_shows_cash_expected_and_sales_by_method(world) -> None:  # noqa: ANN001
    counter = world[0]
    with pytest.raises(NotPermitted):
        counter.till(CASHIER)
    counter.open_till(MANAGER, 3000)
    counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash", voucher_cents=1900))
    state = counter.till(MANAGER)
    assert state.open and state.expected_cents == 3000 + 10000
    assert state.totals.by_payment == {"cash": 10000} and state.totals.vouchers_cents == 1900


def test_an_older_tariff_version_cannot_bring_old_prices_back(world) -> None:  # noqa: ANN001
    counter = world[0]
    newer = parse_body(tariff_body(version=5), "k")
    older = parse_body(tariff_body(version=4), "k")
    counter._tariffs = lambda now: newer
    counter.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    counter._tariffs = lambda now: older
    with pytest.raises(TariffsUnavailable) as caught:
        counter.sell(CASHIER, make_pass(serial="01020304"), "M1", Basket("normal", "cash"))
    assert caught.value.code == "rollback" and counter.journal.last_seq == 1
