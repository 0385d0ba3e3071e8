"""A USB barcode/QR scanner: keyboard mode (evdev) or serial mode (pyserial).

Either way, each scanned line is handed to a callback as bytes, never more than
``MAX_LINE`` + 1 of them (a longer burst is cut so it is refused as too long,
not held in memory); what the line means is ``firmware.passculture.codes``'s
business. The callback runs on the scanner's thread: the gate's loop passes a
function that puts the line on its queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_LINE = 256


@dataclass(frozen=True)
class ScannedLine:
    data: bytes  # the line without its end, at most MAX_LINE + 1 bytes
    source: str  # the device it came from
    cut: bool  # the scanner sent more than MAX_LINE before the end of the line


OnLine = Callable[[ScannedLine], None]


class LineBuffer:
    """Bytes in, lines out: ends at CR or LF, empty lines dropped, long ones cut."""

    def __init__(self, source: str, on_line: OnLine) -> None:
        self.source, self.on_line = source, on_line
        self._buf = bytearray()
        self._cut = False

    def feed(self, data: bytes) -> None:
        for byte in data:
            if byte in (0x0A, 0x0D):
                self.end()
            elif len(self._buf) <= MAX_LINE:
                self._buf.append(byte)
            else:
                self._cut = True

    def end(self) -> None:
        if self._buf:
            self.on_line(ScannedLine(bytes(self._buf), self.source, self._cut))
        self._buf.clear()
        self._cut = False
