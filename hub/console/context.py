"""What every page of the console reads: its settings, the request's context, its words.

Kept apart from ``app.py`` so the pages (``views.py``) and the application
that registers them import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import g

from hub.console import auth
from hub.console.models import ConsoleModels
from hub.publish import Broker

HERE = Path(__file__).parent


@dataclass(frozen=True)
class ConsoleSettings:
    data_dir: Path
    db_url: str
    broker: Broker = Broker()
    office_key: Path | None = None  # the office's access-code private key; none: no codes
    secure_cookies: bool = True  # off only for plain-HTTP tests and demonstrations
    refresh_s: int = 10  # how often the gates page reloads itself
    max_upload_bytes: int = 64 * 1024 * 1024
    allow_demo_keys: bool = False  # accept lists signed with the demonstration keys
    proxies: int = 0  # reverse proxies in front whose X-Forwarded-For/-Proto to trust


@dataclass
class Context:
    """What every request needs: the settings, the tables, the clock, the login throttle."""

    settings: ConsoleSettings
    cm: ConsoleModels
    now: Callable[[], float]
    throttle: auth.LoginThrottle


def context() -> Context:
    from flask import current_app

    return current_app.extensions["portique"]


_catalogues: dict[str, NullTranslations] = {}


def translations(lang: str) -> NullTranslations:
    if lang not in _catalogues:
        _catalogues[lang] = Translations.load(str(HERE / "locale"), [lang], domain="console")
    return _catalogues[lang]


def _(text: str) -> str:
    """``text`` in the language of the current request."""
    return g.translations.gettext(text)
