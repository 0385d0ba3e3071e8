"""What the gate tells the screen: small read-only snapshots.

The gate's modules build these on the reactor's thread and hand them to
``Views.publish``, whose listeners (the screen) only read them. Nothing here refers to the journal,
the store or a device, so the screen cannot reach them through a view.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


class Views:
    """Where views go: every listener (the screen, tests) hears each one; each returns at once."""

    def __init__(self) -> None:
        self.on_view: list[Callable[[object], None]] = []

    def publish(self, view: object) -> None:
        for listener in self.on_view:
            listener(view)


@dataclass(frozen=True)
class Outcome:
    """What became of one credential: admitted (and for how many people) or refused."""

    admitted: bool
    reason: str  # a decision Reason code; the screen turns it into words
    credential_kind: str
    credential: str
    pass_number: str | None = None
    valid_until: date | None = None
    renewal_hint: bool = False
    renewal_possible: bool = False
    persons: int = 0  # people let through: 1 + children when admitted, 0 when refused
    stored: bool = True  # False: the journal could not record it, so the gate stayed shut
    operator: str | None = None


@dataclass(frozen=True)
class ChildrenPrompt:
    """An admission waits for the number of accompanying children (0 to ``allowance``)."""

    ticket: int
    allowance: int
    children: int
    deadline: float  # monotonic time at which the number shown is confirmed
    outcome: Outcome
    timeout_s: float = 15.0  # the whole time the prompt waits, for its countdown


@dataclass(frozen=True)
class StaffRoster:
    """The staff who may log in here, and how long the PIN pad stays locked."""

    names: tuple[str, ...]
    locked_for_s: float = 0.0


@dataclass(frozen=True)
class StaffSession:
    """Who is logged in (``name`` None: nobody) and which functions their role allows."""

    name: str | None = None
    role: str | None = None
    functions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LoginRefused:
    """A login failed; ``locked_for_s`` > 0 while the PIN pad is locked."""

    name: str
    locked_for_s: float


@dataclass(frozen=True)
class AccessCodeRefused:
    """An access code opened nothing; ``reason`` is stable, ``locked_for_s`` > 0 while locked."""

    reason: str  # an AccessCodeError code, "locked" or "no_office_key"
    locked_for_s: float


@dataclass(frozen=True)
class PassInfo:
    """What the gate knows about one pass, for the "no action possible" page."""

    credential_kind: str
    credential: str
    found: bool
    pass_number: str | None = None
    id_number: str | None = None
    pass_type: str | None = None
    persons: int = 0
    children: int = 0
    state: str | None = None  # a PassState value
    activated_on: date | None = None
    valid_until: date | None = None
    renewal_possible: bool = False
    expired: bool = False
    last_entry_wall: float | None = None  # the pass's last admission at this gate


@dataclass(frozen=True)
class SyncStatus:
    """What the sync service knows; None until it has reported (no sync yet)."""

    broker_connected: bool | None = None
    backlog: int | None = None  # journal records the hub has not acknowledged
    last_ack_seq: int | None = None
    last_ack_wall: float | None = None


@dataclass(frozen=True)
class StatusView:
    """Whether the gate's data is current and its devices work, for staff.

    Made from the gate's one health snapshot by ``from_health``; every key
    of the snapshot lands in a field here.
    """

    wall: float  # when this snapshot was taken
    list_version: int
    list_issued_at: float | None  # when the hub signed the list in force; None: no list
    list_freshness: str  # fresh, stale (past its signed expiry) or expired (refusing)
    journal_last_seq: int
    journal_ok: bool
    reader_up: bool | None
    reader_detail: str
    time_trusted: bool
    sync: SyncStatus = field(default_factory=SyncStatus)
    list_expires_at: float | None = None
    list_refusals: int = 0  # list files refused since the start, every check together
    journal_detail: str = ""
    clock_trusted: bool = True
    display_up: bool | None = None
    display_detail: str = ""
    taps: int = 0
    admitted: int = 0
    refused: int = 0
    unexpected_passages: int = 0
    display_failures: int = 0
    reader_reconnects: int = 0
    software_version: str = ""
    # The office's release notice (firmware/gate/release.py): None until one arrived.
    release_version: str | None = None
    release_date: str | None = None
    release_notes: str | None = None
    update_available: bool = False

    @classmethod
    def from_health(cls, health: Mapping[str, Any], wall: float) -> StatusView:
        """The view of ``health`` (``firmware/gate/snapshot.py``) at ``wall``."""
        return cls(
            wall=wall,
            list_version=health["list_version"],
            list_issued_at=health["list_issued_at"] if health["list_version"] else None,
            list_freshness=health["list_freshness"],
            list_expires_at=health["list_expires_at"],
            list_refusals=sum(health["list_refusals"].values()),
            journal_last_seq=health["journal_last_seq"],
            journal_ok=health["journal_ok"],
            journal_detail=health["journal_detail"],
            reader_up=health["reader_up"],
            reader_detail=health["reader_detail"],
            time_trusted=health["time_trusted"],
            clock_trusted=health["clock_trusted"],
            display_up=health["display_up"],
            display_detail=health["display_detail"],
            taps=health["taps"],
            admitted=health["admitted"],
            refused=sum(health["refusals"].values()),
            unexpected_passages=health["unexpected_passages"],
            display_failures=health["display_failures"],
            reader_reconnects=health["reader_reconnects"],
            software_version=health["software_version"],
            release_version=health["release_version"],
            release_date=health["release_date"],
            release_notes=health["release_notes"],
            update_available=health["update_available"],
            sync=SyncStatus(
                broker_connected=health["broker_connected"],
                backlog=health["backlog"],
                last_ack_seq=health["last_ack_seq"],
                last_ack_wall=health["last_ack_at"],
            ),
        )

    @property
    def list_age_s(self) -> float | None:
        return None if self.list_issued_at is None else max(0.0, self.wall - self.list_issued_at)

    @property
    def stale(self) -> bool:
        """No list, or one past its signed expiry: decisions may be wrong."""
        return self.list_issued_at is None or self.list_freshness != "fresh"
