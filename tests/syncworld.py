"""Small worlds for the sync tests: a real mosquitto, a real hub, gates on real files.

Nothing here sleeps to let things happen: waits are on conditions the code
under test notifies (the hub's handled messages, the gate's acknowledgements,
log lines), or, across processes, a bounded poll of the database.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from conftest import DEMO_KEYS
from gpiozero.pins.mock import MockFactory

from firmware import config
from firmware.app import Gate, build_gate
from firmware.clock import SystemClock
from firmware.demo import write_demo, write_demo_list
from firmware.events import Shutdown
from firmware.journal.journal import Entry, Journal
from firmware.sync.keys import PUBLIC_FILE
from firmware.trust import b64, key_id, read_public_key
from hub.devbroker import DevBroker
from hub.keys import HubSigner, init_keys
from hub.models import HubModels, database_url, open_hub
from hub.publish import Broker
from hub.service import HubService, HubSettings

WAIT_S = 60.0  # an upper bound for something to happen, never a timing assertion


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll ``predicate`` with short waits, for state in another process."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        pause.wait(0.02)


Mosquitto = DevBroker  # a real mosquitto on a free loopback port, generated config


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    running = Mosquitto(tmp_path / "broker").start()
    yield running
    running.stop(signal.SIGKILL)


class Hub:
    """A hub on its own folder; ``service`` runs in this process once started."""

    def __init__(self, directory: Path, port: int, broker: Broker | None = None,
                 db_url: str | None = None) -> None:  # fmt: skip
        self.dir = directory
        self.root_pub = init_keys(directory, time.time())
        self.signer = HubSigner.load(directory)
        url = database_url(directory, db_url)
        broker = broker or Broker(port=port)
        self.settings = HubSettings(directory, url, broker, beacon_interval_s=3600)
        self.m: HubModels = open_hub(self.settings.db_url)  # the test's own connection
        # What `portique-hub` needs to find the same database.
        self.cli_db: list[str] = ["--db", db_url] if db_url else []
        self.service: HubService | None = None

    def register(self, museum: str, gate: str, data_dir: Path) -> None:
        public = read_public_key(data_dir / PUBLIC_FILE)
        self.m.gate_key.create(museum=museum, gate=gate, public_key=b64(public),
                               key_id=key_id(public), added_at=time.time())  # fmt: skip

    def start(self) -> Hub:
        self.service = HubService(self.settings)
        self.service.start()
        return self

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def stored(self, museum: str, gate: str, epoch: str | None = None) -> int:
        """How far journal ``epoch`` (default: the gate's newest) is stored without a hole."""
        j = self.m.incarnation
        query = j.select().where(j.museum == museum, j.gate == gate)
        if epoch is not None:
            query = query.where(j.epoch == epoch)
        row = query.order_by(j.first_seen_at.desc(), j.id.desc()).first()
        return row.contiguous_seq if row else 0

    def unpacked(self) -> None:
        """Until every batch acknowledged raw (batch2) is unpacked into entries."""
        from hub.rawbatch import bind_raw

        r = bind_raw(self.m.db)
        wait_until(lambda: not r.select().where(~r.unpacked).exists(), "raw batches unpacked")

    def seqs(self, museum: str, gate: str, epoch: str | None = None) -> list[int]:
        """Stored sequence numbers (of every journal, or of ``epoch``) in the order stored."""
        self.unpacked()
        e = self.m.entry
        query = e.select(e.seq).where(e.museum == museum, e.gate == gate).order_by(e.id)
        if epoch is not None:
            query = query.where(e.epoch == epoch)
        return [seq for (seq,) in query.tuples()]

    def problems(self) -> list[tuple[str, int | None]]:
        self.unpacked()
        p = self.m.problem
        return [(row.kind, row.seq) for row in p.select().order_by(p.id)]

    def wait_stored(self, museum: str, gate: str, count: int, timeout: float = WAIT_S) -> None:
        self.wait(lambda: self.stored(museum, gate) >= count, timeout,
                  f"{museum}/{gate}: {count} records stored")  # fmt: skip

    def wait_hello(self, museum: str, gate: str) -> None:
        """Until the gate said hello: it is connected and subscribed to what the hub sends."""
        p = self.m.progress
        self.wait(lambda: p.select().where(p.museum == museum, p.gate == gate,
                                           p.hello_sent_at > 0).exists(),
                  WAIT_S, f"{museum}/{gate} said hello")  # fmt: skip

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Check ``predicate`` after every message the hub handles."""
        assert self.service is not None
        with self.service.handled_event:
            ok = self.service.handled_event.wait_for(predicate, timeout)
        assert ok, f"hub: {what}: not within {timeout} s (stored: {self.problems()})"


@pytest.fixture
def hub(tmp_path: Path, broker: Mosquitto, db_url: str | None) -> Iterator[Hub]:
    """A running hub on SQLite, or on PostgreSQL where the test says (``db_kind``)."""
    running = Hub(tmp_path / "hub", broker.port, db_url=db_url).start()
    yield running
    running.stop()
    running.m.db.close()


class SyncGate:
    """A gate whose loop runs in a thread, with its MQTT client, as ``portique run`` has it."""

    def __init__(self, settings: config.Settings) -> None:
        self.settings = settings
        self.gate: Gate = build_gate(settings, pin_factory=MockFactory())
        self.loop, self.journal = self.gate.loop, self.gate.journal
        self.link = self.gate.sync
        assert self.link is not None
        self.museum, self.name = settings.gate.museum, settings.gate.gate
        self._acked = threading.Condition()
        self.link.on_ack.append(lambda _seq: self._notify())
        self._thread = threading.Thread(target=self.loop.run, name=f"loop-{self.name}")

    def _notify(self) -> None:
        with self._acked:
            self._acked.notify_all()

    def start(self) -> SyncGate:
        self._thread.start()
        self.gate.start_sync()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.gate.stop_sync()
            self.loop.post(Shutdown("test done"))
            self._thread.join(timeout=WAIT_S)
        self.gate.close()

    def on_loop(self, action: Callable[[], Any]) -> Any:
        """Run ``action`` on the loop's thread (the owner of the journal); return its result."""
        done, result = threading.Event(), []
        self.loop.post(lambda _eventtime: (result.append(action()), done.set()))
        assert done.wait(WAIT_S), "the loop did not run the action"
        return result[0]

    @property
    def acked(self) -> int:
        return self.link.outbox.acked_seq

    def wait_acked(self, seq: int, timeout: float = WAIT_S) -> None:
        with self._acked:
            ok = self._acked.wait_for(lambda: self.acked >= seq, timeout)
        assert ok, f"gate {self.name}: acknowledged {self.acked}, expected {seq}"

    def fill(self, count: int) -> int:
        """Append ``count`` records on the loop, then let sync send them as after a tap."""

        def fill_and_pump() -> int:
            last = fill_journal(self.journal, count, self.museum, self.name)
            self.link.pump()
            return last

        return self.on_loop(fill_and_pump)


def fill_journal(journal: Journal, count: int, museum: str = "M1", gate: str = "G1") -> int:
    """Append ``count`` refused taps quickly (durability off while filling); return last seq."""
    journal.db.execute_sql("PRAGMA synchronous=OFF")
    try:
        for index in range(count):
            journal.append(
                Entry(
                    kind="decision",
                    wall=1_790_000_000.0 + index,
                    monotonic=float(index),
                    time_trusted=True,
                    day="2026-09-22",
                    museum=museum,
                    gate=gate,
                    credential_kind="chip",
                    credential=f"05{index:012X}",
                    admitted=False,
                    reason="unknown_pass",
                )  # fmt: skip
            )
    finally:
        journal.db.execute_sql("PRAGMA synchronous=FULL")
    return journal.last_seq


def sync_section(broker: Mosquitto, hub: Hub, **overrides: Any) -> dict[str, Any]:
    return {"port": broker.port, "root_key": str(hub.root_pub), "ack_timeout_s": 2.0,
            **overrides}  # fmt: skip


@pytest.fixture
def make_gate(
    tmp_path: Path, make_settings: Callable[..., config.Settings], broker: Mosquitto, hub: Hub
) -> Iterator[Callable[..., SyncGate]]:
    gates: list[SyncGate] = []
    # These gates run on the system clock: their list is today's, signed now.
    now = SystemClock().wall()
    passes, types = write_demo(tmp_path / "today", datetime.fromtimestamp(now).date(), filler=50)
    today_list = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "today" / "list.pql", now,
                                 version=1)  # fmt: skip

    def make(name: str = "G1", museum: str = "M1", start: bool = True, **sync: Any) -> SyncGate:
        settings = make_settings(
            gate={"museum": museum, "gate": name, "data_dir": str(tmp_path / f"gate-{name}")},
            lists={"install_at_start": str(today_list)},
            sync=sync_section(broker, hub, **sync),
        )
        gate = SyncGate(settings)
        gates.append(gate)
        hub.register(museum, name, settings.gate.data_dir)
        if start:
            gate.start()
            hub.wait_hello(museum, name)
        return gate

    yield make
    for gate in gates:
        gate.stop()


