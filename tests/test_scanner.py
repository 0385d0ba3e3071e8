"""The barcode/QR scanner: keyboard mode decoded from python-evdev's own event objects,
serial mode end to end over a pty, and keyboard mode end to end through uinput where the
machine has it."""

from __future__ import annotations

import os
import queue
import tty
from collections.abc import Iterator

import pytest
from evdev import InputEvent, ecodes

from firmware.passculture.codes import CodeError, Scanned, parse_scan
from firmware.scanner import MAX_LINE, ScannedLine
from firmware.scanner.keymap import UNKNOWN, KeyDecoder
from firmware.scanner.serial_port import SerialScanner

QR = "PASSCULTURE:v3;TOKEN:ab3DK7"
WAIT_S = 10.0  # an upper bound, never a timing assertion
K = ecodes

# What each character is on each layout, written out by hand from the keyboards
# (not from the decoder's tables, so the test can disagree with them).
TYPED = {
    "us": {"P": ("S", K.KEY_P), "A": ("S", K.KEY_A), "S": ("S", K.KEY_S), "C": ("S", K.KEY_C),
           "U": ("S", K.KEY_U), "L": ("S", K.KEY_L), "T": ("S", K.KEY_T), "R": ("S", K.KEY_R),
           "E": ("S", K.KEY_E), ":": ("S", K.KEY_SEMICOLON), "v": ("", K.KEY_V),
           "3": ("", K.KEY_3), ";": ("", K.KEY_SEMICOLON), "O": ("S", K.KEY_O),
           "K": ("S", K.KEY_K), "N": ("S", K.KEY_N), "a": ("", K.KEY_A), "b": ("", K.KEY_B),
           "D": ("S", K.KEY_D), "7": ("", K.KEY_7)},
    "fr": {"P": ("S", K.KEY_P), "A": ("S", K.KEY_Q), "S": ("S", K.KEY_S), "C": ("S", K.KEY_C),
           "U": ("S", K.KEY_U), "L": ("S", K.KEY_L), "T": ("S", K.KEY_T), "R": ("S", K.KEY_R),
           "E": ("S", K.KEY_E), ":": ("", K.KEY_DOT), "v": ("", K.KEY_V),
           "3": ("S", K.KEY_3), ";": ("", K.KEY_COMMA), "O": ("S", K.KEY_O),
           "K": ("S", K.KEY_K), "N": ("S", K.KEY_N), "a": ("", K.KEY_Q), "b": ("", K.KEY_B),
           "D": ("S", K.KEY_D), "7": ("S", K.KEY_7)},
}  # fmt: skip


def key(code: int, value: int, t: int = 0) -> InputEvent:
    return InputEvent(1_780_000_000, t, ecodes.EV_KEY, code, value)


def events_for(text: str, layout: str) -> list[InputEvent]:
    out = []
    for ch in text:
        shift, code = TYPED[layout][ch]
        if shift:
            out.append(key(K.KEY_LEFTSHIFT, 1))
        out += [InputEvent(0, 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 458756), key(code, 1),
                InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0), key(code, 0)]  # fmt: skip
        if shift:
            out.append(key(K.KEY_LEFTSHIFT, 0))
    return out + [key(K.KEY_ENTER, 1), key(K.KEY_ENTER, 0)]


def decode(events: list[InputEvent], layout: str) -> list[str]:
    decoder = KeyDecoder(layout)
    return [line for e in events if (line := decoder.feed(e)) is not None]


@pytest.mark.parametrize("layout", ["us", "fr"])
def test_keyboard_mode_decodes_the_pass_culture_qr(layout: str) -> None:
    assert decode(events_for(QR, layout), layout) == [QR]
    assert parse_scan(QR) == Scanned("AB3DK7", from_qr=True)


def test_azerty_scan_read_with_the_us_layout_is_refused_not_misread() -> None:
    (line,) = decode(events_for(QR, "fr"), "us")
    assert line != QR
    with pytest.raises(CodeError):
        parse_scan(line)


def test_right_shift_and_key_repeat() -> None:
    shifted = [key(K.KEY_RIGHTSHIFT, 1), key(K.KEY_A, 1), key(K.KEY_A, 2), key(K.KEY_A, 0)]
    plain = [key(K.KEY_RIGHTSHIFT, 0), key(K.KEY_A, 1), key(K.KEY_A, 0), key(K.KEY_ENTER, 1)]
    events = shifted + plain
    assert decode(events, "us") == ["Aa"]


