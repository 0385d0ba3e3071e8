"""Receipts on an ESC/POS thermal printer (python-escpos), built from journal records.

A receipt is drawn from the committed record alone, so a reprint is the
same receipt marked as a duplicate, and a printer that is missing or out of
paper never loses a sale: the record is already on disk, ``print_receipt``
answers why it could not print, and the cashier reprints later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError

from firmware.counter import records as kinds
from firmware.counter.money import format_cents
from firmware.counter.records import detail_of

log = logging.getLogger("portique.counter")

WORDS = {
    "fr": {"sale": "Vente", "renewal": "Renouvellement", "cancellation": "Annulation",
           "pass": "Pass", "tariff": "Tarif", "category": "Catégorie", "price": "Prix",
           "voucher": "Bon FNAC", "due": "Total payé", "payment": "Paiement",
           "valid": "Valable jusqu'au", "inactive": "Activé à la première entrée",
           "seller": "Vendeur", "receipt": "Ticket", "duplicate": "DUPLICATA",
           "register": "Enregistrez votre pass auprès du bureau central.",
           "tse_failed": "TSE en panne : transaction non signée",
           "cash": "espèces", "card": "carte", "cheque": "chèque",
           "passculture": "pass Culture"},
    "de": {"sale": "Verkauf", "renewal": "Verlängerung", "cancellation": "Storno",
           "pass": "Pass", "tariff": "Tarif", "category": "Kategorie", "price": "Preis",
           "voucher": "FNAC-Gutschein", "due": "Bezahlt", "payment": "Zahlung",
           "valid": "Gültig bis", "inactive": "Aktiviert beim ersten Eintritt",
           "seller": "Verkäufer", "receipt": "Beleg", "duplicate": "DUPLIKAT",
           "register": "Bitte registrieren Sie Ihren Pass beim Zentralbüro.",
           "tse_failed": "TSE ausgefallen: Vorgang nicht signiert",
           "cash": "bar", "card": "Karte", "cheque": "Scheck",
           "passculture": "pass Culture"},
    "en": {"sale": "Sale", "renewal": "Renewal", "cancellation": "Cancellation",
           "pass": "Pass", "tariff": "Tariff", "category": "Category", "price": "Price",
           "voucher": "FNAC voucher", "due": "Paid", "payment": "Payment",
           "valid": "Valid until", "inactive": "Activated at the first entry",
           "seller": "Seller", "receipt": "Receipt", "duplicate": "DUPLICATE",
           "register": "Please register your pass with the central office.",
           "tse_failed": "TSE failed: transaction not signed",
           "cash": "cash", "card": "card", "cheque": "cheque",
           "passculture": "pass Culture"},
}  # fmt: skip


@dataclass(frozen=True)
class PrintResult:
    printed: bool
    code: str = "printed"  # "printed", "no_printer", "out_of_paper", "printer_error"
    message: str = ""


def lines_of(record: Any, zone: ZoneInfo, language: str = "fr",
             museum_name: str = "") -> list[str]:  # fmt: skip
    """The receipt's text lines for a sale, renewal or cancellation record."""
    words = WORDS.get(language, WORDS["en"])
    detail = detail_of(record)
    currency = detail.get("currency", "")
    when = datetime.fromtimestamp(record.wall, zone).strftime("%d.%m.%Y %H:%M")
    lines = [museum_name or record.museum, f"{words.get(record.kind, record.kind)}  {when}",
             f"{words['receipt']} {record.gate}-{record.seq}"]  # fmt: skip
    if record.pass_number:
        lines.append(f"{words['pass']}: {record.pass_number}")
    if detail.get("tariff_label"):
        lines.append(f"{words['tariff']}: {detail['tariff_label']}")
    if detail.get("category"):
        lines.append(f"{words['category']}: {detail['category']}")
    lines.append(f"{words['price']}: {format_cents(detail.get('price_cents', 0))} {currency}")
    if detail.get("voucher_cents"):
        lines.append(f"{words['voucher']}: -{format_cents(detail['voucher_cents'])} {currency}")
    sign = "-" if record.kind == kinds.CANCELLATION else ""
    lines.append(f"{words['due']}: {sign}{format_cents(detail.get('due_cents', 0))} {currency}")
    payment = str(detail.get("payment", ""))
    lines.append(f"{words['payment']}: {words.get(payment, payment)}")
    if record.kind in kinds.SALE_KINDS:
        if record.valid_until:
            lines.append(f"{words['valid']} {record.valid_until}")
        if detail.get("state") != "active":
            # Sold, or renewed while the current year runs: the new year starts at the
            # first entry (after the current year, for a renewal).
            lines.append(words["inactive"])
    if record.operator:
        lines.append(f"{words['seller']}: {record.operator}")
    if record.kind == kinds.SALE:
        lines.append(words["register"])
    return lines


