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
    """The screen is showing and taking touches."""

    detail: str


@dataclass(frozen=True)
class DisplayFailed:
    """The screen could not start or stopped: admit at once, with LEDs and buzzer only."""

    detail: str


@dataclass(frozen=True)
class ChildrenChosen:
    """The visitor chose, before tapping, how many children come along.

    The loop keeps the number for the next entry only, and forgets it after
    ``[display] children_prompt_timeout_s``: a later stranger never inherits it.
    """

    children: int


@dataclass(frozen=True)
class StaffDoor:
    """Someone opened the staff login: the loop answers whether accounts exist (never names)."""


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

    ``credential_kind`` is "chip" (the pass refused on screen), "number" (typed),
    "paper" (an old paper pass refused on screen) or "none" (no pass at hand).
    """

    reason: str
    credential_kind: str = "none"
    credential: str = ""
    children: int = 0


@dataclass(frozen=True)
class TypedPassNumber:
    """Staff typed a pass's printed number because its chip cannot be read."""

    number: str
    children: int = 0


@dataclass(frozen=True)
class PaperPass:
    """Staff record an old non-electronic pass by its number."""

    number: str
    children: int = 0


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


# -- the counter (firmware/gate/counter_desk.py): sales, renewals, the till --------


@dataclass(frozen=True)
class CounterLookup:
    """The cashier typed a pass number (``credential_kind`` "number") or asks again."""

    credential_kind: str  # "chip" or "number"
    credential: str


@dataclass(frozen=True)
class CounterSale:
    """Sell (``renewal`` False) or renew the pass with what the cashier chose.

    ``nonce`` is made when the confirmation is shown: a second tap on "validate"
    carries the same one and records nothing twice.
    """

    credential_kind: str
    credential: str
    renewal: bool
    tariff: str
    payment: str
    category: str | None = None
    category_confirmed: bool = False
    voucher_cents: int = 0
    immediate_entry: bool = False
    nonce: str = ""


@dataclass(frozen=True)
class CounterEntry:
    """Record an entry for the pass at the counter, with the children the cashier counted."""

    credential_kind: str
    credential: str
    children: int = 0


@dataclass(frozen=True)
class ReceiptReprint:
    """Print the receipt of journal record ``seq`` again (a duplicate)."""

    seq: int


@dataclass(frozen=True)
class TillRequest:
    """Where the till stands."""


@dataclass(frozen=True)
class TillOpen:
    float_cents: int


@dataclass(frozen=True)
class TillClose:
    counted_cents: int


@dataclass(frozen=True)
class PeriodClose:
    """Close the day (the Z report), the month or the year."""

    period: str


@dataclass(frozen=True)
class StatisticsRequest:
    period: str  # "day", "week" or "month"


@dataclass(frozen=True)
class OrderFormRequest:
    """The pass types that may be ordered."""


@dataclass(frozen=True)
class PassOrder:
    quantity: int
    pass_type: str


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


# -- pass Culture and Pass+ (firmware/gate/culture.py) ---------------------------


@dataclass(frozen=True)
class PassCultureCode:
    """A counter-mark typed on the keypad: by a visitor at the gate, or by staff at the desk.

    ``at_desk``: staff typed it (the logged-in member is the operator); only
    there may a code be queued while the hub is away (``[passculture] offline``).
    """

    text: str
    at_desk: bool = False


@dataclass(frozen=True)
class PassCultureUndo:
    """Staff at the desk cancel a mistaken validation (pass Culture's ``keep``)."""

    text: str


@dataclass(frozen=True)
class ScannerRead:
    """A line from the barcode/QR scanner (``firmware/scanner``), not yet understood."""

    data: bytes
    source: str
    cut: bool = False


@dataclass(frozen=True)
class PassCultureAnswered:
    """The hub's signed answer to a pass Culture question (signature already checked)."""

    body: dict[str, object]


@dataclass(frozen=True)
class PassPlusTicket:
    """Staff enter (or scan) a Pass+ ticket to pay ``price_cents`` of an entry or a sale."""

    number: str
    wallet: str  # as printed: culture or sport
    amount_cents: int
    generated_on: str  # the ticket's date, YYYY-MM-DD
    price_cents: int


@dataclass(frozen=True)
class PassPlusAnswered:
    """The hub's signed answer about a Pass+ ticket (signature already checked)."""

    body: dict[str, object]
