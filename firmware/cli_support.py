"""What every ``portique`` command module shares: exit codes and reading the settings.

Kept apart from ``cli.py`` so the command modules (``admin_cli.py``,
``lists/cli.py``) and the entry point that gathers them import it without
importing each other.
"""

from __future__ import annotations

import sys
from pathlib import Path

from firmware import config

EXIT_CONFIG = 2
EXIT_STORAGE = 1


def load_settings(path: Path) -> config.Settings | None:
    """The settings at ``path``, or None after saying on stderr what is wrong and where."""
    try:
        return config.load(path)
    except config.ConfigError as exc:
        print(f"portique: configuration error: {exc}", file=sys.stderr)
        return None
