"""Building the gate from its settings: the one place that picks backends.

Which pin factory, which reader path and which clock are decided here and
nowhere else; the rest of the daemon receives ready objects.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import peewee
from gpiozero import GPIOZeroError
from gpiozero.pins import Factory

from firmware import status as status_file
from firmware.access_state import Door
from firmware.clock import Clock, FlooredClock, SystemClock, gate_clock
from firmware.config import Settings
from firmware.datalock import DataDirLock
from firmware.events import DisplayFailed, PersonPassed, ScannerRead, Shutdown
from firmware.gate.admissions import Admissions
from firmware.gate.counter_desk import CounterDesk
from firmware.gate.culture import Culture
from firmware.gate.desk import StaffDesk
from firmware.gate.hardware import GateHardware, HardwareError, make_pin_factory
from firmware.gate.health import DeviceHealth
from firmware.gate.listkeeper import ListKeeper
from firmware.gate.outputs import Outputs
from firmware.gate.passages import Passages
from firmware.gate.passplus import PassPlus
from firmware.gate.reactor import Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.release import RELEASE_FILE, ReleaseNotices
from firmware.gate.snapshot import StatusCollector
from firmware.gate.timekeeping import Timekeeper
from firmware.gate.views import Views
from firmware.journal.database import StorageError, describe
from firmware.journal.journal import Journal
from firmware.journal.outbox import Outbox
from firmware.lists import format as fmt
from firmware.lists.manager import ListManager
from firmware.lists.verify import ListRejected
from firmware.scanner import ScannedLine
from firmware.store.store import PassStore
from firmware.sync.client import SyncClient
from firmware.sync.keys import gate_key
from firmware.sync.link import LIST_VERSION_KEY, SyncLink, SyncOff
from firmware.systemd import Notifier
from firmware.trust import TrustStore, read_public_key

if TYPE_CHECKING:
    from firmware.display.kiosk import Kiosk
    from firmware.scanner.keyboard import KeyboardScanner
    from firmware.scanner.serial_port import SerialScanner

log = logging.getLogger("portique")

JOURNAL_FILE = "journal.sqlite"
STAFF_FILE = "staff.toml"


@dataclass
class Gate:
    """A built gate: its reactor (``loop``), the modules registered on it, and what they share."""

    settings: Settings
    loop: Reactor
    journal: Journal
    store: PassStore
    hardware: GateHardware
    clock: FlooredClock
    views: Views
    time: Timekeeper
    recorder: Recorder
    health: DeviceHealth
    lists: ListKeeper
    passages: Passages
    admissions: Admissions
    status: StatusCollector
    desk: StaffDesk
    culture: Culture
    passplus: PassPlus
    counter: CounterDesk | None = None
    sync: SyncLink | None = None
    sync_client: SyncClient | None = None
    lock: DataDirLock | None = None
    closed: bool = False

    @property
    def on_view(self) -> list[Callable[[object], None]]:
        """The screen's listeners: each hears every view the modules publish."""
        return self.views.on_view

    def start_sync(self) -> None:
        if self.sync_client is not None:
            self.sync_client.start()

    def stop_sync(self) -> None:
        """Close the broker connection, telling the hub this gate goes offline."""
        if self.sync_client is not None and self.sync is not None:
            self.sync_client.stop(final_status=self.sync.status_message(online=False))
            self.sync_client = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stop_sync()
        self.hardware.close()
        self.store.close()
        self.journal.close()
        if self.lock is not None:
            self.lock.release()


