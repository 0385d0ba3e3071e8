"""The hub's passculture.toml: API keys stay private, mistakes are named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.passculture.settings import SettingsError, load

GOOD = 'deadline_s = 1.5\n\n[museum.LOUVRE]\napi_key = "k-123"\nvenues = [4242, 4243]\n'


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "passculture.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_good_file_maps_museum_to_key_and_venues(tmp_path: Path) -> None:
    settings = load(write(tmp_path, GOOD))
    account = settings.museums["LOUVRE"]
    assert account.venues == {4242, 4243} and account.api_key == "k-123"
    assert "k-123" not in repr(account)  # never in a log line


def test_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="chmod 600"):
        load(write(tmp_path, GOOD, 0o644))


@pytest.mark.parametrize(("text", "named"), [
    (GOOD.replace("venues", "venue"), "'venue'"),
    ('[museum.LOUVRE]\napi_key = "k"\nvenues = []\n', "venues"),
    ('[museum.LOUVRE]\napi_key = "k"\nvenues = ["4242"]\n', "venues"),
    ('[museum.LOUVRE]\napi_key = "k"\nvenues = [true]\n', "venues"),
    ('[museum.LOUVRE]\napi_key = "a key"\nvenues = [1]\n', "api_key"),
    ('deadline_s = 60\n', "deadline_s"),
    ('base_url = "ftp://x"\n', "base_url"),
    ('timeout = 3\n', "'timeout'"),
    ('[museum.LOUVRE\n', "TOML"),
])  # fmt: skip
def test_mistakes_are_refused_naming_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named) as caught:
        load(write(tmp_path, text))
    assert "passculture.toml" in str(caught.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such file"):
        load(tmp_path / "passculture.toml")
