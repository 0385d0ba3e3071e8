"""Card to relay through the reader, reader recovery, and what an idle gate writes to its SD card.

Card to relay: nfcpy's real ``pn532`` driver polls a PN532 emulated on a pty
(tests/pn532.py) with default settings; the time runs from the emulator
putting a card in the field to the relay pin going high. Its floor is the
poll interval: a card put down just after a poll waits for the next one.

Reader recovery: from the emulated reader plugged back in (a new pty under
the same /dev name, as udev does) to the relay energised for a card already
in its field.

SD card: bytes the process sends to storage (``/proc/self/io`` write_bytes)
while the gate runs one hour of its timers on an injected clock, with the
status files in RAM as on a gate; and per 1000 taps.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from bench.tap import TimedPin, _active_serials, _settings, _wait_change, percentile
from firmware import config
from firmware.app import build_gate
from firmware.clock import ManualClock, SystemClock
from firmware.events import CardTapped, Shutdown
from firmware.reader import NfcReader

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from pn532 import DevLink, EmulatedPn532, dev_link  # noqa: E402 - the emulator lives with the tests

TAPS = 300
RECOVERIES = 5
READER_OVERRIDES: dict[str, object] = {}  # default settings; a one-off comparison may set some


def _with(settings: config.Settings, **sections: dict[str, object]) -> config.Settings:
    data = {
        "gate": {"data_dir": str(settings.gate.data_dir)},
        "gpio": {"pin_factory": "mock"},
        "lists": {
            "root_key": str(settings.lists.root_key),
            "allow_demo_keys": True,
            "install_at_start": str(settings.lists.install_at_start),
        },
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return config.from_dict(data, source="bench")


def card_to_relay(workdir: Path, link: DevLink) -> dict[str, float]:
    base = _settings(workdir)
    run_dir = Path(tempfile.mkdtemp(prefix="portique-bench-run-"))
    reader_settings = {"path": link.nfc_path, **READER_OVERRIDES}
    settings = _with(base, reader=reader_settings, status={"runtime_dir": str(run_dir)})
    TimedPin.watched = f"GPIO{settings.gpio.relay_pin}"
    gate = build_gate(settings, pin_factory=MockFactory(pin_class=TimedPin))
    chip = EmulatedPn532()
    link.point_to(chip.port)
    reader = NfcReader(settings.reader, gate.loop.post, SystemClock())
    thread = threading.Thread(target=gate.loop.run, name="gate-loop")
    thread.start()
    reader.start()
    latencies, to_read, recoveries = [], [], []
    try:
        serials = _active_serials(settings, TAPS + RECOVERIES)
        if not chip.wait_polls(2, 30):
            raise RuntimeError("the reader never polled the emulated PN532")
        arrivals = random.Random(1)
        for serial in serials[:TAPS]:
            TimedPin.changed.clear()
            # Visitors come when they come, not in step with the polls: a random phase.
            time.sleep(arrivals.uniform(0, 2 * settings.reader.poll_interval_ms / 1000))
            chip.put_card(serial)
            latencies.append((_wait_change() - chip.card_placed_at) * 1000)
            to_read.append((chip.card_read_at - chip.card_placed_at) * 1000)
            chip.take_card()
            gate.loop.post(lambda _eventtime: gate.hardware.close_gate())
            _wait_change()
        for serial in serials[TAPS:]:
            chip.unplug()
            while gate.health.reader_up:  # the reactor learns the loss from the reader
                time.sleep(0.01)
            chip = EmulatedPn532()
            TimedPin.changed.clear()
            chip.put_card(serial)  # a card waiting on the reader as it comes back
            link.point_to(chip.port)  # plugged in
            recoveries.append(_wait_change() - chip.card_placed_at)
            chip.take_card()
            gate.loop.post(lambda _eventtime: gate.hardware.close_gate())
            _wait_change()
    finally:
        reader.stop()
        chip.unplug()
        gate.loop.post(Shutdown("benchmark done"))
        thread.join()
        gate.close()
        shutil.rmtree(run_dir, ignore_errors=True)
    return {
        "card_to_relay_p50_ms": percentile(latencies, 0.50),
        "card_to_relay_p99_ms": percentile(latencies, 0.99),
        "card_to_relay_max_ms": max(latencies),
        "card_to_relay_taps": float(len(latencies)),
        "card_to_relay_floor_poll_interval_ms": float(settings.reader.poll_interval_ms),
        # The share spent until a poll found the card (the rest: read, decide, commit, relay).
        "card_to_poll_answer_p50_ms": percentile(to_read, 0.50),
        "card_to_poll_answer_p99_ms": percentile(to_read, 0.99),
        "reader_recovery_s": statistics.median(recoveries),
        "reader_recovery_max_s": max(recoveries),
        "reader_recovery_floor_retry_max_s": settings.reader.retry_max_s,
    }


def _written_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("/proc/self/io has no write_bytes")


def sd_card(workdir: Path) -> dict[str, float]:
    base = _settings(workdir)
    # The runtime dir in RAM, as /run/portique on a gate.
    run_dir = Path(tempfile.mkdtemp(prefix="portique-bench-run-", dir="/dev/shm"))
    settings = _with(base, status={"runtime_dir": str(run_dir)})
    clock = ManualClock(wall=SystemClock().wall())
    gate = build_gate(settings, clock=clock, pin_factory=MockFactory())
    try:
        loop = gate.loop
        loop.begin()  # what run() starts: the heartbeat and the status timers
        os.sync()
        before = _written_bytes()
        for _ in range(3600):  # one hour of timers, a second at a time
            clock.advance(1.0)
            loop.run_due_timers()
        idle = _written_bytes() - before
        serials = _active_serials(settings, 1000)
        before = _written_bytes()
        for serial in serials:
            clock.advance(2.0)
            loop.handle(CardTapped(serial, clock.monotonic()))
            loop.run_due_timers()
        taps = _written_bytes() - before
    finally:
        gate.close()
        shutil.rmtree(run_dir, ignore_errors=True)
    return {
        "idle_data_dir_writes_kb_per_h": idle / 1024,
        "data_dir_kb_per_1000_taps": taps / 1024 * 1000 / len(serials),
    }


def run(workdir: Path) -> dict[str, float]:
    logging.getLogger("nfc").setLevel(logging.CRITICAL)  # as the daemon does: we report ourselves
    logging.getLogger("portique.gate").setLevel(logging.CRITICAL)  # each replug logs "reader down"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    figures = sd_card(workdir / "sd")
    if os.access("/dev", os.W_OK):  # nfcpy finds serial ports in /dev only
        with dev_link(f"pq-bench-{os.getpid()}") as link:
            figures.update(card_to_relay(workdir / "reader", link))
    return figures