def render(printer: Escpos, record: Any, zone: ZoneInfo, language: str = "fr",
           museum_name: str = "", duplicate: bool = False) -> None:  # fmt: skip
    """Send the receipt of ``record`` to ``printer`` (raises python-escpos's errors)."""
    words = WORDS.get(language, WORDS["en"])
    lines = lines_of(record, zone, language, museum_name)
    printer.set(align="center", bold=True, double_height=True)
    printer.textln(lines[0])
    printer.set(align="left", bold=False, normal_textsize=True)
    if duplicate:
        printer.set(align="center", bold=True)
        printer.textln(words["duplicate"])
        printer.set(align="left", bold=False)
    for line in lines[1:]:
        printer.textln(line)
    tse = detail_of(record).get("tse")
    if tse and tse.get("state") == "signed":
        printer.textln(f"TSE {tse['serial']} #{tse['number']} sig {tse['counter']}")
        printer.textln(f"{tse['time_start']} - {tse['time_end']}")
        # The native ESC/POS QR command: the printer draws it from the text itself.
        printer.qr(tse["qr_data"], native=True, size=4)
    elif tse and tse.get("state") == "failed":
        printer.textln(words["tse_failed"])
    printer.cut()


class ReceiptPrinter:
    """A configured printer; answers PrintResult and never raises for a printer fault."""

    def __init__(self, printer: Escpos | None, zone: ZoneInfo, language: str = "fr",
                 museum_name: str = "", check_paper: bool = True) -> None:  # fmt: skip
        self.printer, self.zone, self.language = printer, zone, language
        self.museum_name, self.check_paper = museum_name, check_paper

    def print_receipt(self, record: Any, duplicate: bool = False) -> PrintResult:
        if self.printer is None:
            return PrintResult(False, "no_printer", "no receipt printer is configured")
        try:
            if self.check_paper and self.printer.paper_status() == 0:
                return PrintResult(False, "out_of_paper", "the printer is out of paper: load "
                                   "a roll, then reprint the receipt")  # fmt: skip
            render(self.printer, record, self.zone, self.language, self.museum_name, duplicate)
        except (EscposError, OSError, ValueError) as exc:
            log.warning("receipt of record %s not printed: %s", record.seq, exc)
            return PrintResult(False, "printer_error", f"the printer failed ({exc}): the sale "
                               "is recorded; reprint the receipt")  # fmt: skip
        return PrintResult(True)


def z_report_lines(closure: dict[str, Any], currency: str = "") -> list[str]:
    """The Z report of a signed closure, as the screen and the printer show it."""
    body = closure["closure"]
    totals = body["totals"]
    money = lambda cents: f"{format_cents(cents)} {currency}".strip()  # noqa: E731
    lines = [
        f"Z {body['period']} {body['label']} no. {body['number']}",
        f"{body['museum']} / {body['gate']}  records {body['first_seq']}-{body['last_seq']}",
        f"sales {totals['sales']}  cancellations {totals['cancellations']}",
        f"gross {money(totals['gross_cents'])}  vouchers {money(totals['vouchers_cents'])}",
        f"cancelled {money(totals['cancelled_cents'])}  net {money(totals['net_cents'])}",
    ]
    lines += [f"  {method}: {money(cents)}" for method, cents in totals["by_payment"].items()]
    lines += [f"grand total {money(body['grand_total_cents'])}",
              f"grand total (absolute) {money(body['grand_total_absolute_cents'])}",
              f"signed by gate key {closure['key_id']}"]  # fmt: skip
    return lines


def print_lines(receipt_printer: ReceiptPrinter, lines: list[str]) -> PrintResult:
    """Print plain lines (a Z report); a printer fault is answered, never raised."""
    printer = receipt_printer.printer
    if printer is None:
        return PrintResult(False, "no_printer", "no receipt printer is configured")
    try:
        if receipt_printer.check_paper and printer.paper_status() == 0:
            return PrintResult(False, "out_of_paper", "the printer is out of paper")
        for line in lines:
            printer.textln(line)
        printer.cut()
    except (EscposError, OSError, ValueError) as exc:
        return PrintResult(False, "printer_error", f"the printer failed ({exc})")
    return PrintResult(True)
