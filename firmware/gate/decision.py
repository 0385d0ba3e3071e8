"""The admission decision: a pure function of what the gate knows.

credential + pass record + this pass's recent history + the moment + rules
→ a ``Decision`` with a stable reason code. Nothing here reads a clock, a
database or a device: the loop gathers the inputs, the journal stores the
code, the screen turns the code into words. Forced entry and paper passes
are separate small functions rather than flags on ``decide``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from firmware.gate.passes import PassRecord, PassState, add_months, last_valid_day
from firmware.protocol.serials import VALID_SERIAL_BYTES
from firmware.ranges import within

# An old paper pass, or a forced entry with no pass at hand, carries no pass type:
# the holder may bring up to 5 children, as with the Museums-PASS-Musées itself.
PAPER_PASS_CHILDREN = 5

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")


class Reason(StrEnum):
    # admitted
    OK = "ok"
    ACTIVATED = "activated"  # first entry of a sold pass: valid one year from today
    REENTRY = "reentry"  # already admitted at this museum today: admitted, not billable
    FORCED = "forced"  # staff forced the entry
    PAPER_PASS = "paper_pass"  # an old paper pass recorded by staff (before the cut-off)
    # refused
    INVALID_SERIAL = "invalid_serial"
    UNKNOWN_PASS = "unknown_pass"
    BLOCKED = "blocked"
    NOT_SOLD = "not_sold"
    EXPIRED = "expired"
    ALREADY_ENTERED = "already_entered"
    PAPER_PASS_WITHDRAWN = "paper_pass_withdrawn"
    LIST_EXPIRED = "list_expired"  # the gate's data is too old to trust: staff must decide


class ForceReason(StrEnum):
    """Why staff forced an entry; journaled as the record's ``detail``."""

    SALE_NOT_FINALISED = "sale_not_finalised"  # the seed's case: the sale did not complete
    CHIP_UNREADABLE = "chip_unreadable"  # and the pass number is not at hand
    LIST_NOT_CURRENT = "list_not_current"  # sold or renewed elsewhere, not in this list yet
    OTHER = "other"  # anything else; the desk keeps the details


class CredentialKind(StrEnum):
    """What a credential is; journaled as the record's ``credential_kind``.

    A new kind of credential starts here: its value, then how ``decide``
    (or a function beside it) treats it, then the event that presents it.
    """

    CHIP = "chip"  # a chip serial read by the NFC reader (hex)
    NUMBER = "number"  # a pass's printed number typed by staff
    PAPER = "paper"  # an old non-electronic pass recorded by staff
    NONE = "none"  # a forced entry with no pass at hand


# Kinds whose value is the pass number itself (the screen shows it as such).
TYPED_KINDS = frozenset({CredentialKind.NUMBER, CredentialKind.PAPER})


@dataclass(frozen=True)
class Credential:
    """What was presented: a chip serial (hex) or a pass number typed by staff."""

    kind: CredentialKind
    value: str

    def __post_init__(self) -> None:
        # Accepts the plain value ("chip"); anything else is a ValueError naming it.
        object.__setattr__(self, "kind", CredentialKind(self.kind))


@dataclass(frozen=True)
class Moment:
    """When the decision is made, as the floored clock tells it, in museum-local days."""

    wall: float
    today: date
    trusted: bool
    # The signed list's expiry is further past than the configured limit.
    list_expired: bool = False


@dataclass(frozen=True)
class History:
    """What the journal knows about this pass, gathered by the loop."""

    last_admitted_here: float | None = None  # wall time of the last admission at this gate
    billed_today: bool = False  # a billable entry at this museum today already exists


@dataclass(frozen=True)
class Rules:
    anti_passback_s: int = within(0, 86400, 120)
    renewal_window_months: int = within(0, 12, 3)
    paper_pass_last_day: date = date(2023, 3, 31)