class LogWatch(logging.Handler):
    """Collects log lines from every thread; a test waits for one to appear."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.changed:
            self.lines.append(record.getMessage())
            self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = WAIT_S) -> str:
        with self.changed:
            found = self.changed.wait_for(
                lambda: next((line for line in self.lines if text in line), None), timeout
            )
        assert found, f"no log line with {text!r}; lines:\n" + "\n".join(self.lines[-30:])
        return found


@pytest.fixture
def logs() -> Iterator[LogWatch]:
    watch = LogWatch()
    root = logging.getLogger("portique")
    root.addHandler(watch)
    old = root.level
    root.setLevel(logging.INFO)
    yield watch
    root.removeHandler(watch)
    root.setLevel(old)


class Spy:
    """A plain MQTT client: publishes raw payloads, records what it hears."""

    def __init__(self, port: int, subscribe: str | None = None,
                 login: tuple[str, str] | None = None, client_id: str = "") -> None:  # fmt: skip
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if login:
            self.client.username_pw_set(*login)
        self.heard: list[tuple[str, bytes]] = []
        self.client.on_message = lambda _c, _u, m: self.heard.append((m.topic, m.payload))
        self.client.connect("127.0.0.1", port)
        if subscribe:
            self.client.subscribe(subscribe, qos=1)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(WAIT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
