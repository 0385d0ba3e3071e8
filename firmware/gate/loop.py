"""The gate's event loop: the one owner of the gate's state.

Other threads (the reader, GPIO callbacks, signal handlers, the screen, the
MQTT client) only ``post`` events. The loop takes them one at a time, runs
its timers by the injected monotonic clock, and is the only code that
touches the journal, the pass store and the outputs. It tells the screen
what happened through ``on_view`` listeners (``firmware/gate/views.py``).
See ``docs/architecture.md`` for how a tap flows through it, including the
children prompt.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from firmware import status as status_file
from firmware.clock import FlooredClock, Now
from firmware.events import (
    CardTapped,
    ChildrenChanged,
    ChildrenConfirmed,
    DisplayFailed,
    DisplayStarted,
    ListReceived,
    PersonPassed,
    ReaderHealth,
    Shutdown,
)
from firmware.gate.decision import Credential, Decision, History, Moment, Reason, Rules, decide
from firmware.gate.hardware import GateHardware
from firmware.gate.passes import PassRecord
from firmware.gate.views import ChildrenPrompt, Outcome, SyncStatus
from firmware.journal.database import StorageError
from firmware.journal.journal import Entry, Journal, PassChange
from firmware.lists.verify import ListRejected
from firmware.store.store import PassStore
from firmware.sync.link import SYNC_EVENTS, SyncLink

log = logging.getLogger("portique.gate")

REFUSAL_SIGNAL_S = 2.0
BEEP_S = 0.3
FLOOR_HEARTBEAT_S = 300.0


@dataclass
class GateStatus:
    """What the gate reports about itself (logs now; status and the hub later)."""

    reader_up: bool | None = None  # None until the reader first reports
    reader_detail: str = "not started"
    journal_ok: bool = True
    journal_detail: str = ""
    time_trusted: bool = True
    taps: int = 0
    admitted: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    unexpected_passages: int = 0
    reader_reconnects: int = 0  # times the reader came back after being lost
    display_up: bool | None = None  # None: no screen configured or not reported yet
    display_detail: str = "not started"
    display_failures: int = 0
    sync: SyncStatus = field(default_factory=SyncStatus)  # the sync service fills this in


@dataclass
class _Claim:
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
class _Pending:
    """An admission decided at the tap, waiting for the number of children.

    Nothing is journaled and nothing moves until it is settled: by the
    visitor's confirmation, the prompt's timeout, the next tap, or the screen
    failing. Then one record with the children count is committed, and only
    then the relay opens for 1 + children people.
    """

    ticket: int
    claim: _Claim
    deadline: float = 0.0


@dataclass
class _Passage:
    """A grant waiting for people to walk through."""

    seq: int
    expected: int
    passed: int = 0


class GateLoop:
    def __init__(
        self,
        *,
        museum: str,
        gate: str,
        zone: ZoneInfo,
        rules: Rules,
        clock: FlooredClock,
        journal: Journal,
        store: PassStore,
        hardware: GateHardware,
        relay_pulse_s: float,
        passage_timeout_s: float | None,
        list_refuse_after_s: float = 7 * 86400,
        children_prompt_s: float = 15.0,
    ) -> None:
        self.museum, self.gate, self.zone, self.rules = museum, gate, zone, rules
        self.clock, self.journal, self.store, self.hardware = clock, journal, store, hardware
        self.relay_pulse_s = relay_pulse_s
        self.passage_timeout_s = passage_timeout_s
        self.list_refuse_after_s = list_refuse_after_s
        self.children_prompt_s = children_prompt_s
        self.status = GateStatus()
        # SimpleQueue's put is reentrant: the SIGTERM handler posts Shutdown while
        # the main thread may be inside get(); a Queue's lock would deadlock there.
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_ids = itertools.count()
        self._relay_off_at = 0.0
        self._passages: list[_Passage] = []
        self._running = False
        self._pending: _Pending | None = None
        self._tickets = itertools.count(1)
        self._reported_health: tuple[object, ...] | None = None
        self._handlers: dict[type, Callable[[Any], None]] = {
            ChildrenChanged: self._on_children_changed,
            ChildrenConfirmed: self._on_children_confirmed,
            DisplayStarted: self._on_display_started,
            DisplayFailed: self._on_display_failed,
        }
        # Listeners (the screen, tests, the benchmark) hear every decision.
        self.on_decision: list[Callable[[Decision, int], None]] = []
        # Listeners (the screen) receive read-only views; each must return at once.
        self.on_view: list[Callable[[object], None]] = []
        self.sync: SyncLink | None = None
        # Called with the health snapshot every few seconds and at the stop (status.py).
        self.on_status: Callable[[dict[str, object]], None] | None = None
        # Called with every complete list file from the hub (see ListReceived).
        self.on_list_received: Callable[[bytes], object] = self.apply_list

    def attach_sync(self, link: SyncLink) -> None:
        self.sync = link
        self._refresh_sync_status()

    # -- called from any thread ------------------------------------------

    def post(self, event: object) -> None:
        self._queue.put(event)

    # -- called on the loop's thread -----------------------------------------

    def register(self, event_type: type, handler: Callable[[Any], None]) -> None:
        """Have ``handler`` run on the loop for every event of ``event_type``."""
        self._handlers[event_type] = handler

    def publish(self, view: object) -> None:
        """Hand ``view`` to every view listener (the screen)."""
        for listener in self.on_view:
            listener(view)

    # -- the loop ----------------------------------------------------------

    def run(self) -> None:
        """Handle events until a Shutdown arrives; always leave outputs safe."""
        self._running = True
        self.schedule(FLOOR_HEARTBEAT_S, self._heartbeat)
        self.schedule(0, self._status_tick)
        if self.sync is not None:
            self.sync.start()
        try:
            while self._running:
                self.run_due_timers()
                try:
                    event = self._queue.get(timeout=self._wait_time())
                except queue.Empty:
                    continue
                self._handle_safely(event)
        finally:
            self._stop()

    def _handle_safely(self, event: object) -> None:
        # One bad event must not stop the gate. Anything that fails before the
        # journal commit leaves no trace and moves nothing; the log has the detail.
        try:
            self.handle(event)
        except Exception:
            log.exception("loop: handling %r failed; the gate carries on", event)
        self._report_health_change()

    def _report_health_change(self) -> None:
        # Health changes (reader, display, journal, sync, clock, list) are written
        # at once: a monitor must not read "reader up" during an unplug.
        if status_file.health_key(self) != self._reported_health:
            self.report_status()

    def handle(self, event: object) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        elif isinstance(event, CardTapped):
            self._on_tap(event)
        elif isinstance(event, PersonPassed):
            self._on_passage(event)
        elif isinstance(event, ReaderHealth):
            self._on_reader_health(event)
        elif isinstance(event, SYNC_EVENTS) and self.sync is not None:
            self.sync.handle(event)
            self._refresh_sync_status()
        elif isinstance(event, ListReceived):
            log.info("list received, %d bytes (version %d)", len(event.data), event.version)
            if self.sync is not None:
                self.sync.note_list(event.version)
            self.on_list_received(event.data)
        elif isinstance(event, Shutdown):
            log.info("shutting down: %s", event.reason)
            self._drop_pending()
            self._running = False
        elif callable(event):
            event()  # work posted by another thread to run on the loop
        else:
            log.error("loop: unknown event %r ignored", event)

    def process_pending(self) -> int:
        """Handle every event already posted, without waiting; return how many."""
        count = 0
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return count
            self._handle_safely(event)
            count += 1

    def run_due_timers(self) -> None:
        now = self.clock.source.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, action = heapq.heappop(self._timers)
            action()

    # -- taps ------------------------------------------------------------

    def _on_tap(self, event: CardTapped) -> None:
        # Settled first, so the pending admission (and any activation it carries)
        # is in the journal before this tap is looked up: a pass tapped twice
        # meets anti-passback.
        self.settle_pending()
        serial = event.serial.hex().upper()
        record = self.store.lookup(serial) if len(event.serial) in (4, 7, 10) else None
        self.decide_and_act(Credential(kind="chip", value=serial), record)

    def decide_and_act(
        self, credential: Credential, record: PassRecord | None, operator: str | None = None
    ) -> int | None:
        """Decide for ``credential`` now with ``decide``, then journal and act on it."""
        now = self.clock.now()
        history = self.history(record.pass_number if record else None, now)
        decision = decide(credential, record, history, self.moment(now), self.rules)
        return self.admit_or_refuse(credential, decision, now, operator=operator)

    def admit_or_refuse(
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
        claim = _Claim(credential, decision, now, operator, detail)
        if decision.admit and decision.children_allowed > 0 and self.status.display_up:
            self._hold(claim)
            return None
        return self._commit(claim)

    def _commit(self, claim: _Claim) -> int | None:
        seq = self._record_decision(claim)
        decision = claim.decision
        if seq is not None:
            self.status.taps += 1
            if decision.admit:
                self._grant(seq, persons=1 + claim.children)
            else:
                self._refuse(decision)
            self._log_decision(claim, seq)
            for listener in self.on_decision:
                listener(decision, seq)
        self.publish(self._outcome(claim, stored=seq is not None))
        return seq

    def _outcome(self, claim: _Claim, stored: bool) -> Outcome:
        credential, decision = claim.credential, claim.decision
        record = decision.record
        valid_until = decision.valid_until
        if decision.reason is Reason.PAPER_PASS_WITHDRAWN:
            valid_until = self.rules.paper_pass_last_day  # the screen explains the cut-off
        typed = credential.value if credential.kind in ("number", "paper") else None
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

    # -- the children prompt ---------------------------------------------------

    def _hold(self, claim: _Claim) -> None:
        pending = _Pending(ticket=next(self._tickets), claim=claim)
        self._pending = pending
        log.info(
            "%s %s admitted (%s); asking for the number of children (prompt %d)",
            claim.credential.kind,
            claim.credential.value,
            claim.decision.reason.value,
            pending.ticket,
        )
        self._restart_prompt(pending)

    def _restart_prompt(self, pending: _Pending) -> None:
        # Every change restarts the timeout: a visitor still counting is not cut short.
        pending.deadline = self.clock.source.monotonic() + self.children_prompt_s
        self._schedule(self.children_prompt_s, lambda: self._prompt_timeout(pending.ticket))
        claim = pending.claim
        self.publish(
            ChildrenPrompt(
                pending.ticket,
                claim.decision.children_allowed,
                claim.children,
                pending.deadline,
                self._outcome(claim, stored=True),
                self.children_prompt_s,
            )
        )

    def _waiting(self, ticket: int) -> _Pending | None:
        pending = self._pending
        return pending if pending is not None and pending.ticket == ticket else None

    def _on_children_changed(self, event: ChildrenChanged) -> None:
        if (pending := self._waiting(event.ticket)) is not None:
            pending.claim.set_children(event.children)
            self._restart_prompt(pending)

    def _on_children_confirmed(self, event: ChildrenConfirmed) -> None:
        if (pending := self._waiting(event.ticket)) is not None:
            pending.claim.set_children(event.children)
            self.settle_pending()

    def _prompt_timeout(self, ticket: int) -> None:
        pending = self._waiting(ticket)
        if pending is not None and self.clock.source.monotonic() >= pending.deadline:
            log.info("prompt %d timed out: confirming %d children", ticket, pending.claim.children)
            self.settle_pending()

    def settle_pending(self) -> None:
        """Commit the admission waiting for its children count, with the number shown."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._commit(pending.claim)

    def _drop_pending(self) -> None:
        # Stopping: nothing was journaled and the relay never moved, so the
        # visitor simply taps again once the gate is back.
        if self._pending is not None:
            log.warning(
                "prompt %d dropped at shutdown: nothing recorded, the gate stayed shut",
                self._pending.ticket,
            )
            self._pending = None

    # -- the screen ----------------------------------------------------------

    def _on_display_started(self, event: DisplayStarted) -> None:
        log.info("display up: %s", event.detail)
        self.status.display_up, self.status.display_detail = True, event.detail

    def _on_display_failed(self, event: DisplayFailed) -> None:
        log.error(
            "display failed: %s; the gate admits without a screen "
            "(LEDs and buzzer, no children count)",
            event.detail,
        )
        self.status.display_up, self.status.display_detail = False, event.detail
        self.status.display_failures += 1
        self.settle_pending()

    def history(self, pass_number: str | None, now: Now) -> History:
        if pass_number is None:
            return History()
        return History(
            last_admitted_here=self.journal.last_admitted_wall(pass_number, self.gate),
            billed_today=self.journal.billed_on(pass_number, self.day(now)),
        )

    def _record_decision(self, claim: _Claim) -> int | None:
        credential, decision, now = claim.credential, claim.decision, claim.now
        record = decision.record
        entry = Entry(
            kind="decision",
            wall=now.wall,
            monotonic=now.monotonic,
            time_trusted=now.trusted,
            day=self.day(now),
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
            list_version=self.store.version,
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
        return self.append(entry, change)

    def append(self, entry: Entry, change: PassChange | None = None) -> int | None:
        """Journal ``entry``; its seq, or None when it could not be stored (logged, red LED)."""
        try:
            seq = self.journal.append(entry, change).seq
        except StorageError as exc:
            # Nothing durable, so nothing happens at the gate: no relay, red LED.
            log.error("%s; credential %s refused at the gate", exc, entry.credential)
            self.status.journal_ok, self.status.journal_detail = False, str(exc)
            self.hardware.signal_fault()
            return None
        if self.sync is not None:
            # After the tap is done: the next batch is read when the loop is free.
            self.post(self._pump_sync)
        if not self.status.journal_ok:
            log.info("journal %s is writable again", self.journal.path)
            self.status.journal_ok, self.status.journal_detail = True, ""
            self.hardware.clear_signals()
        self.status.time_trusted = entry.time_trusted
        return seq

    # -- outputs -----------------------------------------------------------

    def _grant(self, seq: int, persons: int) -> None:
        self.status.admitted += 1
        self.hardware.open_gate()
        mono = self.clock.source.monotonic()
        # A group gets one pulse length per person to walk through. A second grant
        # during a pulse extends it; the earlier timer then does nothing.
        open_s = self.relay_pulse_s * persons
        self._relay_off_at = max(self._relay_off_at, mono + open_s)
        self._schedule(open_s, self._release_relay)
        if self.passage_timeout_s is not None:
            self._passages.append(_Passage(seq=seq, expected=persons))
            self.schedule(self.passage_timeout_s, lambda: self._passage_timeout(seq))

    def _release_relay(self) -> None:
        if self.clock.source.monotonic() >= self._relay_off_at:
            self.hardware.close_gate()

    def _refuse(self, decision: Decision) -> None:
        reason = decision.reason.value
        self.status.refusals[reason] = self.status.refusals.get(reason, 0) + 1
        self.hardware.signal_refusal()
        self.schedule(BEEP_S, self.hardware.beep_off)
        self.schedule(REFUSAL_SIGNAL_S, self._end_refusal_signal)

    def _end_refusal_signal(self) -> None:
        if self.status.journal_ok:
            self.hardware.clear_signals()

    # -- passage sensor ----------------------------------------------------

    def _on_passage(self, event: PersonPassed) -> None:
        waiting = next((p for p in self._passages if p.passed < p.expected), None)
        if waiting is None:
            self.status.unexpected_passages += 1
            log.warning("passage sensor: someone walked through with no entry granted")
            return
        waiting.passed += 1

    def _passage_timeout(self, seq: int) -> None:
        passage = next((p for p in self._passages if p.seq == seq), None)
        if passage is None:
            return
        self._passages.remove(passage)
        if passage.passed:
            return
        now = self.clock.now()
        granted = self.journal.models.record.get_by_id(seq)
        entry = Entry(
            kind="not_passed", wall=now.wall, monotonic=now.monotonic, time_trusted=now.trusted,
            day=self.day(now), museum=self.museum, gate=self.gate,
            credential_kind=granted.credential_kind, credential=granted.credential,
            pass_number=granted.pass_number, admitted=False, reason="not_passed",
            list_version=self.store.version, refers_to=seq,
        )  # fmt: skip
        if (stored := self.append(entry)) is not None:
            log.info("entry %d: nobody walked through; recorded as %d not_passed", seq, stored)

    # -- reader ------------------------------------------------------------

    def _on_reader_health(self, event: ReaderHealth) -> None:
        # One line per change: a reader retried every second while unplugged stays quiet.
        if event.up != self.status.reader_up:
            (log.info if event.up else log.error)(
                "reader %s: %s", "up" if event.up else "down", event.detail
            )
            if event.up and self.status.reader_up is False:
                self.status.reader_reconnects += 1
        self.status.reader_up, self.status.reader_detail = event.up, event.detail

    # -- sync --------------------------------------------------------------

    def _pump_sync(self) -> None:
        if self.sync is not None:
            self.sync.pump()
            self._refresh_sync_status()

    def _refresh_sync_status(self) -> None:
        assert self.sync is not None
        outbox = self.sync.outbox
        self.status.sync = SyncStatus(
            broker_connected=self.sync.connected,
            backlog=outbox.backlog,
            last_ack_seq=outbox.acked_seq,
            last_ack_wall=outbox.acked_wall,
        )

    def sync_snapshot(self) -> dict[str, object]:
        """What the status message needs from the loop's own state."""
        return {
            "museum": self.museum,
            "gate": self.gate,
            "list_version": self.store.version,
            "list_issued_at": self.store.lists.issued_at or None,
            "list_freshness": self.list_freshness(self.clock.now().wall),
            "reader_up": self.status.reader_up,
            "reader_detail": self.status.reader_detail,
            "journal_ok": self.status.journal_ok,
            "time_trusted": self.status.time_trusted,
            "display_up": self.status.display_up,
            "counters": {key: getattr(self.status, key) for key, _, _ in status_file.COUNTERS},
        }

    # -- time --------------------------------------------------------------

    def moment(self, now: Now) -> Moment:
        return Moment(
            wall=now.wall,
            today=self.date(now),
            trusted=now.trusted,
            list_expired=self.list_freshness(now.wall) == "expired",
        )

    def list_freshness(self, wall: float) -> str:
        """``fresh``, ``stale`` (past its signed expiry: staff are warned) or ``expired``."""
        expires = self.store.lists.expires_at
        if not expires or wall <= expires:
            return "fresh"
        return "stale" if wall <= expires + self.list_refuse_after_s else "expired"

    # -- lists -------------------------------------------------------------

    def apply_list(self, data: bytes) -> bool:
        """Verify and apply a list file received from the hub; the old one stays if refused."""
        now = self.clock.now()
        try:
            header = self.store.lists.apply_bytes(data, now.wall)
        except ListRejected:
            return False  # logged and counted by the list manager
        self.clock.raise_floor(header.issued_at)
        return True

    def date(self, now: Now) -> date:
        """The museum-local day of ``now``."""
        return datetime.fromtimestamp(now.wall, self.zone).date()

    def day(self, now: Now) -> str:
        return self.date(now).isoformat()

    def _heartbeat(self) -> None:
        self.save_clock_floor()
        self.schedule(FLOOR_HEARTBEAT_S, self._heartbeat)

    def save_clock_floor(self) -> None:
        """Persist proof of the current time, so a reboot cannot fall far into the past."""
        try:
            self.journal.store_floor(self.clock.now().wall)
        except StorageError as exc:
            log.error("%s (clock floor not saved)", exc)

    # -- timers ------------------------------------------------------------

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` on the loop ``delay`` seconds from now (by the injected clock)."""
        self._schedule(delay, action)

    def _schedule(self, delay: float, action: Callable[[], None]) -> None:
        due = self.clock.source.monotonic() + delay
        heapq.heappush(self._timers, (due, next(self._timer_ids), action))

    def _wait_time(self) -> float:
        if not self._timers:
            return 1.0
        return min(1.0, max(0.0, self._timers[0][0] - self.clock.source.monotonic()))

    def _stop(self) -> None:
        self.hardware.safe()
        self.save_clock_floor()
        self.report_status(running=False)

    def _status_tick(self) -> None:
        self.report_status()
        self.schedule(status_file.INTERVAL_S, self._status_tick)

    def report_status(self, running: bool = True) -> None:
        """Hand the health snapshot to ``on_status`` (the status file, Prometheus)."""
        self._reported_health = status_file.health_key(self)
        if self.on_status is None:
            return
        try:
            self.on_status(status_file.snapshot(self, running))
        except OSError as exc:  # a full disk must not stop the gate
            log.error("status not written: %s", exc)

    def _log_decision(self, claim: _Claim, seq: int) -> None:
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