def build_gate(settings: Settings, clock: Clock | None = None,
               pin_factory: Factory | None = None) -> Gate:  # fmt: skip
    """Open the data directory and build every part.

    Raises DataDirBusy (another process holds the data directory),
    StorageError (data directory, databases), TrustError (the pinned root key),
    ListRejected (a list to install at start) or HardwareError (the GPIO pins).
    """
    data_dir = settings.gate.data_dir
    try:
        lock = DataDirLock(data_dir, "the gate daemon (portique run)")
    except OSError as exc:
        raise StorageError(f"data directory {data_dir}: {exc.strerror}") from None
    try:
        journal = Journal.open(data_dir / JOURNAL_FILE)
    except Exception:
        lock.release()
        raise
    try:
        floored = gate_clock(clock or SystemClock(), journal.stored_floor())
        # Certificates are checked against the floored time, never a clock at 1970.
        store = _open_store(settings, data_dir, journal, floored)
        if store.lists.issued_at:
            floored.raise_floor(store.lists.issued_at)
        factory = pin_factory or make_pin_factory(settings.gpio.pin_factory)
        loop_ref: list[Reactor] = []
        try:
            hardware = GateHardware(
                settings.gpio,
                factory,
                on_passage=lambda: loop_ref[0].post(PersonPassed(floored.source.monotonic())),
            )
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            raise HardwareError(
                f"{settings.source}: [gpio] the relay, LEDs, buzzer or sensor pins cannot be "
                f'claimed with pin_factory = "{settings.gpio.pin_factory}": {exc}'
            ) from None
    except Exception:
        journal.close()
        lock.release()
        raise
    loop_ref.append(reactor := Reactor(floored.source.monotonic))
    gate = _assemble(settings, reactor, floored, journal, store, hardware)
    gate.lock = lock
    if settings.sync is not None:
        try:
            gate.sync, gate.sync_client = _attach_sync(gate)
        except Exception:
            gate.close()
            raise
    gate.status.add([gate.sync or SyncOff()])
    return gate


def _assemble(settings: Settings, reactor: Reactor, clock: FlooredClock, journal: Journal,
              store: PassStore, hardware: GateHardware) -> Gate:  # fmt: skip
    """Build each module; each registers its handlers and timers on ``reactor`` itself."""
    where = (settings.gate.museum, settings.gate.gate)
    data_dir, gpio = settings.gate.data_dir, settings.gpio
    views = Views()
    desk_mode = settings.gate.mode == "desk"
    outputs = Outputs(reactor, hardware, gpio.relay_pulse_ms / 1000,  # safe state first at stop
                      drive_relay=not desk_mode)  # fmt: skip
    time = Timekeeper(reactor, clock, settings.zone, journal)
    recorder = Recorder(journal, outputs)
    health = DeviceHealth(reactor)
    lists = ListKeeper(reactor, store.lists, time, settings.lists.refuse_after_expiry_hours * 3600)
    passages = Passages(reactor, recorder, time, where,
                        gpio.passage_timeout_s if gpio.passage_sensor_pin else None,
                        lambda: store.version)  # fmt: skip
    admissions = Admissions(
        reactor, where=where, rules=settings.rules, time=time, lists=lists, store=store,
        journal=journal, recorder=recorder, outputs=outputs, passages=passages, views=views,
        children_choice_s=settings.display.children_prompt_timeout_s, taps=not desk_mode,
    )  # fmt: skip
    status = StatusCollector(reactor, time, where)
    release = ReleaseNotices(reactor, data_dir / RELEASE_FILE)
    status.add([time, recorder, health, lists, passages, admissions, release])
    runtime_dir, textfile = settings.status.runtime_dir, settings.status.textfile
    status.on_status = lambda document: status_file.write(runtime_dir, document, textfile)
    desk = StaffDesk(
        reactor, gate=where[1], time=time, admissions=admissions, store=store, journal=journal,
        recorder=recorder, views=views, health=status.health, staff_file=data_dir / STAFF_FILE,
        idle_logout_s=settings.display.idle_logout_s,
        refusal_actions_s=settings.display.refusal_actions_s,
        door=Door(where[0], where[1], data_dir, settings.gate.office_key),
    )  # fmt: skip
    culture = Culture(
        reactor, where=where, settings=settings.passculture, time=time, recorder=recorder,
        outputs=outputs, passages=passages, publish=views.publish,
        operator=lambda: desk.member.name if desk.member else None,
        list_version=lambda: store.version,
    )  # fmt: skip
    passplus = PassPlus(
        reactor, where=where, time=time, journal=journal, recorder=recorder,
        publish=views.publish, operator=lambda: _taking_staff(desk),
        answer_timeout_s=settings.passculture.answer_timeout_s,
    )  # fmt: skip
    counter = CounterDesk(
        reactor, settings=settings, time=time, store=store, journal=journal,
        admissions=admissions, views=views, member=lambda: desk.member, desk_mode=desk_mode,
        stored=recorder.on_stored,
    )  # fmt: skip
    reactor.register(Shutdown, _stop_on_shutdown(reactor))
    return Gate(settings, reactor, journal, store, hardware, clock, views, time, recorder,
                health, lists, passages, admissions, status, desk, culture, passplus,
                counter)  # fmt: skip


