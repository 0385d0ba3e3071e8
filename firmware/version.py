"""The software version this gate or hub runs, as the installed package says it.

Gates report it in their hello and status (the office's console shows it per
gate) and compare it with the office's release notice (``firmware/gate/release.py``).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.version import InvalidVersion, Version


def _installed() -> str:
    try:
        return version("portique")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


SOFTWARE_VERSION = _installed()


def newer(candidate: str, than: str) -> bool:
    """Whether version ``candidate`` is later than ``than`` (PEP 440); False if either is not
    a version, so a malformed string never claims an update."""
    try:
        return Version(candidate) > Version(than)
    except InvalidVersion:
        return False
