"""Reading a pass Culture counter-mark from a keypad or a scanner line."""

from __future__ import annotations

import pytest

from firmware.passculture.codes import (
    CodeError,
    Scanned,
    accept_keystroke,
    normalise,
    parse_scan,
)


def refusal(call, *args) -> str:  # noqa: ANN001
    with pytest.raises(CodeError) as caught:
        call(*args)
    assert str(caught.value)  # every refusal says why
    return caught.value.code


def test_code_is_case_insensitive_and_upper_cased() -> None:
    assert normalise(" ab3dk7 ") == "AB3DK7"


@pytest.mark.parametrize("look_alike", ["0", "1", "8", "9", "I", "O", "i", "o"])
def test_look_alike_characters_are_refused(look_alike: str) -> None:
    assert refusal(normalise, f"ABCDE{look_alike}") == "bad_character"


@pytest.mark.parametrize("text", ["ABCDE", "ABCDEFG", ""])
def test_wrong_length_is_refused(text: str) -> None:
    assert refusal(normalise, text) == "bad_length"


def test_sharp_s_does_not_upper_case_into_two_letters() -> None:
    assert refusal(normalise, "ABCDß") == "bad_character"


def test_fullwidth_letters_are_refused() -> None:
    assert refusal(normalise, "ＡBCDEF") == "bad_character"


def test_keypad_refuses_characters_outside_the_alphabet_as_typed() -> None:
    typed = ""
    for key in "a0b1cOdIe8f9":
        typed = accept_keystroke(typed, key) or typed
    assert typed == "ABCDEF"
    assert accept_keystroke(typed, "G") is None  # a seventh character
    assert accept_keystroke("", "ab") is None  # one key is one character
    assert accept_keystroke("", "-") is None


def test_pass_culture_qr_payload_gives_the_code() -> None:
    assert parse_scan(b"PASSCULTURE:v3;TOKEN:ab3dk7") == Scanned("AB3DK7", from_qr=True)


def test_bare_code_scanned_is_accepted() -> None:
    assert parse_scan("AB3DK7\r") == Scanned("AB3DK7", from_qr=False)


def test_qr_with_bad_token_is_refused_naming_the_character() -> None:
    with pytest.raises(CodeError, match="character 6"):
        parse_scan("PASSCULTURE:v3;TOKEN:AB3DK0")


def test_other_pass_culture_version_is_refused() -> None:
    assert refusal(parse_scan, "PASSCULTURE:v2;TOKEN:AB3DK7") == "bad_version"
    assert refusal(parse_scan, "PASSCULTURE:v3;TOKEN:AB3DK7;EXTRA:1") == "bad_version"


@pytest.mark.parametrize("payload", ["https://example.org/ticket/42", "3760001234567",
                                     "PASSPLUS:123456"])  # fmt: skip
def test_other_schemes_are_refused_with_a_clear_reason(payload: str) -> None:
    with pytest.raises(CodeError, match="not a pass Culture booking") as caught:
        parse_scan(payload)
    assert caught.value.code == "other_scheme"


def test_huge_scanner_burst_is_refused_before_parsing() -> None:
    assert refusal(parse_scan, b"A" * 100_000) == "too_long"


def test_binary_scanner_data_is_refused() -> None:
    assert refusal(parse_scan, b"\xff\xfe\x00\x01AB") == "binary"
    assert refusal(parse_scan, "AB\x00CDE") == "binary"
