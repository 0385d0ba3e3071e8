"""Sync throughput: draining a backlog through mosquitto into the hub, acknowledgements included.

Three figures from one run on one throwaway mosquitto:

- ``raw_publish_records_per_s``, the floor: the very batch messages a gate
  sends (signed, 500 records each), published with paho-mqtt at QoS 1 and
  waited for until the broker acknowledged each; no database, no hub.
- ``sync_drain_records_per_s``: a gate with 20,000 unacknowledged records
  connects; the clock stops when the hub's acknowledgement of the last one
  is stored in the gate's journal.
- ``hub_ingest_records_per_s``: ten gates with 2,000 records each drain at
  once into one hub on SQLite.

The hub runs as ``portique-hub run`` in its own process, as it would on its
own machine; the gates share this one.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory

from firmware import config
from firmware.app import Gate, build_gate
from firmware.events import Shutdown
from firmware.journal.journal import Entry, Journal
from firmware.sync.keys import PUBLIC_FILE
from firmware.sync.protocol import gate_topic, seal
from firmware.trust import b64, key_id, read_public_key
from hub.devbroker import DevBroker
from hub.keys import init_keys
from hub.models import HubModels, database_url, open_hub

BACKLOG = 20_000
BATCH = 500
GATES, PER_GATE = 10, 2_000
WAIT_S = 120.0


def fill(journal: Journal, count: int, gate: str) -> None:
    """A backlog of refused taps, appended without waiting for the disk each time."""
    journal.db.execute_sql("PRAGMA synchronous=OFF")
    for index in range(count):
        journal.append(Entry(kind="decision", wall=time.time(), monotonic=float(index),
                             time_trusted=True, day="2026-11-22", museum="BENCH", gate=gate,
                             credential_kind="chip", credential=f"05{index:012X}",
                             admitted=False, reason="unknown_pass"))  # fmt: skip
    journal.db.execute_sql("PRAGMA synchronous=FULL")


def make_gate(workdir: Path, name: str, port: int, root: Path, count: int) -> Gate:
    settings = config.from_dict({
        "gate": {"museum": "BENCH", "gate": name, "data_dir": str(workdir / name)},
        "gpio": {"pin_factory": "mock"},
        "sync": {"port": port, "root_key": str(root), "batch_records": BATCH,
                 "max_in_flight": 8},
    }, source="bench")  # fmt: skip
    gate = build_gate(settings, pin_factory=MockFactory())
    fill(gate.journal, count, name)
    return gate


def register(m: HubModels, gate: Gate) -> None:
    public = read_public_key(gate.settings.gate.data_dir / PUBLIC_FILE)
    m.gate_key.create(museum="BENCH", gate=gate.settings.gate.gate,
                              public_key=b64(public), key_id=key_id(public),
                              added_at=time.time())  # fmt: skip


def drain(gates: list[Gate]) -> float:
    """Seconds from connecting until every gate stored the hub's last acknowledgement."""
    done = threading.Barrier(len(gates) + 1)
    for gate in gates:
        link, last = gate.sync, gate.journal.last_seq
        assert link is not None
        link.on_ack.append(lambda seq, last=last: seq == last and done.wait(WAIT_S))
    threads = [threading.Thread(target=g.loop.run, daemon=True) for g in gates]
    started = time.perf_counter()
    for gate, thread in zip(gates, threads, strict=True):
        thread.start()
        gate.start_sync()
    done.wait(WAIT_S)
    elapsed = time.perf_counter() - started
    for gate, thread in zip(gates, threads, strict=True):
        gate.stop_sync()
        gate.loop.post(Shutdown("benchmark done"))
        thread.join()
        gate.close()
    return elapsed


def raw_publish(port: int, payloads: list[bytes], topic: str) -> float:
    """Seconds to publish ``payloads`` at QoS 1 until the broker acknowledged them all."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-raw")
    client.max_inflight_messages_set(8)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.perf_counter()
    infos = [client.publish(topic, payload, qos=1) for payload in payloads]
    for info in infos:
        info.wait_for_publish(WAIT_S)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return elapsed


def batch_payloads(gate: Gate) -> list[bytes]:
    """The signed batch messages this gate's backlog makes, as its client would send them."""
    link, client = gate.sync, gate.sync_client
    assert link is not None and client is not None
    payloads = []
    for after in range(0, gate.journal.last_seq, BATCH):
        records = link.outbox.records(after, BATCH)
        body = {"type": "batch", "museum": "BENCH", "gate": gate.settings.gate.gate,
                "epoch": link.outbox.epoch, "sent_at": time.time(), "first_seq": records[0]["seq"],
                "last_seq": records[-1]["seq"], "records": records}  # fmt: skip
        payloads.append(seal(body, client.key, client.key_id))
    return payloads


def run(workdir: Path) -> dict[str, float]:
    # Eleven gates without a pass list, stopping on purpose: their warnings say nothing here.
    logging.getLogger("portique").setLevel(logging.ERROR)
    shutil.rmtree(workdir, ignore_errors=True)
    broker = DevBroker(workdir / "broker").start()
    hub_dir = workdir / "hub"
    root = init_keys(hub_dir, time.time())
    m = open_hub(database_url(hub_dir, None))
    hub = subprocess.Popen([sys.executable, "-m", "hub", "run", "--data", str(hub_dir),
                            "--port", str(broker.port)], stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        gate = make_gate(workdir, "backlog", broker.port, root, BACKLOG)
        register(m, gate)
        topic = gate_topic("BENCH", "raw-floor", "up", "batch")  # nobody listens there
        raw_s = raw_publish(broker.port, batch_payloads(gate), topic)
        drain_s = drain([gate])
        many = [make_gate(workdir, f"g{i}", broker.port, root, PER_GATE) for i in range(GATES)]
        for each in many:
            register(m, each)
        ingest_s = drain(many)
    finally:
        hub.terminate()
        hub.wait()
        m.db.close()
        broker.stop()
    raw, drained = BACKLOG / raw_s, BACKLOG / drain_s
    return {
        "raw_publish_records_per_s": raw,
        "sync_drain_records_per_s": drained,
        "sync_drain_over_raw_publish": drained / raw,
        "hub_ingest_records_per_s": GATES * PER_GATE / ingest_s,
        "sync_backlog_records": float(BACKLOG),
    }
