"""Printers and TSE chosen by name; a network receipt printer on a real loopback socket."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from counterworld import make_pass
from escpos.constants import RT_STATUS_PAPER
from escpos.printer import File, Network

from firmware.clock import ManualClock
from firmware.counter.devices import (
    CounterSettings,
    DeviceError,
    make_escpos,
    make_printer,
    make_tse,
)
from firmware.counter.fiskaly import FiskalyTse
from firmware.counter.records import Stamp, counter_entry
from firmware.counter.tse import NoTse
from firmware.journal.journal import Journal

PARIS = ZoneInfo("Europe/Paris")
PAPER_OK, NO_PAPER = 0x12, 0x72  # what an Epson-style printer answers to DLE EOT 4


class PrinterSocket:
    """A TCP printer on loopback: keeps what it receives, answers the paper-status query."""

    def __init__(self, paper: int = PAPER_OK) -> None:
        self.paper, self.received = paper, bytearray()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            while chunk := connection.recv(4096):
                self.received += chunk
                if chunk.endswith(RT_STATUS_PAPER):
                    connection.sendall(bytes([self.paper]))
        self.closed.set()


def sale_record(tmp_path: Path):  # noqa: ANN201
    journal = Journal.open(tmp_path / "journal.sqlite")
    stamp = Stamp(1_780_000_000.0, 1.0, True, "2026-05-28", "M1", "desk1", "Anne")
    fields = {"tariff": "normal", "tariff_label": "Plein tarif", "price_cents": 11900,
              "voucher_cents": 0, "due_cents": 11900, "payment": "cash", "currency": "EUR",
              "state": "sold"}  # fmt: skip
    pass_ = make_pass()
    return journal.append(counter_entry("sale", stamp, fields, credential=pass_.serial,
                                        pass_number=pass_.pass_number))  # fmt: skip


def test_network_printer_receives_the_receipt(tmp_path: Path) -> None:
    device = PrinterSocket()
    settings = CounterSettings(printer="network", printer_target=f"127.0.0.1:{device.port}")
    printer = make_printer(settings, PARIS)
    assert printer.print_receipt(sale_record(tmp_path)).printed
    printer.printer.close()
    assert device.closed.wait(5)
    assert b"Plein tarif" in device.received and b"119.00 EUR" in device.received


def test_network_printer_out_of_paper_prints_nothing_and_says_so(tmp_path: Path) -> None:
    device = PrinterSocket(paper=NO_PAPER)
    settings = CounterSettings(printer="network", printer_target=f"127.0.0.1:{device.port}")
    printer = make_printer(settings, PARIS)
    result = printer.print_receipt(sale_record(tmp_path))
    printer.printer.close()
    assert result.code == "out_of_paper" and "reprint" in result.message
    assert device.closed.wait(5) and b"Plein tarif" not in device.received


def test_printer_switched_off_is_a_printer_error_not_a_crash(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    settings = CounterSettings(printer="network", printer_target=f"127.0.0.1:{port}")
    result = make_printer(settings, PARIS).print_receipt(sale_record(tmp_path))
    assert result.code == "printer_error"


def test_printer_kinds_are_chosen_by_name(tmp_path: Path) -> None:
    assert make_escpos("none", "") is None
    assert isinstance(make_escpos("network", "10.0.0.5"), Network)
    assert isinstance(make_escpos("file", str(tmp_path / "lp0")), File)


@pytest.mark.parametrize(("kind", "target", "words"), [
    ("laser", "x", "must be one of"), ("usb", "", "printer_target is needed"),
    ("usb", "epson", "not of the form"), ("network", "host:port", "not of the form"),
])  # fmt: skip
def test_bad_printer_settings_name_the_key(kind: str, target: str, words: str) -> None:
    with pytest.raises(DeviceError, match=words):
        make_escpos(kind, target)


def test_tse_backends_by_name(tmp_path: Path) -> None:
    clock = ManualClock()
    assert isinstance(make_tse(CounterSettings(), clock, "desk1"), NoTse)
    secret = tmp_path / "fiskaly.secret"
    secret.write_text("key:secret\n")
    settings = CounterSettings(tse="fiskaly", fiskaly_tss_id="t", fiskaly_client_id="c",
                               fiskaly_credentials=secret)  # fmt: skip
    assert isinstance(make_tse(settings, clock, "desk1"), FiskalyTse)
    with pytest.raises(DeviceError, match="must be one of"):
        make_tse(CounterSettings(tse="swissbit"), clock, "desk1")
    with pytest.raises(DeviceError, match="fiskaly_tss_id"):
        make_tse(CounterSettings(tse="fiskaly"), clock, "desk1")
    secret.write_text("only-a-key")
    with pytest.raises(DeviceError, match="api_key:api_secret"):
        make_tse(settings, clock, "desk1")
