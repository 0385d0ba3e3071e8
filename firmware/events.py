"""Events that threads hand to the gate's loop.

The loop is the only owner of state; the reader thread, GPIO callbacks and
(later) the MQTT and display threads describe what happened with one of
these and post it. Device events carry the monotonic time at which they
happened. The screen's events say what a person asked for; the loop decides
whether it may happen (a staff member's role, a PIN lockout) and answers
with a view (``firmware/gate/views.py``).
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


# -- the screen ---------------------------------------------------------------


@dataclass(frozen=True)
class DisplayStarted:
    """The screen is showing and taking touches: admissions may wait for a children count."""

    detail: str


@dataclass(frozen=True)
class DisplayFailed:
    """The screen could not start or stopped: admit at once, with LEDs and buzzer only."""

    detail: str


@dataclass(frozen=True)
class ChildrenChanged:
    """The visitor changed the number of children on the prompt ``ticket``."""

    ticket: int
    children: int


@dataclass(frozen=True)
class ChildrenConfirmed:
    """The visitor confirmed the number of children on the prompt ``ticket``."""

    ticket: int
    children: int


@dataclass(frozen=True)
class StaffDoor:
    """Someone opened the staff login: the loop answers with the staff names."""


@dataclass(frozen=True)
class StaffLogin:
    name: str
    pin: str


@dataclass(frozen=True)
class AccessCodeEntered:
    """Someone typed an access code from the central office to open a staff session."""

    text: str


@dataclass(frozen=True)
class StaffLogout:
    """The staff member logged out (or left the staff screens)."""


@dataclass(frozen=True)
class StaffActive:
    """A touch in the staff screens: keeps the session from its idle logout."""


@dataclass(frozen=True)
class ForceEntry:
    """Staff force an entry; ``reason`` is a stable code from ``FORCE_REASONS``.

    ``credential_kind`` is "chip" (the pass last presented), "number" (typed)
    or "none" (no pass at hand).
    """

    reason: str
    credential_kind: str = "none"
    credential: str = ""


@dataclass(frozen=True)
class TypedPassNumber:
    """Staff typed a pass's printed number because its chip cannot be read."""

    number: str


@dataclass(frozen=True)
class PaperPass:
    """Staff record an old non-electronic pass by its number."""

    number: str


@dataclass(frozen=True)
class PassInfoRequest:
    """Staff ask what the gate knows about a pass ("no action possible")."""

    credential_kind: str  # "chip" or "number"
    credential: str


@dataclass(frozen=True)
class FiguresRequest:
    """Staff ask for today's figures."""


@dataclass(frozen=True)
class StatusRequest:
    """Staff ask for the gate's data and device status."""


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
    """The hub stored records 1..seq of journal ``epoch``; ``hash`` is record seq's hash."""

    seq: int
    hash: str
    epoch: str | None = None  # None: the hub did not say which journal


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
class ReleaseReceived:
    """The office's release notice, its signature checked: version, date and notes."""

    issued_at: float
    version: str
    date: str
    notes: str


@dataclass(frozen=True)
class ListReceived:
    """A complete list file, reassembled and matching its signed manifest's SHA-256."""

    data: bytes
    version: int = 0
