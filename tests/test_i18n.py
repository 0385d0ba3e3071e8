"""The catalogues: complete in French, German and English, compiled, current with the
code; dates and numbers in each language's own format."""

from __future__ import annotations

import gettext
import io
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from firmware.display.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, words

ROOT = Path(__file__).resolve().parents[1]
FIELD = re.compile(r"\{(\w+)\}")


def catalogue(language: str):  # noqa: ANN201 - a babel Catalog
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as handle:
        return read_po(handle)


def code_ids() -> set[str]:
    """The message ids Babel extracts from the screen's code now."""
    found = extract_from_dir(
        ROOT / "firmware" / "display",
        method_map=[("**.py", "python")],
        keywords={"_": None, "ngettext": (1, 2), "N_": None},
    )
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in found}  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_keeps_every_field(language: str) -> None:
    for message in catalogue(language):
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, message.id
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: {message.id!r} is not translated"
        fields = set(FIELD.findall(ids[0]))
        for text in strings:
            assert set(FIELD.findall(text)) == fields, f"{language}: {text!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_every_message_of_the_code(language: str) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue(language) if m.id}
    assert code_ids() == ids, "run `make i18n` and translate what is new"


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(language))
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    mo = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with open(mo, "rb") as handle:
        shipped = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    # The messages, not the header: the header names the Babel version that compiled it.
    del shipped[""], fresh[""]
    assert shipped == fresh, f"{mo} is older than its .po: run `make i18n`"


def test_dates_and_numbers_are_written_the_languages_way() -> None:
    day = date(2027, 6, 1)
    assert [words(lang).date(day) for lang in LANGUAGES] == [
        "1 juin 2027", "1. Juni 2027", "1 June 2027"]  # fmt: skip
    assert words("de").number(1234) == "1.234"
    assert words("en").number(1234) == "1,234"
    assert words("fr").number(1234).replace("\u202f", " ") == "1 234"
    assert words("de").duration(3 * 86400) == "3 Tage"


def test_plurals_follow_each_language() -> None:
    fr, de = words("fr"), words("de")
    assert fr.ngettext("{count} child", "{count} children", 1) == "1 enfant"
    assert fr.ngettext("{count} child", "{count} children", 0) == "0 enfant"  # French: 0 is one
    assert de.ngettext("{count} child", "{count} children", 0) == "0 Kinder"
