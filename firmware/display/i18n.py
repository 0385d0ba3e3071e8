"""Words, dates and numbers in the visitor's language.

Every user-facing string is an English message id in the gettext catalogue
``portique`` (``locale/<lang>/LC_MESSAGES/portique.po``, compiled to ``.mo``,
extracted with Babel: ``make i18n``). Dates, numbers and durations are
formatted by Babel in the language's own way (1 juin 2027, 1. Juni 2027).
"""

from __future__ import annotations

import gettext
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, format_timedelta
from babel.numbers import format_decimal

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "portique"
LANGUAGES = ("fr", "de", "en")
# Babel locales: British English writes the day before the month, as the
# French and German visitors expect.
_LOCALES = {"fr": "fr_FR", "de": "de_DE", "en": "en_GB"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel extracts
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


class Words:
    """The catalogue and formats of one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = _LOCALES[language]
        self._catalogue = gettext.translation(DOMAIN, LOCALE_DIR, [language])

    def _(self, message: str, **values: object) -> str:
        """``message`` translated, with ``{name}`` fields filled from ``values``."""
        text = self._catalogue.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, count: int, **values: object) -> str:
        text = self._catalogue.ngettext(singular, plural, count)
        return text.format(count=self.number(count), **values)

    def date(self, day: date) -> str:
        return format_date(day, "long", locale=self.locale)

    def time(self, wall: float, zone: ZoneInfo) -> str:
        return format_time(datetime.fromtimestamp(wall, zone), "short", locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def duration(self, seconds: float) -> str:
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, locale=self.locale)


_cache: dict[str, Words] = {}


def words(language: str) -> Words:
    """The (shared, read-only) ``Words`` of ``language``."""
    if language not in _cache:
        _cache[language] = Words(language)
    return _cache[language]
