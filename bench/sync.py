"""Sync throughput: draining a backlog through mosquitto into the hub, acknowledgements included.

Figures from one run on one throwaway mosquitto (and PostgreSQL):

- ``raw_publish_records_per_s``, the floor: the very batch messages a gate
  sends (batch2, signed, 500 records each), published with paho-mqtt at QoS 1
  and waited for until the broker acknowledged each; no database, no hub.
- ``sync_drain_records_per_s``: a gate with 20,000 unacknowledged records
  connects; the clock stops when the hub's acknowledgement of the last one
  is stored in the gate's journal (``sync_drain_v1_records_per_s``: the same
  with a gate of the earlier batch format).
- ``hub_ingest_records_per_s``: ten gates with 2,000 records each drain at
  once into one hub on SQLite.
- ``hub_ingest_pg_records_per_s``: the same into two hub workers sharing a
  PostgreSQL database, beside ``pg_insert_floor_records_per_s``, the same
  rows inserted by psycopg in batches of 500 (one statement, one commit
  each), and ``hub_unpacked_pg_records_per_s``, until every row is in
  ``entry`` (batch2 is acknowledged raw and unpacked after).
- ``reconnect_storm_s``: 1,400 gates, each with its own key, send hello and
  status at once to the two workers, with a 41 MB list stored; until every
  gate got its answer (the pass change it lacks).

The hub runs as ``portique-hub run`` in its own processes, as it would on its
own machine; the gates share this one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory

from bench.pgcluster import PgCluster
from firmware import config
from firmware.app import Gate, build_gate
from firmware.events import Shutdown
from firmware.journal.journal import Entry, Journal
from firmware.protocol.record import COLUMNS
from firmware.sync.keys import PUBLIC_FILE
from firmware.sync.protocol import gate_topic, seal, seal_batch
from firmware.trust import b64, key_id, raw_public, read_public_key
from hub.activations import new_delta
from hub.devbroker import DevBroker
from hub.ingest import _ENTRY_COLUMNS
from hub.keys import init_keys
from hub.models import HubModels, database_url, open_hub

BACKLOG = 20_000
BATCH = 500
GATES, PER_GATE = 10, 2_000
STORM_GATES, STORM_LIST_BYTES = 1_400, 41_000_000
WAIT_S = 300.0


def fill(journal: Journal, count: int, gate: str) -> None:
    """A backlog of refused taps, appended without waiting for the disk each time."""
    journal.db.execute_sql("PRAGMA synchronous=OFF")
    for index in range(count):
        journal.append(Entry(kind="decision", wall=time.time(), monotonic=float(index),
                             time_trusted=True, day="2026-11-22", museum="BENCH", gate=gate,
                             credential_kind="chip", credential=f"05{index:012X}",
                             admitted=False, reason="unknown_pass"))  # fmt: skip
    journal.db.execute_sql("PRAGMA synchronous=FULL")


def make_gate(workdir: Path, name: str, port: int, root: Path, count: int,
              batch_format: int = 2) -> Gate:  # fmt: skip
    settings = config.from_dict({
        "gate": {"museum": "BENCH", "gate": name, "data_dir": str(workdir / name)},
        "gpio": {"pin_factory": "mock"},
        "status": {"runtime_dir": str(workdir / name / "run")},
        "sync": {"port": port, "root_key": str(root), "batch_records": BATCH,
                 "max_in_flight": 8, "batch_format": batch_format},
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
    """The signed batch2 messages this gate's backlog makes, as its client would send them."""
    link, client = gate.sync, gate.sync_client
    assert link is not None and client is not None
    payloads = []
    for after in range(0, gate.journal.last_seq, BATCH):
        records = link.outbox.records(after, BATCH)
        header = {"museum": "BENCH", "gate": gate.settings.gate.gate, "epoch": link.outbox.epoch,
                  "sent_at": time.time(), "first_seq": records[0]["seq"],
                  "last_seq": records[-1]["seq"]}  # fmt: skip
        rows = [[r[name] for name in COLUMNS] for r in records]
        payloads.append(seal_batch(header, rows, client.key, client.key_id))
    return payloads


