"""A setting's allowed values, declared beside the setting itself.

    poll_interval_ms: int = within(5, 1000, 50)
    language: str = one_of(("fr", "de", "en"), "fr")

``firmware/config.py`` reads them when it parses the TOML file and refuses a
value outside them, naming the file, the key and what is allowed.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any


def within(low: float, high: float, default: Any) -> Any:
    """A number from ``low`` to ``high`` inclusive; ``default`` when the key is absent."""
    return field(default=default, metadata={"range": (low, high)})


def one_of(choices: tuple[str, ...], default: Any) -> Any:
    """One of ``choices`` (no check when ``choices`` is empty); ``default`` when absent."""
    return field(default=default, metadata={"choices": tuple(choices)})
