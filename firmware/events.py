"""Events that threads hand to the gate's loop.

The loop is the only owner of state; the reader thread, GPIO callbacks and
(later) the MQTT and display threads describe what happened with one of
these and post it. Each carries the monotonic time at which it happened.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardTapped:
    """A card was presented to the reader (once per presentation)."""

    serial: bytes
    monotonic: float


@dataclass(frozen=True)
class ReaderHealth:
    """The reader came up, went away, or failed; ``detail`` says how, for logs and status."""

    up: bool
    detail: str
    monotonic: float


@dataclass(frozen=True)
class PersonPassed:
    """The passage sensor saw someone walk through."""

    monotonic: float


@dataclass(frozen=True)
class Shutdown:
    """Stop the loop: the safe state is restored and everything closed."""

    reason: str
