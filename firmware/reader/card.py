"""An emulated card on nfcpy's UDP reader simulation, for the bench and for tests.

``present_card`` holds an NFC-A card with a chosen UID "on" a reader opened
as ``udp:HOST:PORT``: nfcpy's udp driver in listen mode answers every SENS_REQ
and anticollision round the reader sends while the card is held, just as a
card resting on a PN532 answers each poll.
"""

from __future__ import annotations

import errno
import logging
import re
import time

import nfc
import nfc.clf.udp
from nfc.clf import LocalTarget

from firmware.reader.nfc import VALID_SERIAL_LENGTHS, format_serial

log = logging.getLogger("portique.reader")

# nfcpy's defaults for a bare "udp" path.
_UDP_DEFAULT_HOST = "localhost"
_UDP_DEFAULT_PORT = 54321

_SEL_REQ = {0x93, 0x95, 0x97}  # first byte of SEL_REQ for cascade levels 1, 2, 3
_HEX_GROUP = re.compile(r"(?:[0-9A-Fa-f]{2})+")

# What nfcpy's udp driver receives: (bit rate and type, frame, sender address).
_Frame = tuple[str, bytearray, tuple[str, int]]


class _CardSide(nfc.clf.udp.Device):
    """nfcpy's udp device, listening as a card, with one fix and one counter.

    The fix: nfcpy 1.0.4's udp card compares a cascade level 3 SEL_REQ with
    ``95 70 ...`` instead of ``97 70 ...``, so it never answers and a reader
    never finds a 10-byte UID. We hand it the frame in the form it expects.

    The counter: ``selections`` counts completed anticollisions (a SEL_RES
    without the cascade bit), i.e. how many times a reader read the UID.
    """

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self._vendor_name, self._device_name, self._chipset_name = "portique", "card", "UDP"
        self._path = f"udp:{host}:{port}"
        self.selections = 0
        self._last_cmd = bytearray()

    def _recv_data(self, timeout: float | None, *brty_list: str) -> _Frame:
        brty, data, addr = super()._recv_data(timeout, *brty_list)
        if data[:2] == b"\x97\x70":
            data = bytearray(b"\x95\x70") + data[2:]
        self._last_cmd = data
        return brty, data, addr

    def _send_data(self, brty: str, data: bytes, addr: tuple[str, int]) -> None:
        super()._send_data(brty, data, addr)
        cmd = self._last_cmd
        answers_sel = len(cmd) >= 2 and cmd[0] in _SEL_REQ and cmd[1] == 0x70
        # A one-byte SEL_RES with the cascade bit clear: the reader has the whole UID.
        if answers_sel and len(data) == 1 and not data[0] & 0x04:
            self.selections += 1

    def _bind_socket(self, time_to_return: float) -> bool:
        # nfcpy returns False for a port in use, and listen() then returns at once;
        # say so instead of pretending the card was held.
        bound = super()._bind_socket(time_to_return)  # False: in use; None: out of time
        if bound is False:
            raise OSError(
                errno.EADDRINUSE,
                f"{self._path}: UDP port {self.addr[1]} is already in use "
                "(another emulated card on this reader?)",
            )
        return bool(bound)


def parse_serial(text: str) -> bytes:
    """Hex bytes, optionally separated by ':' or spaces: '04:A1:B2:C3', '04 a1 b2 c3'."""
    groups = re.split(r"[:\s]+", text.strip())
    if not text.strip() or not all(_HEX_GROUP.fullmatch(g) for g in groups):
        raise ValueError(f"{text!r} is not a card serial: expected hex bytes such as 04:A1:B2:C3")
    return bytes.fromhex("".join(groups))


def present_card(
    path: str, serial: bytes, hold_s: float, *, allow_any_length: bool = False
) -> bool:
    """Hold a card with UID ``serial`` on the reader at ``path`` for ``hold_s`` seconds.

    Returns True when a reader read the UID at least once. ``allow_any_length``
    lets tests present a serial that is not 4, 7 or 10 bytes long.
    """
    address = _udp_address(path)
    _check_card(serial, hold_s, allow_any_length)
    device = _CardSide(*address)
    clf = nfc.ContactlessFrontend()
    # Our device instead of open(path), which would build nfcpy's unfixed one.
    clf.device = device
    target = _target(serial)
    log.debug("card %s: on reader %s for %.1f s", format_serial(serial), path, hold_s)
    deadline = time.monotonic() + hold_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            # listen() returns early only if a reader goes on to talk to the card
            # (activation); the card is still held, so listen for the rest of the time.
            clf.listen(target, left)
    finally:
        clf.close()
    log.debug("card %s: taken away, read %d times", format_serial(serial), device.selections)
    return device.selections > 0


def _udp_address(path: str) -> tuple[str, int]:
    parts = path.split(":")
    if parts[0] != "udp" or len(parts) > 3:
        raise ValueError(f"{path!r}: an emulated card needs a udp:HOST:PORT reader path")
    host = parts[1] if len(parts) > 1 and parts[1] else _UDP_DEFAULT_HOST
    port = parts[2] if len(parts) > 2 and parts[2] else str(_UDP_DEFAULT_PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{path!r}: the UDP port must be a number from 1 to 65535")
    return host, int(port)


def _check_card(serial: bytes, hold_s: float, allow_any_length: bool) -> None:
    if not serial:
        raise ValueError("a card serial cannot be empty")
    if len(serial) not in VALID_SERIAL_LENGTHS and not allow_any_length:
        raise ValueError(
            f"card serial {format_serial(serial)} has {len(serial)} bytes; "
            "a UID has 4, 7 or 10 (pass allow_any_length=True to present it)"
        )
    if hold_s <= 0:
        raise ValueError(f"hold time must be positive, not {hold_s!r} s")


def _target(serial: bytes) -> LocalTarget:
    # SENS_RES (ATQA, low byte first) announces the UID size; SEL_RES (SAK) the card type:
    # 4 bytes like a MIFARE Classic 1K, 7 (or other) bytes like a MIFARE Ultralight.
    if len(serial) <= 4:
        sens_res, sel_res = "0400", "08"
    elif len(serial) <= 7:
        sens_res, sel_res = "4400", "00"
    else:
        sens_res, sel_res = "8400", "00"
    return LocalTarget(
        "106A",
        sens_res=bytearray.fromhex(sens_res),
        sdd_res=bytearray(serial),
        sel_res=bytearray.fromhex(sel_res),
    )
