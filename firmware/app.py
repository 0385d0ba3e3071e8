"""Building the gate from its settings: the one place that picks backends.

Which pin factory, which reader path and which clock are decided here and
nowhere else; the rest of the daemon receives ready objects.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from gpiozero.pins import Factory

from firmware.clock import RELEASE_FLOOR, Clock, FlooredClock, SystemClock
from firmware.config import Settings
from firmware.events import PersonPassed, Shutdown
from firmware.gate.decision import Rules
from firmware.gate.hardware import GateHardware, make_pin_factory
from firmware.gate.loop import GateLoop
from firmware.journal.journal import Journal
from firmware.journal.outbox import Outbox
from firmware.store.store import PassStore, build_base_list
from firmware.sync.client import SyncClient
from firmware.sync.keys import gate_key
from firmware.sync.link import LIST_VERSION_KEY, SyncLink
from firmware.trust import read_public_key

log = logging.getLogger("portique")

JOURNAL_FILE = "journal.sqlite"
PASSES_FILE = "passes.sqlite"


@dataclass
class Gate:
    """A built gate: its loop and the parts the loop owns."""

    settings: Settings
    loop: GateLoop
    journal: Journal
    store: PassStore
    hardware: GateHardware
    clock: FlooredClock
    sync_client: SyncClient | None = None
    closed: bool = False

    def start_sync(self) -> None:
        if self.sync_client is not None:
            self.sync_client.start()

    def stop_sync(self) -> None:
        """Close the broker connection, telling the hub this gate goes offline."""
        if self.sync_client is not None and self.loop.sync is not None:
            self.sync_client.stop(final_status=self.loop.sync.status(online=False))
            self.sync_client = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stop_sync()
        self.hardware.close()
        self.store.close()
        self.journal.close()


def build_gate(settings: Settings, clock: Clock | None = None,
               pin_factory: Factory | None = None) -> Gate:  # fmt: skip
    """Open the data directory and build every part; raises StorageError or ListError."""
    data_dir = settings.gate.data_dir
    journal = Journal.open(data_dir / JOURNAL_FILE)
    try:
        store = _open_store(settings, data_dir, journal)
        floor = max(journal.stored_floor(), RELEASE_FLOOR)
        floored = FlooredClock(clock or SystemClock(), floor=floor)
        factory = pin_factory or make_pin_factory(settings.gpio.pin_factory)
        loop_ref: list[GateLoop] = []
        hardware = GateHardware(
            settings.gpio,
            factory,
            on_passage=lambda: loop_ref[0].post(PersonPassed(floored.source.monotonic())),
        )
    except Exception:
        journal.close()
        raise
    gpio = settings.gpio
    loop = GateLoop(
        museum=settings.gate.museum,
        gate=settings.gate.gate,
        zone=settings.zone,
        rules=Rules(
            anti_passback_s=settings.rules.anti_passback_s,
            renewal_window_months=settings.rules.renewal_window_months,
            paper_pass_last_day=settings.rules.paper_pass_last_day,
        ),
        clock=floored,
        journal=journal,
        store=store,
        hardware=hardware,
        relay_pulse_s=gpio.relay_pulse_ms / 1000,
        passage_timeout_s=gpio.passage_timeout_s if gpio.passage_sensor_pin else None,
    )
    loop_ref.append(loop)
    gate = Gate(settings, loop, journal, store, hardware, floored)
    if settings.sync is not None:
        try:
            gate.sync_client = _attach_sync(settings, loop, journal, floored)
        except Exception:
            gate.close()
            raise
    return gate


def _attach_sync(settings: Settings, loop: GateLoop, journal: Journal,
                 clock: FlooredClock) -> SyncClient:  # fmt: skip
    """The MQTT client (its own threads) and the loop's side of sync, wired together."""
    sync = settings.sync
    assert sync is not None
    key, key_id = gate_key(settings.gate.data_dir)
    root = None
    if sync.root_key is not None and sync.root_key.exists():
        root = read_public_key(sync.root_key)
    else:
        # The gate works offline anyway: it keeps every record until a hub it can verify answers.
        log.warning("sync: no root key%s: hub messages, acknowledgements included, will be "
                    "refused and records stay queued",
                    f" at {sync.root_key}" if sync.root_key else " ([sync] root_key)")  # fmt: skip
    outbox = Outbox(journal)
    client = SyncClient(
        sync, settings.gate.museum, settings.gate.gate, key, key_id, root, clock, loop.post,
        list_version=int(outbox.get(LIST_VERSION_KEY)),
    )  # fmt: skip
    loop.attach_sync(SyncLink(sync, outbox, client, clock, loop.schedule, loop.sync_snapshot))
    return client


def _open_store(settings: Settings, data_dir: Path, journal: Journal) -> PassStore:
    base = data_dir / PASSES_FILE
    demo = settings.passes
    if demo.demo_csv is not None and demo.types_csv is not None:
        count = build_base_list(demo.demo_csv, demo.types_csv, base)
        log.info("pass list built from %s: %d passes", demo.demo_csv, count)
    store = PassStore(base, journal)
    if not base.exists():
        log.warning("no pass list in %s yet: every pass will be refused as unknown", data_dir)
    return store


def run_gate(gate: Gate, start_reader: bool = True) -> None:
    """Run until SIGTERM/SIGINT; the reader thread feeds the loop."""
    from firmware.reader import NfcReader

    loop = gate.loop
    reader = NfcReader(gate.settings.reader, loop.post, gate.clock.source) if start_reader else None

    def on_signal(signum: int, _frame: object) -> None:
        loop.post(Shutdown(signal.Signals(signum).name))

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    if reader is not None:
        reader.start()
    gate.start_sync()
    log.info("gate %s/%s running; %d passes in list version %d",
             gate.settings.gate.museum, gate.settings.gate.gate,
             gate.store.count, gate.store.version)  # fmt: skip
    try:
        loop.run()
    finally:
        # Outputs and journal first: they close at once, while the reader may
        # be inside a poll of up to a second before it can close.
        gate.close()
        if reader is not None:
            reader.stop()
        log.info("gate stopped: relay in safe state, journal and reader closed")
