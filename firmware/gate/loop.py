"""The gate's event loop: the one owner of the gate's state.

Other threads (the reader, GPIO callbacks, signal handlers, the MQTT
client; later the screen) only ``post`` events. The loop takes them one at a time, runs
its timers by the injected monotonic clock, and is the only code that
touches the journal, the pass store and the outputs. See
``docs/architecture.md`` for how a tap flows through it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from firmware.clock import FlooredClock, Now
from firmware.events import CardTapped, ListReceived, PersonPassed, ReaderHealth, Shutdown
from firmware.gate.decision import Credential, Decision, History, Moment, Rules, decide
from firmware.gate.hardware import GateHardware
from firmware.journal.database import StorageError
from firmware.journal.journal import Entry, Journal, PassChange
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
    # sync with the hub (stay at their defaults on a gate without [sync])
    broker_connected: bool = False
    sync_backlog: int = 0  # records the hub has not acknowledged yet
    last_ack_seq: int = 0
    last_ack_at: float | None = None


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
    ) -> None:
        self.museum, self.gate, self.zone, self.rules = museum, gate, zone, rules
        self.clock, self.journal, self.store, self.hardware = clock, journal, store, hardware
        self.relay_pulse_s = relay_pulse_s
        self.passage_timeout_s = passage_timeout_s
        self.status = GateStatus()
        self._queue: queue.Queue[object] = queue.Queue()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_ids = itertools.count()
        self._relay_off_at = 0.0
        self._passages: list[_Passage] = []
        self._running = False
        # Listeners (the screen, tests, the benchmark) hear every decision.
        self.on_decision: list[Callable[[Decision, int], None]] = []
        self.sync: SyncLink | None = None
        # Called with every complete list file from the hub (see ListReceived);
        # the list verifier replaces it.
        self.on_list_received: Callable[[bytes], None] = self._list_received

    def attach_sync(self, link: SyncLink) -> None:
        self.sync = link
        self._refresh_sync_status()

    # -- called from any thread ------------------------------------------

    def post(self, event: object) -> None:
        self._queue.put(event)

    # -- the loop ----------------------------------------------------------

    def run(self) -> None:
        """Handle events until a Shutdown arrives; always leave outputs safe."""
        self._running = True
        self.schedule(FLOOR_HEARTBEAT_S, self._heartbeat)
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

    def handle(self, event: object) -> None:
        if isinstance(event, CardTapped):
            self._on_tap(event)
        elif isinstance(event, PersonPassed):
            self._on_passage(event)
        elif isinstance(event, ReaderHealth):
            self._on_reader_health(event)
        elif isinstance(event, SYNC_EVENTS) and self.sync is not None:
            self.sync.handle(event)
            self._refresh_sync_status()
        elif isinstance(event, ListReceived):
            if self.sync is not None:
                self.sync.note_list(event.version)
            self.on_list_received(event.data)
        elif isinstance(event, Shutdown):
            log.info("shutting down: %s", event.reason)
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
        now = self.clock.now()
        serial = event.serial.hex().upper()
        credential = Credential(kind="chip", value=serial)
        record = self.store.lookup(serial) if len(event.serial) in (4, 7, 10) else None
        history = self._history(record.pass_number if record else None, now)
        decision = decide(credential, record, history, self._moment(now), self.rules)
        self.admit_or_refuse(credential, decision, now)

    def admit_or_refuse(self, credential: Credential, decision: Decision, now: Now) -> int | None:
        """Journal ``decision``, then act on it. Returns the record's seq, None if not stored."""
        seq = self._record_decision(credential, decision, now)
        if seq is None:
            return None
        self.status.taps += 1
        if decision.admit:
            self._grant(seq, persons=1)
        else:
            self._refuse(decision)
        self._log_decision(credential, decision, seq, now)
        for listener in self.on_decision:
            listener(decision, seq)
        return seq

    def _history(self, pass_number: str | None, now: Now) -> History:
        if pass_number is None:
            return History()
        return History(
            last_admitted_here=self.journal.last_admitted_wall(pass_number, self.gate),
            billed_today=self.journal.billed_on(pass_number, self._day(now)),
        )

    def _record_decision(self, credential: Credential, decision: Decision, now: Now) -> int | None:
        record = decision.record
        entry = Entry(
            kind="decision",
            wall=now.wall,
            monotonic=now.monotonic,
            time_trusted=now.trusted,
            day=self._day(now),
            museum=self.museum,
            gate=self.gate,
            credential_kind=credential.kind,
            credential=credential.value,
            pass_number=record.pass_number if record else None,
            admitted=decision.admit,
            reason=decision.reason.value,
            billable=decision.billable,
            valid_until=decision.valid_until.isoformat() if decision.valid_until else None,
            list_version=self.store.version,
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
        return self._append(entry, change)

    def _append(self, entry: Entry, change: PassChange | None = None) -> int | None:
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
        # A second grant during a pulse extends it; the earlier timer then does nothing.
        self._relay_off_at = mono + self.relay_pulse_s
        self.schedule(self.relay_pulse_s, self._release_relay)
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
            day=self._day(now), museum=self.museum, gate=self.gate,
            credential_kind=granted.credential_kind, credential=granted.credential,
            pass_number=granted.pass_number, admitted=False, reason="not_passed",
            list_version=self.store.version, refers_to=seq,
        )  # fmt: skip
        if (stored := self._append(entry)) is not None:
            log.info("entry %d: nobody walked through; recorded as %d not_passed", seq, stored)

    # -- reader ------------------------------------------------------------

    def _on_reader_health(self, event: ReaderHealth) -> None:
        if event.up != self.status.reader_up:
            (log.info if event.up else log.error)(
                "reader %s: %s", "up" if event.up else "down", event.detail
            )
        self.status.reader_up, self.status.reader_detail = event.up, event.detail

    # -- sync --------------------------------------------------------------

    def _pump_sync(self) -> None:
        if self.sync is not None:
            self.sync.pump()
            self._refresh_sync_status()

    def _refresh_sync_status(self) -> None:
        assert self.sync is not None
        outbox = self.sync.outbox
        self.status.broker_connected = self.sync.connected
        self.status.sync_backlog = outbox.backlog
        self.status.last_ack_seq, self.status.last_ack_at = outbox.acked_seq, outbox.acked_wall

    def sync_snapshot(self) -> dict[str, object]:
        """What the status message needs from the loop's own state."""
        return {
            "museum": self.museum,
            "gate": self.gate,
            "list_version": self.store.version,
            "reader_up": self.status.reader_up,
            "reader_detail": self.status.reader_detail,
            "journal_ok": self.status.journal_ok,
            "time_trusted": self.status.time_trusted,
        }

    def _list_received(self, data: bytes) -> None:
        log.info("list received, %d bytes", len(data))

    # -- time --------------------------------------------------------------

    def _moment(self, now: Now) -> Moment:
        return Moment(wall=now.wall, today=self._date(now), trusted=now.trusted)

    def _date(self, now: Now) -> date:
        return datetime.fromtimestamp(now.wall, self.zone).date()

    def _day(self, now: Now) -> str:
        return self._date(now).isoformat()

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
        due = self.clock.source.monotonic() + delay
        heapq.heappush(self._timers, (due, next(self._timer_ids), action))

    def _wait_time(self) -> float:
        if not self._timers:
            return 1.0
        return min(1.0, max(0.0, self._timers[0][0] - self.clock.source.monotonic()))

    def _stop(self) -> None:
        self.hardware.safe()
        self.save_clock_floor()

    def _log_decision(self, credential: Credential, decision: Decision, seq: int, now: Now) -> None:
        record = decision.record
        log.info(
            "tap %s %s → %s (%s)%s%s%s [seq %d%s]",
            credential.kind,
            credential.value,
            "ADMIT" if decision.admit else "REFUSE",
            decision.reason.value,
            f" pass {record.pass_number}" if record else "",
            f" valid until {decision.valid_until}" if decision.valid_until else "",
            ", renewal due" if decision.renewal_hint else "",
            seq,
            "" if now.trusted else ", clock untrusted: floor used",
        )