def _stop_on_shutdown(reactor: Reactor) -> Callable[[Shutdown, float], None]:
    def stop(event: Shutdown, _eventtime: float) -> None:
        log.info("shutting down: %s", event.reason)
        reactor.stop()

    return stop


def _attach_sync(gate: Gate) -> tuple[SyncLink, SyncClient]:
    """The MQTT client (its own threads) and the reactor's side of sync, wired together."""
    settings, clock = gate.settings, gate.clock
    sync = settings.sync
    assert sync is not None
    key, key_id = gate_key(settings.gate.data_dir)
    root = None
    # One root signs lists and hub messages alike; [sync] root_key may name another.
    root_key = sync.root_key or settings.lists.root_key
    if root_key is not None and root_key.exists():
        root = read_public_key(root_key)
    else:
        # The gate works offline anyway: it keeps every record until a hub it can verify answers.
        log.warning("sync: no root key%s: hub messages, acknowledgements included, will be "
                    "refused and records stay queued",
                    f" at {root_key}" if root_key else " ([lists] root_key)")  # fmt: skip
    outbox = Outbox(gate.journal)
    client = SyncClient(
        sync, settings.gate.museum, settings.gate.gate, key, key_id, root, clock, gate.loop.post,
        list_version=max(int(outbox.get(LIST_VERSION_KEY)), gate.store.version),
        revoked=lambda: gate.store.lists.trust.revoked,  # replaced whole: safe to read
        # The lists' root, once rotated, is the hub's too, unless [sync] pins another.
        current_root=None if sync.root_key else lambda: gate.store.lists.trust.root,
    )  # fmt: skip
    where = (settings.gate.museum, settings.gate.gate)
    link = SyncLink(sync, outbox, client, clock, gate.loop, where, gate.status.health)
    gate.recorder.on_stored.append(link.after_commit)
    gate.culture.send = client.send_passculture
    gate.culture.online = lambda: link.connected
    gate.passplus.send = client.send_passplus
    gate.passplus.online = lambda: link.connected
    return link, client


def open_lists(settings: Settings) -> ListManager:
    """The gate's list state, trusting the root key pinned in the configuration."""
    config = settings.lists
    if config.root_key is None:
        log.warning("no [lists] root_key pinned: no pass list can be accepted")
        root = b""
    else:
        root = read_public_key(config.root_key)
    data_dir = settings.gate.data_dir
    trust = TrustStore.open(root, data_dir / "trust.json", allow_demo=config.allow_demo_keys)
    return ListManager(data_dir, trust, config.max_list_mb << 20)


def _open_store(settings: Settings, data_dir: Path, journal: Journal,
                clock: FlooredClock) -> PassStore:  # fmt: skip
    config = settings.lists
    lists = open_lists(settings)
    if config.install_at_start is not None:
        install_list(lists, config.install_at_start, clock)
    if lists.version == 0:
        log.warning("no pass list in %s yet: every pass will be refused as unknown", data_dir)
    return PassStore(lists, journal)


def install_list(lists: ListManager, path: Path, clock: FlooredClock) -> None:
    """Apply the list file at ``path`` unless the same or a newer version is in force."""
    try:
        with open(path, "rb") as handle:
            prefix = handle.read(len(fmt.MAGIC) + 4 + fmt.MAX_HEADER_BYTES)
        version = fmt.read_header(prefix, path.stat().st_size).version
    except (OSError, fmt.ListFormatError) as exc:
        raise ListRejected("malformed", f"list {path} cannot be read ({exc})") from None
    if version <= lists.version:
        log.info("list %s: version %d already in force", path, lists.version)
        return
    try:
        lists.apply_file(path, clock.now().wall, clock.latest_issue())
    except (OSError, peewee.DatabaseError) as exc:
        # The list in force is untouched (the apply is atomic); say where space ran out.
        raise describe(exc, lists.directory, f"installing list {path} into") from None


