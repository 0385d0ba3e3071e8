"""Tap to relay: from the serial reaching the loop to the relay energised.

The gate runs as on a Pi (its loop thread, the system clock, the journal on
this disk, 100,000 passes in the store); only the pins are gpiozero's mock
pins, which record the instant the relay pin goes high. The floor is a bare
SQLite WAL ``synchronous=FULL`` insert-and-commit of one row of the same size
on the same disk: the durable commit no gate can skip.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import statistics
import threading
import time
from datetime import datetime
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPin

from firmware import config
from firmware.app import build_gate
from firmware.clock import SystemClock
from firmware.demo import write_demo, write_demo_list
from firmware.events import CardTapped, Shutdown

PASSES = 100_000
TAPS = 2_000


class TimedPin(MockPin):
    """Records when each output changes, with the benchmark's own timer."""

    changed = threading.Event()
    last_change = 0.0
    watched = "GPIO17"

    def _change_state(self, value: bool) -> bool:
        changed = super()._change_state(value)
        if changed and self.info.name == TimedPin.watched:
            TimedPin.last_change = time.perf_counter()
            TimedPin.changed.set()
        return changed


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


KEYS = Path("provisioning/demo-keys")


def _settings(workdir: Path) -> config.Settings:
    now = SystemClock().wall()
    passes, types = write_demo(workdir / "list", datetime.fromtimestamp(now).date(), filler=PASSES)
    signed = write_demo_list(passes, types, KEYS, workdir / "list" / "list.pql", now)
    return config.from_dict(
        {
            "gate": {"data_dir": str(workdir / "data")},
            "gpio": {"pin_factory": "mock"},
            "lists": {
                "root_key": str(KEYS / "root.pub"),
                "allow_demo_keys": True,
                "install_at_start": str(signed),
            },
        },
        source="bench",
    )


def _active_serials(settings: config.Settings, count: int) -> list[bytes]:
    """Serials of passes that will be admitted, from the demo CSV."""
    assert settings.lists.install_at_start is not None
    today = datetime.fromtimestamp(SystemClock().wall()).date().isoformat()
    with open(settings.lists.install_at_start.with_name("passes.csv"), newline="") as handle:
        rows = csv.DictReader(handle)
        serials = [r["serial"] for r in rows if r["state"] == "active" and r["expires_on"] > today]
    return [bytes.fromhex(serial) for serial in serials[:count]]


def _wait_change() -> float:
    if not TimedPin.changed.wait(timeout=10):
        raise RuntimeError("the relay did not move within 10 s")
    TimedPin.changed.clear()
    return TimedPin.last_change


class CommitFloor:
    """A bare WAL ``synchronous=FULL`` insert-and-commit, in its own file on the same disk."""

    def __init__(self, path: Path, row_bytes: int) -> None:
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.execute("CREATE TABLE row (id INTEGER PRIMARY KEY, body TEXT)")
        self.body = "x" * row_bytes

    def commit_ms(self) -> float:
        started = time.perf_counter()
        self.con.execute("BEGIN")
        self.con.execute("INSERT INTO row (body) VALUES (?)", (self.body,))
        self.con.execute("COMMIT")
        return (time.perf_counter() - started) * 1000


def _record_bytes(journal_path: Path) -> int:
    with sqlite3.connect(journal_path) as con:
        columns = [row[1] for row in con.execute("PRAGMA table_info(record)")]
        expr = " + ".join(f"coalesce(length({c}), 0)" for c in columns)
        return int(con.execute(f"SELECT avg({expr}) FROM record").fetchone()[0])


def measure(workdir: Path) -> tuple[list[float], list[float]]:
    """Tap-to-relay and floor latencies in ms, interleaved so both see the same disk."""
    settings = _settings(workdir)
    factory = MockFactory(pin_class=TimedPin)
    TimedPin.watched = f"GPIO{settings.gpio.relay_pin}"
    gate = build_gate(settings, pin_factory=factory)
    serials = _active_serials(settings, TAPS + 1)
    thread = threading.Thread(target=gate.loop.run, name="gate-loop")
    thread.start()
    taps, floor_ms = [], []
    floor: CommitFloor | None = None
    try:
        for serial in serials:
            TimedPin.changed.clear()
            started = time.perf_counter()
            gate.loop.post(CardTapped(serial, time.monotonic()))
            taps.append((_wait_change() - started) * 1000)
            gate.loop.post(lambda _eventtime: gate.hardware.close_gate())
            _wait_change()
            if floor is None:  # the first tap tells how large a record is
                floor = CommitFloor(workdir / "floor.sqlite", _record_bytes(gate.journal.path))
            floor_ms.append(floor.commit_ms())
    finally:
        gate.loop.post(Shutdown("benchmark done"))
        thread.join()
        gate.close()
    return taps[1:], floor_ms[1:]


def run(workdir: Path) -> dict[str, float]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    taps, floor = measure(workdir)
    return {
        "tap_to_relay_p50_ms": percentile(taps, 0.50),
        "tap_to_relay_p99_ms": percentile(taps, 0.99),
        "commit_floor_p50_ms": percentile(floor, 0.50),
        "commit_floor_p99_ms": percentile(floor, 0.99),
        "tap_to_relay_p99_over_floor_p99": percentile(taps, 0.99) / percentile(floor, 0.99),
        "tap_to_relay_taps": float(len(taps)),
        "tap_to_relay_store_passes": float(PASSES),
    }
