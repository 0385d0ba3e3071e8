"""A PN532 on its HSU (UART) link, emulated on a pseudo-terminal, for nfcpy's real ``pn532`` driver.

The emulator owns the master side of a pty; nfcpy opens the slave side as it
would open ``/dev/ttyUSB0`` (through a link in /dev: nfcpy finds ports by
listing /dev, see ``DevLink``). It speaks the PN532's host frames (preamble,
start code, length and checksums, ACK, normal and extended frames) and
answers the commands nfcpy's driver sends to open the chip, poll for an NFC-A
card, and close it again. Test-side actions: ``put_card``/``take_card``,
``unplug``; misbehaviour on demand: ``silent``, ``garbage`` (a reply cut short),
``delay_s`` (a poll answered late).

Only what a gate uses is emulated: card discovery (InListPassiveTarget at
106 kbps type A), no card activation.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

ACK = bytes.fromhex("0000FF00FF00")
_SOF = b"\x00\xff"
_HOST, _CHIP = 0xD4, 0xD5
_CIU_FIFO_DATA = 0x6309
_SENS_REQ = 0x26  # what the CIU FIFO still holds after a poll that no card answered

# (SENS_RES as the PN532 sends it, SEL_RES) by UID length: MIFARE Classic 1K for
# 4 bytes, Ultralight-like for 7, a triple-size UID for 10.
_CARD_TYPES = {4: (b"\x00\x04", 0x08), 7: (b"\x00\x44", 0x00), 10: (b"\x00\x84", 0x00)}


def frame(payload: bytes) -> bytes:
    """A PN532 information frame around ``payload`` (TFI, command code, data)."""
    dcs = (-sum(payload)) & 0xFF
    if len(payload) < 255:
        return (
            b"\x00\x00\xff"
            + bytes([len(payload), (-len(payload)) & 0xFF])
            + payload
            + bytes([dcs, 0])
        )
    high, low = len(payload) >> 8, len(payload) & 0xFF
    head = b"\x00\x00\xff\xff\xff" + bytes([high, low, (-(high + low)) & 0xFF])
    return head + payload + bytes([dcs, 0])


class EmulatedPn532:
    """One PN532 plugged in: a pty whose slave nfcpy opens; ``unplug()`` hangs it up."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        # Raw from the start: a pty's line discipline would echo the host's frames back.
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.card: bytes | None = None
        self.card_placed_at = 0.0  # perf_counter() when the card was put down
        self.card_read_at = 0.0  # perf_counter() when a poll first answered with it
        self.silent = False
        self.garbage = False
        self.delay_s = 0.0
        self.polls = 0  # InListPassiveTarget commands answered
        self.commands: list[int] = []
        self.polled = threading.Condition()
        self._registers: dict[int, int] = {}
        self._buffer = bytearray()
        self._wake_r, self._wake_w = os.pipe()
        self._plugged = True
        self._thread = threading.Thread(target=self._serve, name="pn532-emulator", daemon=True)
        self._thread.start()

    # -- test-side actions ---------------------------------------------------

    def put_card(self, serial: bytes) -> None:
        """A card with UID ``serial`` enters the field (answered from the next poll on)."""
        if len(serial) not in _CARD_TYPES:
            raise ValueError(f"an emulated card has a 4, 7 or 10 byte UID, not {len(serial)}")
        self.card_placed_at = time.perf_counter()
        self.card_read_at = 0.0
        self.card = serial

    def take_card(self) -> None:
        self.card = None

    def wait_polls(self, count: int, timeout: float) -> bool:
        """Wait until the host has polled ``count`` more times; False on timeout."""
        with self.polled:
            target = self.polls + count
            return self.polled.wait_for(lambda: self.polls >= target, timeout)

    def unplug(self) -> None:
        """The USB cable pulled: the pty hangs up (the host's reads fail, SIGHUP to its owner)."""
        if not self._plugged:
            return
        self._plugged = False
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)

    # -- the chip ------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while self._plugged:
                ready, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._wake_r in ready:
                    break
                try:
                    data = os.read(self._master, 4096)
                except OSError:  # no slave open at this instant: wait for the next one
                    continue
                self._buffer += data
                self._answer_frames()
        finally:
            for fd in (self._master, self._slave, self._wake_r, self._wake_w):
                os.close(fd)

    def _answer_frames(self) -> None:
        while (payload := self._next_command()) is not None:
            if payload[0] != _HOST or len(payload) < 2:
                continue
            code, data = payload[1], bytes(payload[2:])
            self.commands.append(code)
            if self.silent:
                continue
            if self.garbage:
                self._send(ACK[:3])  # a reply cut short: the host reads 3 bytes, not 6
                continue
            self._send(ACK)  # a real chip acknowledges within 15 ms, then works
            answer = self._command(code, data)
            if code == 0x4A and self.delay_s:
                time.sleep(self.delay_s)  # a slow poll: the answer comes late
            self._send(frame(bytes([_CHIP, code + 1]) + answer))

    def _next_command(self) -> bytearray | None:
        """The next complete host frame's payload, ACKs and preamble skipped; None if incomplete."""
        buf = self._buffer
        while True:
            start = buf.find(_SOF)
            if start < 0 or len(buf) < start + 4:
                return None
            del buf[:start]
            if buf[2:4] == b"\x00\xff":  # an ACK from the host (cancel): nothing to answer
                del buf[:4]
                continue
            if buf[2:4] == b"\xff\xff":  # extended frame: 2 length bytes and their checksum
                if len(buf) < 7:
                    return None
                length, head = buf[4] << 8 | buf[5], 7
            else:
                length, head = buf[2], 4
            if len(buf) < head + length + 2:
                return None
            payload = buf[head : head + length]
            del buf[: head + length + 2]
            return payload

    def _command(self, code: int, data: bytes) -> bytes:
        if (
            code == 0x02
        ):  # GetFirmwareVersion: PN532 v1.6, supports ISO/IEC 14443 A and B, ISO 18092
            return b"\x32\x01\x06\x07"
        if code == 0x00:  # Diagnose: the line test echoes its data
            return data
        if code == 0x06:  # ReadRegister: one byte per 16-bit address
            addresses = [data[i] << 8 | data[i + 1] for i in range(0, len(data), 2)]
            return bytes(self._register(a) for a in addresses)
        if code == 0x08:  # WriteRegister: address, value triplets
            for i in range(0, len(data), 3):
                self._registers[data[i] << 8 | data[i + 1]] = data[i + 2]
            return b""
        if code == 0x4A:
            return self._in_list_passive_target(data)
        if code == 0x16:  # PowerDown: status OK
            return b"\x00"
        # SAMConfiguration, SetSerialBaudrate, SetParameters, RFConfiguration: no data.
        return b""

    def _register(self, address: int) -> int:
        if address == _CIU_FIFO_DATA and self.card is None:
            return _SENS_REQ
        return self._registers.get(address, 0)

    def _in_list_passive_target(self, data: bytes) -> bytes:
        card = self.card
        with self.polled:
            self.polls += 1
            self.polled.notify_all()
        if card is None or data[1] != 0:  # only 106 kbps type A cards are emulated
            return b"\x00"
        sens_res, sel_res = _CARD_TYPES[len(card)]
        self.card_read_at = self.card_read_at or time.perf_counter()
        return b"\x01\x01" + sens_res + bytes([sel_res, len(card)]) + card

    def _send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # the host closed the port meanwhile
            os.write(self._master, data)


class DevLink:
    """``/dev/<name>`` pointing at an emulated reader's pty, as udev links a USB adapter.

    nfcpy looks for tty ports by listing /dev, so a pty is reachable as
    ``tty:<name>:pn532`` only through such a link. ``point_to`` moves it to
    another pty (the reader plugged in again), ``remove`` takes it away.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = Path("/dev") / name

    @property
    def nfc_path(self) -> str:
        return f"tty:{self.name}:pn532"

    def point_to(self, port: str) -> None:
        tmp = self.path.with_name(f".{self.name}.new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(port)
        os.replace(tmp, self.path)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@contextlib.contextmanager
def dev_link(name: str) -> Iterator[DevLink]:
    link = DevLink(name)
    try:
        yield link
    finally:
        link.remove()
