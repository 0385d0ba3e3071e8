"""The counter's printer and TSE, chosen by name in the ``[counter]`` settings.

Only the code that builds the application calls these; the rest of the
counter sees a ``ReceiptPrinter`` and a ``Tse``. Printers are python-escpos's
own classes (``usb``, ``serial``, ``network``, ``file``); ``none`` means no
receipt. TSE backends: ``none`` (France, Switzerland) and ``fiskaly``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from escpos import printer as escpos_printer
from escpos.escpos import Escpos

from firmware.clock import Clock
from firmware.config import CounterSettings
from firmware.counter.fiskaly import FiskalyTse
from firmware.counter.receipt import ReceiptPrinter
from firmware.counter.tse import NoTse, Tse

PRINTERS = ("none", "usb", "serial", "network", "file")
TSES = ("none", "fiskaly")


class DeviceError(Exception):
    """A printer or TSE setting that cannot work; the message names the key and the fix."""


def make_escpos(kind: str, target: str) -> Escpos | None:
    """A python-escpos printer for ``kind`` and ``target``; DeviceError if they cannot work."""
    where = f"[counter] printer = {kind!r}, printer_target = {target!r}"
    if kind == "none":
        return None
    if kind not in PRINTERS:
        raise DeviceError(f"{where}: printer must be one of {', '.join(PRINTERS)}")
    if not target:
        raise DeviceError(f"{where}: printer_target is needed for a {kind} printer")
    try:
        if kind == "usb":
            vendor, product = (int(part, 16) for part in target.split(":"))
            return escpos_printer.Usb(vendor, product)
        if kind == "network":
            host, _, port = target.rpartition(":")
            return escpos_printer.Network(host or target, int(port) if host else 9100, timeout=5)
        if kind == "serial":
            return escpos_printer.Serial(devfile=target)
        return escpos_printer.File(devfile=target)
    except ValueError:
        raise DeviceError(f"{where}: the target is not of the form the comment in "
                          "the example configuration shows") from None  # fmt: skip


def make_printer(settings: CounterSettings, zone: ZoneInfo) -> ReceiptPrinter:
    """The receipt printer; python-escpos opens the device at the first receipt."""
    return ReceiptPrinter(make_escpos(settings.printer, settings.printer_target), zone,
                          settings.receipt_language, settings.museum_name,
                          settings.printer_checks_paper)  # fmt: skip


def make_tse(settings: CounterSettings, clock: Clock, gate: str) -> Tse:
    if settings.tse == "none":
        return NoTse()
    if settings.tse != "fiskaly":
        raise DeviceError(f"[counter] tse = {settings.tse!r}: must be one of {', '.join(TSES)}")
    if not (settings.fiskaly_tss_id and settings.fiskaly_client_id):
        raise DeviceError("[counter] tse = 'fiskaly' needs fiskaly_tss_id and fiskaly_client_id "
                          "(the UUIDs of the TSS set up in fiskaly's dashboard)")  # fmt: skip
    path = settings.fiskaly_credentials
    try:
        key, _, secret = path.read_text().strip().partition(":")
    except OSError as exc:
        raise DeviceError(f"[counter] fiskaly_credentials {path} cannot be read "
                          f"({exc.strerror})") from None  # fmt: skip
    if not (key and secret):
        raise DeviceError(f"[counter] fiskaly_credentials {path} must hold api_key:api_secret")
    return FiskalyTse(settings.fiskaly_url, key, secret, settings.fiskaly_tss_id,
                      settings.fiskaly_client_id, gate, clock, settings.tse_timeout_s)  # fmt: skip
