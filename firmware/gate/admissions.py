"""Admissions: a credential is decided, journaled, and only then the gate acts.

The path of a tap (or a pass number typed by staff, a forced entry, a paper
pass), each step named for what it does:

    present  →  decide (pure)  →  carry_out  →  commit ┬ record (journal)
                                                       └ outputs (relay / refusal)

Nothing waits between the decision and the relay: the number of children is
chosen on the idle screen *before* the tap (``ChildrenChosen``), kept for the
next entry only and forgotten after ``children_choice_s``, so a visitor with
no children is through with one tap and a later stranger never inherits a
family's number. A pass tapped again within the anti-passback window, by the
person the gate just admitted, is shown that admission again: the tap is
journaled as a harmless repeat (``already_entered``, not admitted) and the
relay stays shut (it already opened for them). See
``docs/architecture.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.clock import Now
from firmware.events import CardTapped, ChildrenChosen
from firmware.gate.decision import (
    TYPED_KINDS,
    VALID_SERIAL_BYTES,
    Credential,
    CredentialKind,
    Decision,
    History,
    Moment,
    Reason,
    Rules,
    decide,
)
from firmware.gate.listkeeper import ListKeeper
from firmware.gate.outputs import Outputs
from firmware.gate.passages import Grant, Passages
from firmware.gate.passes import PassRecord
from firmware.gate.reactor import Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.timekeeping import Timekeeper
from firmware.gate.views import Outcome, Views
from firmware.journal.journal import Entry, Journal, PassChange
from firmware.store.store import PassStore

log = logging.getLogger("portique.gate")

# The most children the idle screen offers; each pass type's own allowance caps it.
MAX_CHILDREN_CHOICE = 5


@dataclass
class Claim:
    """A decision on its way to the journal, with who asked and how many children."""

    credential: Credential
    decision: Decision
    now: Now  # when it was decided: the record keeps this time
    operator: str | None = None  # the staff member who made the entry
    detail: str | None = None  # a forced entry's reason code
    children: int = 0

    def __post_init__(self) -> None:
        self.children = max(0, min(self.children, self.decision.children_allowed))

    @property
    def persons(self) -> int:
        """Everyone the relay opens for: the pass's holders and the children with them."""
        return self.decision.holders + self.children