def test_keys_outside_the_layout_become_a_replacement_character() -> None:
    events = [key(K.KEY_F5, 1), key(K.KEY_A, 1), key(K.KEY_KPENTER, 1)]
    (line,) = decode(events, "us")
    assert line == UNKNOWN + "a"
    with pytest.raises(CodeError):
        parse_scan(line)


def test_endless_keyboard_burst_is_cut_and_flagged() -> None:
    decoder = KeyDecoder("us", max_line=MAX_LINE)
    for _ in range(10_000):
        assert decoder.feed(key(K.KEY_A, 1)) is None
    line = decoder.feed(key(K.KEY_ENTER, 1))
    assert line is not None and len(line) == MAX_LINE + 1 and decoder.cut


def test_unknown_layout_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="dvorak"):
        KeyDecoder("dvorak")


# -- serial mode, end to end over a pty -------------------------------------------------


@pytest.fixture
def serial_scanner() -> Iterator[tuple[int, queue.Queue[ScannedLine]]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    lines: queue.Queue[ScannedLine] = queue.Queue()
    scanner = SerialScanner(os.ttyname(slave), lines.put)
    scanner.start()
    yield master, lines
    scanner.stop()
    os.close(master)
    os.close(slave)


def test_serial_scanner_posts_the_qr_line(serial_scanner) -> None:  # noqa: ANN001
    master, lines = serial_scanner
    os.write(master, f"{QR}\r\n".encode())
    line = lines.get(timeout=WAIT_S)
    assert parse_scan(line.data) == Scanned("AB3DK7", from_qr=True)
    assert lines.empty()  # CR LF is one end of line, not an empty line after it


def test_serial_line_split_across_reads_is_one_line(serial_scanner) -> None:  # noqa: ANN001
    master, lines = serial_scanner
    os.write(master, b"PASSCULTURE:v3;")
    os.write(master, b"TOKEN:AB3DK7\n")
    assert lines.get(timeout=WAIT_S).data == b"PASSCULTURE:v3;TOKEN:AB3DK7"


def test_huge_serial_burst_is_cut_and_refused_then_next_scan_works(serial_scanner) -> None:  # noqa: ANN001
    master, lines = serial_scanner
    burst = b"X" * 100_000
    for start in range(0, len(burst), 4096):
        os.write(master, burst[start : start + 4096])
    os.write(master, b"\n" + QR.encode() + b"\n")
    big = lines.get(timeout=WAIT_S)
    assert big.cut and len(big.data) == MAX_LINE + 1
    with pytest.raises(CodeError) as caught:
        parse_scan(big.data)
    assert caught.value.code == "too_long"
    assert parse_scan(lines.get(timeout=WAIT_S).data).code == "AB3DK7"


def test_binary_serial_data_is_refused(serial_scanner) -> None:  # noqa: ANN001
    master, lines = serial_scanner
    os.write(master, b"\x00\xff\xfe\x80garbage\r")
    with pytest.raises(CodeError) as caught:
        parse_scan(lines.get(timeout=WAIT_S).data)
    assert caught.value.code == "binary"


def test_missing_serial_port_is_named() -> None:
    with pytest.raises(OSError, match="/dev/ttyNOPE"):
        SerialScanner("/dev/ttyNOPE", lambda _line: None).start()


# -- keyboard mode, end to end through the kernel (where /dev/uinput exists) -------------

HAS_UINPUT = os.path.exists("/dev/uinput") and os.access("/dev/uinput", os.W_OK)


NO_UINPUT = (
    "no /dev/uinput on this machine (uinput module not loaded): the keyboard "
    "decoding is tested with evdev's event objects"
)


@pytest.mark.skipif(not HAS_UINPUT, reason=NO_UINPUT)
def test_keyboard_scanner_reads_a_virtual_scanner_and_grabs_it() -> None:
    from evdev import InputDevice, UInput

    from firmware.scanner.keyboard import KeyboardScanner

    lines: queue.Queue[ScannedLine] = queue.Queue()
    with UInput(name="portique-test-scanner") as device:
        scanner = KeyboardScanner(device.device.path, "us", lines.put)
        scanner.start()
        try:
            with pytest.raises(OSError):  # grabbed: no one else gets its keys
                InputDevice(device.device.path).grab()
            for event in events_for(QR, "us"):
                device.write(event.type, event.code, event.value)
                device.syn()
            assert lines.get(timeout=WAIT_S).data == QR.encode()
        finally:
            scanner.stop()