def workers(hub_dir: Path, port: int, url: str | None, count: int) -> list[subprocess.Popen]:
    """``count`` hub workers (``portique-hub run``), once each is subscribed."""
    db = ["--db", url] if url else []
    procs, logs = [], []
    for index in range(count):
        log = hub_dir / f"worker-{index}.log"
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "--data", str(hub_dir), "--port", str(port),
             *db, "--client-id", f"bench-hub-{index}", "--gap-grace-s", "2"],
            stderr=log.open("wb")))  # fmt: skip
    deadline = time.monotonic() + WAIT_S
    pause = threading.Event()
    while not all(log.exists() and b"connected, listening" in log.read_bytes() for log in logs):
        if time.monotonic() > deadline:
            raise RuntimeError(f"hub workers did not subscribe: see {hub_dir}")
        pause.wait(0.05)
    return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=WAIT_S)


def pg_insert_floor(url: str, gates: list[Gate]) -> float:
    """Seconds to insert the gates' rows as ingest does, bare: batches of 500, a commit each."""
    import psycopg

    open_hub(url).db.close()  # the hub's tables
    sql = (f"INSERT INTO entry ({', '.join(_ENTRY_COLUMNS)}) VALUES "
           f"({', '.join(['%s'] * len(_ENTRY_COLUMNS))}) ON CONFLICT DO NOTHING")  # fmt: skip
    batches = []
    for gate in gates:
        assert gate.sync is not None
        for after in range(0, gate.journal.last_seq, BATCH):
            records = gate.sync.outbox.records(after, BATCH)
            batches.append([[r[n] for n in COLUMNS] + [gate.journal.epoch, 0.0] for r in records])
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for rows in batches:
            with conn.cursor() as cursor:
                cursor.executemany(sql, rows)
            conn.commit()
        return time.perf_counter() - started


def wait_unpacked(m: HubModels, count: int) -> None:
    deadline = time.monotonic() + WAIT_S
    pause = threading.Event()
    while m.entry.select().count() < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {m.entry.select().count()} of {count} rows unpacked")
        pause.wait(0.05)