def run_gate(gate: Gate, start_reader: bool = True) -> None:
    """Run until SIGTERM/SIGINT; the reader thread feeds the loop."""
    from firmware.reader import NfcReader

    loop = gate.loop
    reader = NfcReader(gate.settings.reader, loop.post, gate.clock.source) if start_reader else None

    def on_signal(signum: int, _frame: object) -> None:
        loop.post(Shutdown(signal.Signals(signum).name))

    def on_hangup(_signum: int, _frame: object) -> None:
        loop.post(_log_hangup)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        # SIGHUP's default is death. A tty that became the daemon's controlling
        # terminal (which the reader code prevents, see firmware/reader/nfc.py)
        # sends it when unplugged: that is a lost reader, which the reader thread
        # reports and retries, never a reason to stop admitting.
        signal.signal(signal.SIGHUP, on_hangup)
    if reader is not None:
        reader.start()
    gate.start_sync()
    scanner = start_scanner(gate)
    screen = start_display(gate)
    name = f"{gate.settings.gate.museum}/{gate.settings.gate.gate}"
    log.info("gate %s running; %d passes in list version %d",
             name, gate.store.count, gate.store.version)  # fmt: skip
    notifier = Notifier()
    _tell_systemd(loop, notifier, name)
    try:
        loop.run()
    finally:
        notifier.stopping()
        # Outputs and journal first: they close at once, while the reader may
        # be inside a poll of up to a second before it can close.
        gate.close()
        if screen is not None:
            screen.stop()
        if reader is not None:
            reader.stop()
        if scanner is not None:
            scanner.stop()
        log.info("gate stopped: relay in safe state, journal and reader closed")
        if screen is not None and screen.x_connection_lost:
            # pygame's exit handler would wait forever on the dead X connection
            # (firmware/display/xguard.py); everything is closed: leave now.
            logging.shutdown()
            os._exit(0)


def _log_hangup(_eventtime: float) -> None:
    log.warning("SIGHUP: a terminal hung up (a reader unplugged?); the gate carries on")


def _tell_systemd(loop: Reactor, notifier: Notifier, name: str) -> None:
    """READY once the loop turns, then a watchdog ping from the loop itself.

    Both are loop timers, so a loop that hangs (a stuck disk, a lock never
    released) stops pinging and systemd restarts the service.
    """
    if not notifier.enabled:
        return
    loop.schedule(0, lambda _t: notifier.ready(f"gate {name} admitting"))
    interval = notifier.watchdog_interval_s()
    if interval is None:
        return

    def ping(eventtime: float) -> float:
        notifier.watchdog()
        return eventtime + interval

    loop.schedule(0, ping)


def start_scanner(gate: Gate) -> KeyboardScanner | SerialScanner | None:
    """Start the barcode/QR scanner's thread when configured; its lines go to the loop.

    A scanner that cannot be opened is logged and the gate runs on: the keypad
    still takes the codes.
    """
    config = gate.settings.scanner
    if config.mode == "none" or config.device is None:
        return None
    from firmware.scanner.keyboard import KeyboardScanner
    from firmware.scanner.serial_port import SerialScanner

    post = gate.loop.post

    def on_line(line: ScannedLine) -> None:
        post(ScannerRead(line.data, line.source, line.cut))

    scanner: KeyboardScanner | SerialScanner
    if config.mode == "keyboard":
        scanner = KeyboardScanner(config.device, config.layout, on_line)
    else:
        scanner = SerialScanner(config.device, on_line, config.baudrate)
    try:
        scanner.start()
    except OSError as exc:
        log.error("%s: [scanner] %s; pass Culture codes can still be typed", gate.settings.source,
                  exc)  # fmt: skip
        return None
    return scanner


def start_display(gate: Gate) -> Kiosk | None:
    """Start the screen's thread when configured; a screen that fails leaves the gate running."""
    settings = gate.settings
    if not settings.display.enabled:
        log.info("no screen configured ([display] enabled = false): LEDs and buzzer only")
        return None
    loop = gate.loop
    try:
        from firmware.display.kiosk import Kiosk

        kiosk = Kiosk(settings.display, settings.gate.language, settings.zone, loop.post,
                      gate.clock.source, mode=settings.gate.mode)  # fmt: skip
    except Exception as exc:  # pygame missing or broken: the gate must still admit
        loop.post(DisplayFailed(f"display could not start: {exc}"))
        return None
    gate.views.on_view.append(kiosk.publish)
    kiosk.start()
    return kiosk


def _taking_staff(desk: StaffDesk) -> str | None:
    """Who may take a Pass+ ticket now: the staff member logged in, unless a visitor tapped
    meanwhile (the session then acts on that one refused pass only)."""
    return desk.member.name if desk.member is not None and desk.scope is None else None
