"""The hub's pass Culture settings: each museum's venue API key and venue ids.

One TOML file on the hub (``<data>/passculture.toml``), never on a gate::

    base_url = "https://backend.passculture.app"   # optional
    deadline_s = 1.5                                # optional: answer a gate within this

    [museum.LOUVRE]
    api_key = "..."          # the key pass Culture issued for the venue(s)
    venues = [12345]         # the venue ids this museum validates for

The file holds secrets: it is refused when others than its owner may read it.
Unknown keys are refused with the file and the key named.
"""

from __future__ import annotations

import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.passculture.api import PRODUCTION_URL

FILE_NAME = "passculture.toml"
DEADLINE_S = 1.5


class SettingsError(Exception):
    """A settings problem, worded for the person who must fix the file."""


@dataclass(frozen=True)
class MuseumAccount:
    museum: str
    api_key: str = field(repr=False)
    venues: frozenset[int]


@dataclass(frozen=True)
class PassCultureSettings:
    museums: dict[str, MuseumAccount]
    base_url: str = PRODUCTION_URL
    deadline_s: float = DEADLINE_S


def load(path: Path) -> PassCultureSettings:
    """Read and check ``path``; raise SettingsError saying what is wrong and where."""
    try:
        mode = path.stat().st_mode
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such file") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(f"{path}: holds API keys but others may read it: chmod 600 {path}")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    return parse(data, str(path))


def parse(data: dict[str, Any], source: str) -> PassCultureSettings:
    _only(data, {"base_url", "deadline_s", "museum"}, source)
    base_url = data.get("base_url", PRODUCTION_URL)
    if not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
        raise SettingsError(f"{source}: base_url must be an http(s) URL, not {base_url!r}")
    deadline = data.get("deadline_s", DEADLINE_S)
    if not isinstance(deadline, int | float) or not 0.1 <= deadline <= 10:
        raise SettingsError(f"{source}: deadline_s must be between 0.1 and 10, not {deadline!r}")
    museums = data.get("museum", {})
    if not isinstance(museums, dict):
        raise SettingsError(f"{source}: [museum.NAME] sections expected")
    accounts = {name: _account(name, body, source) for name, body in museums.items()}
    return PassCultureSettings(accounts, base_url, float(deadline))


def _account(name: str, body: Any, source: str) -> MuseumAccount:
    where = f"{source}: [museum.{name}]"
    if not isinstance(body, dict):
        raise SettingsError(f"{where}: must be a section")
    _only(body, {"api_key", "venues"}, where)
    key = body.get("api_key")
    if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
        raise SettingsError(f"{where}: api_key must be the key pass Culture issued (no spaces)")
    venues = body.get("venues")
    if (
        not isinstance(venues, list)
        or not venues
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in venues)
    ):
        raise SettingsError(f"{where}: venues must be a list of pass Culture venue ids, "
                            f"e.g. [12345], not {venues!r}")  # fmt: skip
    return MuseumAccount(name, key, frozenset(venues))


def _only(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r} (allowed: "
                            f"{', '.join(sorted(allowed))})")  # fmt: skip
