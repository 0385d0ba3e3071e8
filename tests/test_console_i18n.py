"""The console's catalogues: every word of its pages in French and German, compiled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).parent.parent
LOCALE = ROOT / "hub" / "console" / "locale"


def test_the_template_holds_every_word_of_the_console(tmp_path: Path) -> None:
    fresh = tmp_path / "console.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F",
                    str(ROOT / "hub/console/babel.cfg"), "--no-location", "-o", str(fresh),
                    "."], cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    with open(fresh, "rb") as new, open(LOCALE / "console.pot", "rb") as kept:
        assert {m.id for m in read_po(new)} == {m.id for m in read_po(kept)}, "run make i18n"


@pytest.mark.parametrize("lang", ["fr", "de"])
def test_every_message_is_translated_and_compiled(lang: str) -> None:
    with open(LOCALE / "console.pot", "rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with open(LOCALE / lang / "LC_MESSAGES" / "console.po", "rb") as handle:
        catalogue = read_po(handle)
    missing = [m.id for m in catalogue if m.id in wanted and not m.string]
    assert not missing and wanted <= {m.id for m in catalogue}, missing
    compiled = Translations.load(str(LOCALE), [lang], domain="console")
    assert all(compiled.gettext(m.id) == m.string for m in catalogue if m.id), "run make i18n"