@dataclass(frozen=True)
class Decision:
    admit: bool
    reason: Reason
    billable: bool = False
    record: PassRecord | None = None
    valid_until: date | None = None
    renewal_hint: bool = False  # admitted, but the pass ends within the renewal window
    renewal_possible: bool = False  # refused as expired: the desk can renew it
    children_allowed: int = 0
    activated_on: date | None = None  # set when this entry activates the pass
    holders: int = 1  # the pass type's persons: a duo pass lets both holders through


def _refuse(reason: Reason, record: PassRecord | None = None, **extra: object) -> Decision:
    return Decision(admit=False, reason=reason, record=record, **extra)  # type: ignore[arg-type]


def decide(
    credential: Credential,
    record: PassRecord | None,
    history: History,
    moment: Moment,
    rules: Rules,
) -> Decision:
    """Decide whether ``credential`` may enter now. Never raises for bad data."""
    if credential.kind is CredentialKind.CHIP and not _well_formed_serial(credential.value):
        return _refuse(Reason.INVALID_SERIAL)
    if moment.list_expired:
        return _refuse(Reason.LIST_EXPIRED, record)
    if record is None:
        return _refuse(Reason.UNKNOWN_PASS)
    if record.state is PassState.BLOCKED:
        return _refuse(Reason.BLOCKED, record)
    if record.state is PassState.STOCK:
        return _refuse(Reason.NOT_SOLD, record)

    activated_on, valid_until = record.activated_on, record.expires_on
    # A pass renewed before it ran out is "sold" again while its current year
    # still runs: it is used under that year, and the renewal starts at the
    # first entry after it, so the holder loses no day.
    still_running = valid_until is not None and moment.today <= valid_until
    activating = valid_until is None or (record.state is PassState.SOLD and not still_running)
    if activating:
        activated_on, valid_until = moment.today, last_valid_day(moment.today)
    elif moment.today > valid_until:
        return _refuse(Reason.EXPIRED, record, valid_until=valid_until, renewal_possible=True)

    if _within_anti_passback(history, moment, rules):
        return _refuse(Reason.ALREADY_ENTERED, record, valid_until=valid_until)

    reason = Reason.ACTIVATED if activating else Reason.OK
    if history.billed_today and not activating:
        reason = Reason.REENTRY
    return Decision(
        admit=True,
        reason=reason,
        billable=not history.billed_today,
        record=record,
        valid_until=valid_until,
        renewal_hint=record.state is PassState.ACTIVE
        and valid_until < add_months(moment.today, rules.renewal_window_months),
        children_allowed=record.pass_type.children,
        activated_on=activated_on if activating else None,
        holders=max(1, record.pass_type.persons),
    )


def decide_paper_pass(pass_number: str, moment: Moment, rules: Rules) -> Decision:
    """Staff record an old non-electronic pass: accepted only through its last day."""
    if moment.today > rules.paper_pass_last_day:
        return _refuse(Reason.PAPER_PASS_WITHDRAWN)
    return Decision(
        admit=True, reason=Reason.PAPER_PASS, billable=True, children_allowed=PAPER_PASS_CHILDREN
    )


def decide_forced(record: PassRecord | None, history: History) -> Decision:
    """Staff force an entry (a sale not finalised correctly): always admitted."""
    return Decision(
        admit=True,
        reason=Reason.FORCED,
        billable=not history.billed_today,
        record=record,
        valid_until=record.expires_on if record else None,
        children_allowed=record.pass_type.children if record else PAPER_PASS_CHILDREN,
        holders=max(1, record.pass_type.persons) if record else 1,
    )


def _well_formed_serial(value: str) -> bool:
    return _HEX.fullmatch(value) is not None and len(value) // 2 in VALID_SERIAL_BYTES


def _within_anti_passback(history: History, moment: Moment, rules: Rules) -> bool:
    last = history.last_admitted_here
    # Half-open: exactly anti_passback_s after the last entry is allowed again. An entry
    # "in the future" cannot happen with the floored clock; if it does, refuse rather
    # than let a pass through twice.
    return last is not None and moment.wall - last < rules.anti_passback_s
