"""The loop's side of sync: feeding the outbox to the client, acting on what the hub says.

Runs on the gate's loop only (it owns the journal). Batches leave in
sequence order, at most ``max_in_flight`` unacknowledged at once; an
acknowledgement moves the window on. Anything that breaks the flow (a
reconnection, a resend request, an acknowledgement that does not come)
starts again from one past the last acknowledgement: the hub stores by
(gate, journal epoch, seq), so a record sent twice is stored once. Messages from the hub
arrive signed and checked; here they are also checked to be fresh, against
what the journal remembers of the last accepted ones.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from firmware.clock import RELEASE_FLOOR, FlooredClock
from firmware.config import SyncSettings
from firmware.events import (
    AckReceived,
    BeaconReceived,
    DeltasReceived,
    ListReceived,
    ResendRequested,
    SyncConnected,
    SyncDisconnected,
)
from firmware.gate.reactor import Reactor
from firmware.journal.database import StorageError
from firmware.journal.outbox import Outbox
from firmware.status import COUNTERS
from firmware.sync.deltas import DELTA_SEQ_KEY, apply_deltas
from firmware.version import SOFTWARE_VERSION

log = logging.getLogger("portique.sync")

COMMAND_KEY = "sync.command_n"
BEACON_KEY = "sync.beacon_at"
LIST_VERSION_KEY = "sync.list_version"
LIST_AT_KEY = "sync.list_at"
PRUNE_EVERY_S = 3600.0
PRUNE_ROWS = 5000  # per round, so pruning never holds the loop for long
CLOCK_AHEAD_WARN_S = 300.0
DETAIL_MAX = 1024  # the status schema's longest string in health


class Transport(Protocol):
    """What the link hands messages to (``SyncClient``); every call returns at once."""

    def send_batch(self, epoch: str, records: list[dict[str, Any]]) -> None: ...

    def send_status(self, status: dict[str, Any]) -> None: ...

    def send_hello(self, hello: dict[str, Any]) -> None: ...


class SyncLink:
    """Registers the sync events on the reactor and keeps the outbox flowing."""

    def __init__(self, settings: SyncSettings, outbox: Outbox, transport: Transport,
                 clock: FlooredClock, reactor: Reactor, where: tuple[str, str],
                 health: Callable[[], dict[str, Any]]) -> None:  # fmt: skip
        self.settings, self.outbox, self.transport = settings, outbox, transport
        self.clock, self._reactor, self.health = clock, reactor, health
        self.museum, self.gate = where
        self.journal = outbox.journal
        self.connected = False
        self.sent_upto = outbox.acked_seq
        self._in_flight: deque[int] = deque()  # last seq of each batch handed over
        self._last_progress = clock.source.monotonic()
        self._status: dict[str, Any] = {}
        self._refresh_status()
        # Listeners (status screens, tests, the benchmark) hear every accepted acknowledgement.
        self.on_ack: list[Callable[[int], None]] = []
        for event_type, handler in (
            (SyncConnected, self._on_connected),
            (SyncDisconnected, self._on_disconnected),
            (AckReceived, self._on_ack),
            (ResendRequested, self._on_resend),
            (DeltasReceived, self._on_deltas),
            (BeaconReceived, self._on_beacon),
        ):
            reactor.register(event_type, self._then_refresh(handler))
        reactor.register(ListReceived, lambda event, _t: self.note_list(event.version))
        reactor.on_start(self._start)

    def _then_refresh(self, handler: Callable[[Any], None]) -> Callable[[Any, float], None]:
        def handle(event: object, _eventtime: float) -> None:
            handler(event)
            self._refresh_status()

        return handle

    def _start(self, eventtime: float) -> None:
        """Arm the link's timers; called when the reactor starts."""
        self._reactor.at(eventtime + self.settings.ack_timeout_s, self._check_progress)
        self._reactor.at(eventtime + self.settings.status_interval_s, self._status_tick)
        self._reactor.at(eventtime, self._prune_tick)

    def after_commit(self, _seq: int) -> None:
        """A record was stored: read the next batch once the loop is free, not during the tap."""
        self._reactor.post(self._pump_and_refresh)

    def _pump_and_refresh(self, _eventtime: float) -> None:
        self.pump()
        self._refresh_status()

    def _refresh_status(self) -> None:
        # Refreshed on sync's own events and after a pump, not on every status
        # read: the backlog is a count over the journal.
        self._status = {
            "broker_connected": self.connected,
            "backlog": self.outbox.backlog,
            "last_ack_seq": self.outbox.acked_seq,
            "last_ack_at": self.outbox.acked_wall,
        }

    def status(self, _eventtime: float) -> dict[str, Any]:
        return dict(self._status)

    # -- the outbox ------------------------------------------------------------

    def pump(self) -> None:
        """Hand over the next batches while the window has room."""
        if not self.connected:
            return
        last = self.journal.last_seq
        size = self.settings.batch_records
        while len(self._in_flight) < self.settings.max_in_flight and self.sent_upto < last:
            records = self.outbox.records(self.sent_upto, size)
            if not records:
                log.error("sync: records after %d are missing from the journal", self.sent_upto)
                return
            if not self._in_flight:
                self._last_progress = self.clock.source.monotonic()
            self.transport.send_batch(self.outbox.epoch, records)
            self.sent_upto = records[-1]["seq"]
            self._in_flight.append(self.sent_upto)

    def _restart_from_ack(self, why: str) -> None:
        if self.sent_upto > self.outbox.acked_seq:
            log.info("sync: %s; sending again from record %d", why, self.outbox.acked_seq + 1)
        self.sent_upto = self.outbox.acked_seq
        self._in_flight.clear()

    def _check_progress(self, eventtime: float) -> float:
        waited = eventtime - self._last_progress
        if self._in_flight and waited >= self.settings.ack_timeout_s:
            self._restart_from_ack(f"no acknowledgement for {waited:.0f} s")
            self.pump()
        return eventtime + self.settings.ack_timeout_s / 2

    # -- connection --------------------------------------------------------------

    def _on_connected(self, _event: SyncConnected) -> None:
        self.connected = True
        self._restart_from_ack("connected again")
        self.transport.send_hello(self.hello())
        self.transport.send_status(self.status_message(online=True))
        self.pump()

    def _on_disconnected(self, event: SyncDisconnected) -> None:
        if self.connected and not event.stopping:
            log.warning("sync: broker connection lost (%s); records stay queued", event.detail)
        self.connected = False
        self._restart_from_ack("connection lost")

    # -- from the hub ---------------------------------------------------------------

    def _on_ack(self, event: AckReceived) -> None:
        while event.epoch == self.outbox.epoch and self._in_flight and \
                self._in_flight[0] <= event.seq:  # fmt: skip
            self._in_flight.popleft()
        refused = self.outbox.acknowledge(event.seq, event.hash, self.clock.now().wall,
                                          event.epoch)  # fmt: skip
        if refused is not None:
            log.info("sync: acknowledgement of record %d refused: %s", event.seq, refused)
            return
        self._last_progress = self.clock.source.monotonic()
        self.sent_upto = max(self.sent_upto, event.seq)
        self.pump()
        for listener in self.on_ack:
            listener(event.seq)

    def _on_resend(self, event: ResendRequested) -> None:
        if not self._fresh(COMMAND_KEY, event.n, f"resend command {event.n}"):
            return
        first = self.journal.first_seq
        if event.from_seq < first:
            log.error("sync: the hub asks for records from %d, but records before %d were "
                      "pruned after it acknowledged them", event.from_seq, first)  # fmt: skip
        log.info("sync: the hub asks for the records from %d again", event.from_seq)
        self.sent_upto = max(first, event.from_seq) - 1
        self._in_flight.clear()
        self.pump()

    def _on_beacon(self, event: BeaconReceived) -> None:
        previous = max(self.outbox.get(BEACON_KEY), RELEASE_FLOOR)
        if not self._fresh(BEACON_KEY, event.issued_at, "time beacon"):
            return
        floor = self.clock.floor()
        if self.clock.follow_beacon(event.issued_at, lowest=previous):
            log.warning("sync: the clock floor was %.0f s ahead of the hub's time beacon "
                        "(a clock or data from the future); it follows the hub now",
                        floor - event.issued_at)  # fmt: skip
            try:
                self.journal.store_floor(self.clock.floor(), reset=True)
            except StorageError as exc:
                log.error("sync: %s (clock floor not saved)", exc)
        ahead = self.clock.source.wall() - event.issued_at
        if ahead > CLOCK_AHEAD_WARN_S:
            log.warning("sync: the system clock is %.0f s ahead of the hub's time beacon", ahead)

    def _on_deltas(self, event: DeltasReceived) -> None:
        done = apply_deltas(self.journal, event.items, self.delta_seq, self.museum, self.gate)
        if done.applied == 0 and done.missing_from is None and done.duplicates:
            log.info("sync: deltas refused: replayed (all %d already applied, up to %d)",
                     done.duplicates, done.delta_seq)  # fmt: skip
        elif done.applied:
            log.info("sync: %d pass change(s) from the hub applied, up to delta %d",
                     done.applied, done.delta_seq)  # fmt: skip
        if done.missing_from is not None:
            log.warning("sync: deltas from %d are missing; asking the hub", done.missing_from)
            self.transport.send_hello(self.hello())

    def note_list(self, version: int) -> None:
        """A complete list file arrived: remember it, so it is not fetched again."""
        self.outbox.put(LIST_VERSION_KEY, version)
        self.outbox.put(LIST_AT_KEY, self.clock.now().wall)

    def _fresh(self, key: str, value: float, what: str) -> bool:
        last = self.outbox.get(key)
        if value <= last:
            log.warning("sync: %s refused: replayed (not newer than %s)", what, _plain(last))
            return False
        self.outbox.put(key, value)
        return True

    # -- what the gate tells the hub ------------------------------------------------------

    @property
    def delta_seq(self) -> int:
        return int(self.outbox.get(DELTA_SEQ_KEY))

    def hello(self) -> dict[str, Any]:
        return {
            "epoch": self.outbox.epoch,
            "last_seq": self.journal.last_seq,
            "acked_seq": self.outbox.acked_seq,
            "delta_seq": self.delta_seq,
            "list_version": self._list_version(),
            "software_version": SOFTWARE_VERSION,
        }

    def _list_version(self) -> int:
        return max(int(self.outbox.get(LIST_VERSION_KEY)), int(self.health()["list_version"]))

    def status_message(self, online: bool) -> dict[str, Any]:
        """The status message's body: the gate's one health snapshot, and what the hub reads.

        ``health`` carries every module's status; the named fields beside it
        are the ones the hub reads (``docs/protocol.md``).
        """
        self._refresh_status()
        # Words are cut to what the schema takes: a long error must not lose the message.
        health = {key: value[:DETAIL_MAX] if isinstance(value, str) else value
                  for key, value in self.health().items()}  # fmt: skip
        # The list's age counts from when the hub signed it.
        list_at = health.get("list_issued_at") or self.outbox.get(LIST_AT_KEY) or None
        return {
            "epoch": self.outbox.epoch,
            "online": online,
            "list_version": self._list_version(),
            "list_age_s": max(0.0, self.clock.now().wall - list_at) if list_at else None,
            "backlog": self.outbox.backlog,
            "last_seq": self.journal.last_seq,
            "last_ack_seq": self.outbox.acked_seq,
            "last_ack_at": self.outbox.acked_wall,
            "reader_up": health["reader_up"],
            "reader_detail": health["reader_detail"],
            "journal_ok": health["journal_ok"],
            "time_trusted": health["time_trusted"],
            "broker_connected": self.connected,
            # What the gate counts (display failures, unexpected passages, reader
            # reconnects...) reaches the hub as it reaches status.json and Prometheus.
            "display_up": health["display_up"],
            "counters": {key: health[key] for key, _, _ in COUNTERS},
            "software_version": health.get("software_version", SOFTWARE_VERSION),
            "health": health,
        }

    def _status_tick(self, eventtime: float) -> float:
        if self.connected:
            self.transport.send_status(self.status_message(online=True))
        return eventtime + self.settings.status_interval_s

    def _prune_tick(self, eventtime: float) -> float:
        cutoff = self.clock.now().wall - self.settings.retention_days * 86400
        try:
            deleted = self.outbox.prune(cutoff, PRUNE_ROWS)
        except StorageError as exc:
            log.error("sync: %s", exc)
            deleted = 0
        if deleted:
            log.info("sync: %d acknowledged records older than %d days pruned",
                     deleted, self.settings.retention_days)  # fmt: skip
        return eventtime + (1.0 if deleted == PRUNE_ROWS else PRUNE_EVERY_S)


class SyncOff:
    """Stands in for the link in the status when no [sync] is configured."""

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {"broker_connected": None, "backlog": None, "last_ack_seq": None,
                "last_ack_at": None}  # fmt: skip


def _plain(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.3f}"
