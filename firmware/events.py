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


# -- sync: posted by the MQTT client thread (firmware/sync/client.py) ----------
#
# Messages from the hub arrive here already checked for form and signature;
# whether they are fresh (not replayed) is the loop's to decide, since it
# owns the journal where the last accepted ones are remembered.


@dataclass(frozen=True)
class SyncConnected:
    """The broker accepted the connection (and the subscriptions)."""


@dataclass(frozen=True)
class SyncDisconnected:
    """The broker went away (the client reconnects by itself), or the gate is stopping."""

    detail: str
    stopping: bool = False


@dataclass(frozen=True)
class AckReceived:
    """The hub stored records 1..seq; ``hash`` is record seq's hash as it stored it."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ResendRequested:
    """The hub asks for the records from ``from_seq`` again; ``n`` orders its commands."""

    from_seq: int
    n: int


@dataclass(frozen=True)
class DeltasReceived:
    """Pass changes made elsewhere, each with the hub's gap-free ``dseq``."""

    items: tuple[dict[str, object], ...]


@dataclass(frozen=True)
class BeaconReceived:
    """The hub's signed time: it is at least ``issued_at`` now."""

    issued_at: float


@dataclass(frozen=True)
class ListReceived:
    """A complete list file, reassembled and matching its signed manifest's SHA-256."""

    data: bytes
    version: int = 0
