"""What a visitor types or a scanner reads, turned into a pass Culture counter-mark.

A counter-mark ("contremarque") is six characters from an alphabet without the
look-alikes 0, 1, 8, 9, I and O; input is case-insensitive. The app shows it as
a QR code whose payload is ``PASSCULTURE:v3;TOKEN:<code>``. Anything else is
refused with a stable reason code and a message saying what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALPHABET = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ234567")
LENGTH = 6
CODE = re.compile(r"^[A-HJ-NP-Z2-7]{6}$")
QR_PREFIX = "PASSCULTURE:"
QR_PATTERN = re.compile(r"^PASSCULTURE:v3;TOKEN:([^;]*)$")
# A scanner line longer than this is not a pass Culture QR (the longest real one is 27):
# a burst of keystrokes or a misread, refused before any parsing.
MAX_SCAN = 256


class CodeError(ValueError):
    """Input that is not a counter-mark; ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def normalise(text: str) -> str:
    """The counter-mark in ``text`` (any case, surrounding spaces ignored), upper-cased.

    Raises CodeError("bad_length") or CodeError("bad_character").
    """
    # Upper-case one character at a time: "ß".upper() is "SS", which must not pass.
    stripped = text.strip()
    for position, char in enumerate(stripped, start=1):
        if char.upper() not in ALPHABET:
            message = f"character {position} ({_show(char)}) is not in a pass Culture code"
            raise CodeError("bad_character", f"{message} (A-Z without I and O, digits 2-7)")
    if len(stripped) != LENGTH:
        raise CodeError("bad_length", f"a pass Culture code has {LENGTH} characters, "
                        f"not {len(stripped)}")  # fmt: skip
    return stripped.upper()


def accept_keystroke(typed: str, char: str) -> str | None:
    """The keypad's filter: ``typed`` plus ``char`` upper-cased, or None to refuse the key.

    A character outside the alphabet, or a seventh one, is refused as it is typed,
    so the field never holds something that cannot be a code.
    """
    upper = char.upper()
    if len(char) != 1 or upper not in ALPHABET or len(typed) >= LENGTH:
        return None
    return typed + upper


@dataclass(frozen=True)
class Scanned:
    """A scanner line recognised as a pass Culture counter-mark."""

    code: str
    from_qr: bool


def parse_scan(data: bytes | str) -> Scanned:
    """Classify one scanner line: a pass Culture QR, a bare code, or a refusal.

    Raises CodeError with ``too_long``, ``binary``, ``other_scheme``, ``bad_version``
    or the reasons of ``normalise``.
    """
    if len(data) > MAX_SCAN:
        raise CodeError("too_long", f"{len(data)} characters scanned: not a pass Culture code "
                        f"(at most {MAX_SCAN})")  # fmt: skip
    text = _text(data)
    if text.upper().startswith(QR_PREFIX):
        match = QR_PATTERN.match(text)
        if match is None:
            raise CodeError("bad_version", "a pass Culture QR code this gate does not read "
                            f"(expected {QR_PREFIX}v3;TOKEN:<code>)")  # fmt: skip
        return Scanned(normalise(match.group(1)), from_qr=True)
    if len(text.strip()) == LENGTH:
        return Scanned(normalise(text), from_qr=False)
    raise CodeError("other_scheme", "this code is not a pass Culture booking: "
                    "show the pass Culture QR code or type its 6 characters")  # fmt: skip


def _text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        try:
            data = data.decode("ascii")
        except UnicodeDecodeError:
            raise CodeError("binary", "the scanner sent binary data, not text") from None
    if any(not char.isprintable() for char in data.strip()):
        raise CodeError("binary", "the scanner sent control characters, not text")
    return data.strip()


def _show(char: str) -> str:
    return repr(char) if char.isprintable() else f"U+{ord(char):04X}"