def reconnect_storm(port: int, m: HubModels) -> float:
    """Seconds from 1,400 gates' hello and status until each got its answer."""
    data = os.urandom(STORM_LIST_BYTES)  # stored as a list would be; never sent (gates have it)
    m.list_release.create(version=5, museum="*", gate="*", sha256=hashlib.sha256(data).hexdigest(),
                          size=len(data), data=data, published_at=time.time())  # fmt: skip
    with m.db.atomic():
        new_delta(m, time.time(), kind="block", serial="04A1B2C3D4E501", state="blocked")
    gates = [(f"S{i // 4:03d}", f"g{i % 4}", Ed25519PrivateKey.generate())
             for i in range(STORM_GATES)]  # fmt: skip
    now = time.time()
    with m.db.atomic():
        m.gate_key.insert_many([{"museum": museum, "gate": gate, "added_at": now,
                                 "public_key": b64(raw_public(key.public_key())),
                                 "key_id": key_id(raw_public(key.public_key()))}
                                for museum, gate, key in gates]).execute()  # fmt: skip
    messages = []
    for museum, gate, key in gates:
        signer, epoch = key_id(raw_public(key.public_key())), os.urandom(16).hex()
        common = {"museum": museum, "gate": gate, "epoch": epoch, "sent_at": now, "last_seq": 0,
                  "list_version": 5}  # fmt: skip
        hello = {"type": "hello", **common, "acked_seq": 0, "delta_seq": 0, "list_partial": None}
        status = {"type": "status", **common, "session": os.urandom(16).hex(), "n": 1,
                  "online": True, "list_age_s": 0.0, "backlog": 0, "last_ack_seq": 0,
                  "last_ack_at": None, "reader_up": True, "reader_detail": "",
                  "journal_ok": True, "time_trusted": True, "broker_connected": True}  # fmt: skip
        messages.append((gate_topic(museum, gate, "up", "hello"), seal(hello, key, signer)))
        messages.append((gate_topic(museum, gate, "up", "status"), seal(status, key, signer)))
    answered: set[str] = set()
    everyone = threading.Event()

    def heard(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        answered.add(message.topic)
        if len(answered) == STORM_GATES:
            everyone.set()

    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-storm-ears")
    listener.on_message = heard
    listener.connect("127.0.0.1", port)
    listener.loop_start()
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-storm-gates")
    sender.max_inflight_messages_set(1000)
    sender.connect("127.0.0.1", port)
    sender.loop_start()
    subscribed = threading.Event()
    listener.on_subscribe = lambda *_args: subscribed.set()
    listener.subscribe("portique/v1/+/+/down/deltas", qos=1)
    subscribed.wait(WAIT_S)
    started = time.perf_counter()
    for topic, payload in messages:
        sender.publish(topic, payload, qos=1)
    if not everyone.wait(WAIT_S):
        raise RuntimeError(f"only {len(answered)} of {STORM_GATES} gates answered")
    elapsed = time.perf_counter() - started
    for client in (sender, listener):
        client.disconnect()
        client.loop_stop()
    return elapsed


def run(workdir: Path) -> dict[str, float]:
    # Gates without a pass list, stopping on purpose: their warnings say nothing here.
    logging.getLogger("portique").setLevel(logging.ERROR)
    shutil.rmtree(workdir, ignore_errors=True)
    broker = DevBroker(workdir / "broker").start()
    hub_dir = workdir / "hub"
    root = init_keys(hub_dir, time.time())
    m = open_hub(database_url(hub_dir, None))
    hub = workers(hub_dir, broker.port, None, 1)
    try:
        gate = make_gate(workdir, "backlog", broker.port, root, BACKLOG)
        register(m, gate)
        topic = gate_topic("BENCH", "raw-floor", "up", "batch2")  # nobody listens there
        raw_s = raw_publish(broker.port, batch_payloads(gate), topic)
        drain_s = drain([gate])
        old = make_gate(workdir, "backlog-v1", broker.port, root, BACKLOG, batch_format=1)
        register(m, old)
        drain_v1_s = drain([old])
        many = [make_gate(workdir, f"g{i}", broker.port, root, PER_GATE) for i in range(GATES)]
        for each in many:
            register(m, each)
        ingest_s = drain(many)
    finally:
        stop(hub)
        m.db.close()
    pg = PgCluster().start()
    try:
        floor_gates = [make_gate(workdir, f"f{i}", broker.port, root, PER_GATE)
                       for i in range(GATES)]  # fmt: skip
        floor_s = pg_insert_floor(pg.create("floor"), floor_gates)
        for each in floor_gates:
            each.close()
        url = pg.create("hub")
        pg_dir = workdir / "hub-pg"
        shutil.copytree(hub_dir, pg_dir, ignore=shutil.ignore_patterns("hub.sqlite*", "*.log"))
        m = open_hub(url)
        pg_workers = workers(pg_dir, broker.port, url, 2)
        try:
            many = [make_gate(workdir, f"p{i}", broker.port, root, PER_GATE)
                    for i in range(GATES)]  # fmt: skip
            for each in many:
                register(m, each)
            started = time.perf_counter()
            ingest_pg_s = drain(many)
            wait_unpacked(m, GATES * PER_GATE)
            unpacked_pg_s = time.perf_counter() - started
            storm_s = reconnect_storm(broker.port, m)
        finally:
            stop(pg_workers)
            m.db.close()
    finally:
        pg.stop()
        broker.stop()
    raw, drained = BACKLOG / raw_s, BACKLOG / drain_s
    rows = GATES * PER_GATE
    return {
        "raw_publish_records_per_s": raw,
        "sync_drain_records_per_s": drained,
        "sync_drain_over_raw_publish": drained / raw,
        "sync_drain_v1_records_per_s": BACKLOG / drain_v1_s,
        "hub_ingest_records_per_s": rows / ingest_s,
        "hub_ingest_pg_records_per_s": rows / ingest_pg_s,
        "hub_unpacked_pg_records_per_s": rows / unpacked_pg_s,
        "pg_insert_floor_records_per_s": rows / floor_s,
        "hub_ingest_pg_over_floor": floor_s / ingest_pg_s,
        "reconnect_storm_s": storm_s,
        "reconnect_storm_gates": float(STORM_GATES),
        "sync_backlog_records": float(BACKLOG),
    }