class Admissions:
    """Owns the tap path and the children chosen for it; counts taps, admissions, refusals."""

    def __init__(
        self,
        reactor: Reactor,
        *,
        where: tuple[str, str],
        rules: Rules,
        time: Timekeeper,
        lists: ListKeeper,
        store: PassStore,
        journal: Journal,
        recorder: Recorder,
        outputs: Outputs,
        passages: Passages,
        views: Views,
        children_choice_s: float,
        taps: bool = True,
    ) -> None:
        self._reactor = reactor
        self.museum, self.gate = where
        self.rules, self._time, self._lists, self._store = rules, time, lists, store
        self._journal, self._recorder, self._outputs = journal, recorder, outputs
        self._passages, self._views = passages, views
        self.children_choice_s = children_choice_s
        self._chosen = 0  # children chosen on the idle screen for the next entry
        self._chosen_until = 0.0  # monotonic: forgotten after this
        self.taps = 0
        self.admitted = 0
        self.refusals: dict[str, int] = {}
        # Told the outcome of every visitor's tap (the staff desk ends its screens then).
        self.after_tap: list[Callable[[Outcome], None]] = []
        self.last_outcome: Outcome | None = None
        if taps:  # at a counter desk a tap is a look-up for the cashier (counter_desk.py)
            reactor.register(CardTapped, self._on_tap)
        reactor.register(ChildrenChosen, self._on_children_chosen)

    # -- what the decision needs --------------------------------------------------

    def history(self, pass_number: str | None, now: Now) -> History:
        if pass_number is None:
            return History()
        return History(
            last_admitted_here=self._journal.last_admitted_wall(pass_number, self.gate),
            billed_today=self._journal.billed_on(pass_number, self._time.day(now)),
        )

    def moment(self, now: Now) -> Moment:
        return Moment(
            wall=now.wall,
            today=self._time.date(now),
            trusted=now.trusted,
            list_expired=self._lists.freshness(now.wall) == "expired",
        )

    # -- the path ------------------------------------------------------------------

    def _on_tap(self, event: CardTapped, _eventtime: float) -> None:
        serial = event.serial.hex().upper()
        valid = len(event.serial) in VALID_SERIAL_BYTES
        record = self._store.lookup(serial) if valid else None
        self.present(Credential(CredentialKind.CHIP, serial), record, children=self.take_chosen())
        if (outcome := self.last_outcome) is not None:
            for listener in self.after_tap:
                listener(outcome)

    def _publish(self, outcome: Outcome) -> None:
        self.last_outcome = outcome
        self._views.publish(outcome)

    def _on_children_chosen(self, event: ChildrenChosen, _eventtime: float) -> None:
        self._chosen = max(0, min(event.children, MAX_CHILDREN_CHOICE))
        self._chosen_until = self._reactor.monotonic() + self.children_choice_s

    def take_chosen(self) -> int:
        """The children chosen for this entry (0 once expired); the choice is used up."""
        chosen = self._chosen if self._reactor.monotonic() < self._chosen_until else 0
        self._chosen, self._chosen_until = 0, 0.0
        return chosen

    def present(
        self,
        credential: Credential,
        record: PassRecord | None,
        operator: str | None = None,
        children: int = 0,
    ) -> int | None:
        """Decide for ``credential`` now with ``decide``, then carry the decision out."""
        now = self._time.now()
        history = self.history(record.pass_number if record else None, now)
        decision = decide(credential, record, history, self.moment(now), self.rules)
        if decision.reason is Reason.ALREADY_ENTERED and record is not None:
            return self._show_again(Claim(credential, decision, now, operator), record)
        return self.carry_out(credential, decision, now, operator=operator, children=children)

    def _show_again(self, claim: Claim, record: PassRecord) -> int | None:
        """The pass was admitted here moments ago: show that admission again.

        The visitor who taps again because they did not see the gate open is not
        told "refused" (no red screen, LED or buzzer). The tap is journaled as the
        harmless repeat it is (``already_entered``, not admitted, not billable), so a
        pass handed back over the gate stays visible in the journal; the relay stays
        shut, so that pass opens nothing.
        """
        last = self._journal.last_admission(record.pass_number, self.gate)
        seq = self._recorder.record(*self._entry(claim))
        if seq is None or last is None:
            self._publish(self._outcome(claim, stored=seq is not None))
            return seq
        self.taps += 1
        reason = claim.decision.reason.value
        self.refusals[reason] = self.refusals.get(reason, 0) + 1
        log.info("tap %s %s → pass %s tapped again within the anti-passback window: "
                 "admission shown again, relay not moved [seq %d]", claim.credential.kind,
                 claim.credential.value, record.pass_number, seq)  # fmt: skip
        wall, persons = last
        self._publish(
            Outcome(
                admitted=True, reason=reason, credential_kind=claim.credential.kind,
                credential=claim.credential.value, pass_number=record.pass_number,
                valid_until=claim.decision.valid_until,
                persons=persons or record.pass_type.persons, repeat_of=wall,
            )
        )  # fmt: skip
        return seq

    def carry_out(
        self,
        credential: Credential,
        decision: Decision,
        now: Now,
        operator: str | None = None,
        detail: str | None = None,
        children: int = 0,
    ) -> int | None:
        """Journal ``decision`` (with ``children``, capped at the pass's allowance), then act.

        Returns the record's seq, None if it could not be stored.
        """
        return self._commit(Claim(credential, decision, now, operator, detail, children))

    def _commit(self, claim: Claim) -> int | None:
        """Record ``claim``; only once it is stored, open the gate or signal the refusal."""
        seq = self._recorder.record(*self._entry(claim))
        decision = claim.decision
        if seq is not None:
            self.taps += 1
            if decision.admit:
                self._open(claim, seq)
            else:
                self._signal_refusal(decision)
            self._log(claim, seq)
        self._publish(self._outcome(claim, stored=seq is not None))
        return seq

    def _open(self, claim: Claim, seq: int) -> None:
        persons = claim.persons
        self.admitted += 1
        self._outputs.open_for(persons)
        record = claim.decision.record
        self._passages.expect(
            Grant(seq, persons, claim.credential.kind, claim.credential.value,
                  record.pass_number if record else None)
        )  # fmt: skip

    def _signal_refusal(self, decision: Decision) -> None:
        reason = decision.reason.value
        self.refusals[reason] = self.refusals.get(reason, 0) + 1
        self._outputs.signal_refusal()

    def _entry(self, claim: Claim) -> tuple[Entry, PassChange | None]:
        """The journal record of ``claim``, and the activation it carries if any."""
        credential, decision, now = claim.credential, claim.decision, claim.now
        record = decision.record
        entry = Entry(
            kind="decision",
            wall=now.wall,
            monotonic=now.monotonic,
            time_trusted=now.trusted,
            day=self._time.day(now),
            museum=self.museum,
            gate=self.gate,
            credential_kind=credential.kind,
            credential=credential.value,
            pass_number=record.pass_number if record else None,
            admitted=decision.admit,
            reason=decision.reason.value,
            billable=decision.billable,
            children=claim.children,
            valid_until=decision.valid_until.isoformat() if decision.valid_until else None,
            list_version=self._store.version,
            operator=claim.operator,
            detail=claim.detail,
            persons=claim.persons if decision.admit else None,
        )
        change = None
        if record is not None and decision.activated_on is not None:
            change = PassChange(
                serial=record.serial,
                pass_number=record.pass_number,
                id_number=record.id_number,
                pass_type=record.pass_type.code,
                state="active",
                activated_on=decision.activated_on.isoformat(),
                expires_on=decision.valid_until.isoformat() if decision.valid_until else None,
            )
        return entry, change

    def _outcome(self, claim: Claim, stored: bool) -> Outcome:
        credential, decision = claim.credential, claim.decision
        record = decision.record
        valid_until = decision.valid_until
        if decision.reason is Reason.PAPER_PASS_WITHDRAWN:
            valid_until = self.rules.paper_pass_last_day  # the screen explains the cut-off
        typed = credential.value if credential.kind in TYPED_KINDS else None
        return Outcome(
            admitted=decision.admit and stored,
            reason=decision.reason.value,
            credential_kind=credential.kind,
            credential=credential.value,
            pass_number=record.pass_number if record else typed,
            valid_until=valid_until,
            renewal_hint=decision.renewal_hint,
            renewal_possible=decision.renewal_possible,
            persons=claim.persons if decision.admit and stored else 0,
            stored=stored,
            operator=claim.operator,
        )

    # -- status and log -------------------------------------------------------------------

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {"taps": self.taps, "admitted": self.admitted, "refusals": dict(self.refusals)}

    def _log(self, claim: Claim, seq: int) -> None:
        credential, decision = claim.credential, claim.decision
        record = decision.record
        log.info(
            "tap %s %s → %s (%s)%s%s%s%s%s%s [seq %d%s]",
            credential.kind,
            credential.value,
            "ADMIT" if decision.admit else "REFUSE",
            decision.reason.value,
            f" pass {record.pass_number}" if record else "",
            _with_children(claim.children),
            f" for {claim.persons} people" if decision.admit and claim.persons > 1 else "",
            f" valid until {decision.valid_until}" if decision.valid_until else "",
            ", renewal due" if decision.renewal_hint else "",
            f" by {claim.operator}" if claim.operator else "",
            seq,
            "" if claim.now.trusted else ", clock untrusted: floor used",
        )


def _with_children(children: int) -> str:
    """' with 1 child', ' with 2 children' or nothing: people read the log too."""
    if not children:
        return ""
    return f" with {children} {'child' if children == 1 else 'children'}"
