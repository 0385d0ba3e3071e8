"""Admissions: a credential is decided, journaled, and only then the gate acts.

The path of a tap (or a pass number typed by staff, a forced entry, a paper
pass), each step named for what it does:

    present  →  decide (pure)  →  carry_out  →  [hold for children]  →  commit
                                                                         ├ record (journal)
                                                                         └ outputs (relay / refusal)

``carry_out`` holds an admission whose pass allows children while a screen
is up: nothing is journaled and nothing moves until the children are
counted (confirmed, timed out, the next tap, a staff entry, the screen
failing). Then one record carries the count, and the relay opens for
1 + children people. See ``docs/architecture.md``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.clock import Now
from firmware.events import CardTapped, ChildrenChanged, ChildrenConfirmed, DisplayFailed, Shutdown
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
from firmware.gate.reactor import NEVER, Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.timekeeping import Timekeeper
from firmware.gate.views import ChildrenPrompt, Outcome, Views
from firmware.journal.journal import Entry, Journal, PassChange
from firmware.store.store import PassStore

log = logging.getLogger("portique.gate")


@dataclass
class Claim:
    """A decision on its way to the journal, with who asked and how many children."""

    credential: Credential
    decision: Decision
    now: Now  # when it was decided: the record keeps this time
    operator: str | None = None  # the staff member who made the entry
    detail: str | None = None  # a forced entry's reason code
    children: int = 0

    def set_children(self, count: int) -> None:
        self.children = max(0, min(count, self.decision.children_allowed))


@dataclass
class _Held:
    """An admission decided at the tap, waiting for the number of children."""

    ticket: int
    claim: Claim
    deadline: float = 0.0


class Admissions:
    """Owns the tap path and the children prompt; counts taps, admissions and refusals."""

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
        screen_up: Callable[[], bool],
        children_prompt_s: float,
        taps: bool = True,
    ) -> None:
        self._reactor = reactor
        self.museum, self.gate = where
        self.rules, self._time, self._lists, self._store = rules, time, lists, store
        self._journal, self._recorder, self._outputs = journal, recorder, outputs
        self._passages, self._views, self._screen_up = passages, views, screen_up
        self.children_prompt_s = children_prompt_s
        self._held: _Held | None = None
        self._tickets = itertools.count(1)
        self.taps = 0
        self.admitted = 0
        self.refusals: dict[str, int] = {}
        if taps:  # at a counter desk a tap is a look-up for the cashier (counter_desk.py)
            reactor.register(CardTapped, self._on_tap)
        reactor.register(ChildrenChanged, self._on_children_changed)
        reactor.register(ChildrenConfirmed, self._on_children_confirmed)
        # The screen is gone: nobody can count children any more.
        reactor.register(DisplayFailed, lambda _event, _t: self.settle_held())
        reactor.register(Shutdown, lambda _event, _t: self._drop_held())

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
        # Settled first, so the held admission (and any activation it carries)
        # is in the journal before this tap is looked up: a pass tapped twice
        # meets anti-passback.
        self.settle_held()
        serial = event.serial.hex().upper()
        valid = len(event.serial) in VALID_SERIAL_BYTES
        record = self._store.lookup(serial) if valid else None
        self.present(Credential(CredentialKind.CHIP, serial), record)

    def present(
        self, credential: Credential, record: PassRecord | None, operator: str | None = None
    ) -> int | None:
        """Decide for ``credential`` now with ``decide``, then carry the decision out."""
        now = self._time.now()
        history = self.history(record.pass_number if record else None, now)
        decision = decide(credential, record, history, self.moment(now), self.rules)
        return self.carry_out(credential, decision, now, operator=operator)

    def carry_out(
        self,
        credential: Credential,
        decision: Decision,
        now: Now,
        operator: str | None = None,
        detail: str | None = None,
    ) -> int | None:
        """Journal ``decision``, then act on it. Returns the record's seq, None if not stored.

        An admission whose pass allows children, while a screen is up, is held
        instead (nothing stored yet, None returned) until the children are counted.
        """
        claim = Claim(credential, decision, now, operator, detail)
        if decision.admit and decision.children_allowed > 0 and self._screen_up():
            self._hold(claim)
            return None
        return self._commit(claim)

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
        self._views.publish(self._outcome(claim, stored=seq is not None))
        return seq

    def _open(self, claim: Claim, seq: int) -> None:
        persons = 1 + claim.children
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
            persons=1 + claim.children if decision.admit and stored else 0,
            stored=stored,
            operator=claim.operator,
        )

    # -- the children prompt ---------------------------------------------------------

    def _hold(self, claim: Claim) -> None:
        held = _Held(ticket=next(self._tickets), claim=claim)
        self._held = held
        log.info(
            "%s %s admitted (%s); asking for the number of children (prompt %d)",
            claim.credential.kind,
            claim.credential.value,
            claim.decision.reason.value,
            held.ticket,
        )
        self._restart_prompt(held)

    def _restart_prompt(self, held: _Held) -> None:
        # Every change restarts the timeout: a visitor still counting is not cut short.
        held.deadline = self._reactor.monotonic() + self.children_prompt_s
        ticket = held.ticket
        self._reactor.schedule(self.children_prompt_s, lambda t: self._prompt_timeout(ticket, t))
        claim = held.claim
        self._views.publish(
            ChildrenPrompt(
                held.ticket,
                claim.decision.children_allowed,
                claim.children,
                held.deadline,
                self._outcome(claim, stored=True),
                self.children_prompt_s,
            )
        )

    def _waiting(self, ticket: int) -> _Held | None:
        held = self._held
        return held if held is not None and held.ticket == ticket else None

    def _on_children_changed(self, event: ChildrenChanged, _eventtime: float) -> None:
        if (held := self._waiting(event.ticket)) is not None:
            held.claim.set_children(event.children)
            self._restart_prompt(held)

    def _on_children_confirmed(self, event: ChildrenConfirmed, _eventtime: float) -> None:
        if (held := self._waiting(event.ticket)) is not None:
            held.claim.set_children(event.children)
            self.settle_held()

    def _prompt_timeout(self, ticket: int, eventtime: float) -> float | None:
        held = self._waiting(ticket)
        if held is not None and eventtime >= held.deadline:
            log.info("prompt %d timed out: confirming %d children", ticket, held.claim.children)
            self.settle_held()
        return NEVER

    def settle_held(self) -> None:
        """Commit the admission waiting for its children count, with the number shown."""
        held, self._held = self._held, None
        if held is not None:
            self._commit(held.claim)

    def _drop_held(self) -> None:
        # Stopping: nothing was journaled and the relay never moved, so the
        # visitor simply taps again once the gate is back.
        if self._held is not None:
            log.warning(
                "prompt %d dropped at shutdown: nothing recorded, the gate stayed shut",
                self._held.ticket,
            )
            self._held = None

    # -- status and log -------------------------------------------------------------------

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {"taps": self.taps, "admitted": self.admitted, "refusals": dict(self.refusals)}

    def _log(self, claim: Claim, seq: int) -> None:
        credential, decision = claim.credential, claim.decision
        record = decision.record
        log.info(
            "tap %s %s → %s (%s)%s%s%s%s%s [seq %d%s]",
            credential.kind,
            credential.value,
            "ADMIT" if decision.admit else "REFUSE",
            decision.reason.value,
            f" pass {record.pass_number}" if record else "",
            f" with {claim.children} children" if claim.children else "",
            f" valid until {decision.valid_until}" if decision.valid_until else "",
            ", renewal due" if decision.renewal_hint else "",
            f" by {claim.operator}" if claim.operator else "",
            seq,
            "" if claim.now.trusted else ", clock untrusted: floor used",
        )
