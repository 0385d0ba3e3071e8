"""Key events from a scanner in keyboard mode, back into the text it scanned.

A scanner in keyboard mode types what it reads as key presses of the layout it
was set up for: on a French AZERTY setup, "2" is Shift + the key labelled 2 and
"a" is the key where a US keyboard has Q. The decoder needs the same layout
(``[scanner] layout``). A key the layout does not know becomes U+FFFD, so the
line is refused rather than silently changed.
"""

from __future__ import annotations

from evdev import KeyEvent, categorize, ecodes
from evdev.events import InputEvent

UNKNOWN = "\ufffd"
SHIFTS = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
ENDS = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER}


def _letters(pairs: dict[str, int]) -> dict[int, tuple[str, str]]:
    return {code: (ch, ch.upper()) for ch, code in pairs.items()}


_QWERTY_LETTERS = {ch: getattr(ecodes, f"KEY_{ch.upper()}") for ch in "abcdefghijklmnopqrstuvwxyz"}

_DIGITS = "1234567890"
US: dict[int, tuple[str, str]] = {
    **_letters(_QWERTY_LETTERS),
    **{getattr(ecodes, f"KEY_{d}"): (d, s) for d, s in zip(_DIGITS, "!@#$%^&*()", strict=True)},
    ecodes.KEY_MINUS: ("-", "_"), ecodes.KEY_EQUAL: ("=", "+"), ecodes.KEY_SPACE: (" ", " "),
    ecodes.KEY_LEFTBRACE: ("[", "{"), ecodes.KEY_RIGHTBRACE: ("]", "}"),
    ecodes.KEY_SEMICOLON: (";", ":"), ecodes.KEY_APOSTROPHE: ("'", '"'),
    ecodes.KEY_GRAVE: ("`", "~"), ecodes.KEY_BACKSLASH: ("\\", "|"),
    ecodes.KEY_COMMA: (",", "<"), ecodes.KEY_DOT: (".", ">"), ecodes.KEY_SLASH: ("/", "?"),
}  # fmt: skip

# French AZERTY: A/Q and Z/W swapped, M where US has ';', digits need Shift.
_AZERTY_LETTERS = {**_QWERTY_LETTERS, "a": ecodes.KEY_Q, "q": ecodes.KEY_A, "z": ecodes.KEY_W,
                   "w": ecodes.KEY_Z, "m": ecodes.KEY_SEMICOLON}  # fmt: skip
FR: dict[int, tuple[str, str]] = {
    **{code: pair for code, pair in US.items() if code == ecodes.KEY_SPACE},
    **_letters(_AZERTY_LETTERS),
    **{getattr(ecodes, f"KEY_{d}"): (u, d)
       for d, u in zip("1234567890", "&é\"'(-è_çà", strict=True)},
    ecodes.KEY_MINUS: (")", "°"), ecodes.KEY_EQUAL: ("=", "+"),
    ecodes.KEY_M: (",", "?"), ecodes.KEY_COMMA: (";", "."), ecodes.KEY_DOT: (":", "/"),
    ecodes.KEY_SLASH: ("!", "§"), ecodes.KEY_APOSTROPHE: ("ù", "%"),
    ecodes.KEY_BACKSLASH: ("*", "µ"), ecodes.KEY_LEFTBRACE: ("^", "¨"),
    ecodes.KEY_RIGHTBRACE: ("$", "£"), ecodes.KEY_GRAVE: ("²", "²"),
}  # fmt: skip

LAYOUTS = {"us": US, "fr": FR}


class KeyDecoder:
    """Feed it evdev events; it returns each line when the scanner presses Enter."""

    def __init__(self, layout: str, max_line: int = 256) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown keyboard layout {layout!r} (known: {', '.join(LAYOUTS)})")
        self._keys = LAYOUTS[layout]
        self._max = max_line
        self._shift: set[int] = set()
        self._text: list[str] = []
        self.cut = False  # the last line returned was longer than max_line

    def feed(self, event: InputEvent) -> str | None:
        if event.type != ecodes.EV_KEY:
            return None
        key = categorize(event)
        assert isinstance(key, KeyEvent)
        code = key.scancode
        if code in SHIFTS:
            (self._shift.add if key.keystate != KeyEvent.key_up else self._shift.discard)(code)
            return None
        if key.keystate != KeyEvent.key_down:
            return None  # releases and auto-repeat type nothing
        if code in ENDS:
            line, self._text = "".join(self._text), []
            self.cut = len(line) > self._max
            return line
        if len(self._text) <= self._max:
            pair = self._keys.get(code)
            self._text.append(UNKNOWN if pair is None else pair[1 if self._shift else 0])
        return None
