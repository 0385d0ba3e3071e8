"""Faults, each against a real mosquitto: nothing lost, nothing doubled, nothing crashes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import peewee
import pytest
from conftest import ACTIVE, DEMO_KEYS
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases
from syncworld import (
    WAIT_S,
    Hub,
    LogWatch,
    Mosquitto,
    Spy,
    SyncGate,
    fill_journal,
    sync_section,
    wait_until,
)

from firmware.events import CardTapped
from firmware.journal.journal import Journal
from firmware.sync.protocol import seal
from firmware.trust import key_id, raw_public
from hub.publish import Publisher


def assert_once_in_order(hub: Hub, museum: str, gate: str, count: int) -> None:
    seqs = hub.seqs(museum, gate)
    assert len(seqs) == count and seqs == list(range(1, count + 1))
    assert [kind for kind, _ in hub.problems() if kind != "gap"] == []


def test_broker_down_while_20000_records_accumulate_then_back(
    broker: Mosquitto, hub: Hub, make_gate
) -> None:
    gate = make_gate(batch_records=500, max_in_flight=8)
    broker.stop()
    wait_until(lambda: not gate.link.connected, "gate saw the broker go")
    assert gate.fill(20_000) == 20_000
    assert gate.acked == 0 and gate.link.status(0)["backlog"] == 0  # not refreshed while offline
    broker.start()
    hub.wait_stored("M1", "G1", 20_000)
    gate.wait_acked(20_000)
    assert_once_in_order(hub, "M1", "G1", 20_000)


def test_broker_killed_and_restarted_mid_batch(broker: Mosquitto, hub: Hub, make_gate) -> None:
    # Small batches one at a time: 200 round trips, so the kill lands mid-drain even
    # though the hub acknowledges batch2 as soon as it is stored raw.
    gate = make_gate(batch_records=25, max_in_flight=1)
    gate.fill(5000)
    hub.wait_stored("M1", "G1", 1)
    broker.stop(signal.SIGKILL)
    assert hub.stored("M1", "G1") < 5000, "the drain ended before the broker was killed"
    broker.start()
    hub.wait_stored("M1", "G1", 5000)
    gate.wait_acked(5000)
    assert_once_in_order(hub, "M1", "G1", 5000)


def hub_process(hub: Hub, broker: Mosquitto) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub",
            "run",
            "--data",
            str(hub.dir),
            "--port",
            str(broker.port),
            *hub.cli_db,
        ],
        stderr=subprocess.DEVNULL,
    )


@both_databases
def test_hub_killed_and_restarted_mid_batch(
    tmp_path: Path, broker: Mosquitto, make_settings, db_url: str | None
) -> None:
    # Runs as `portique-hub run`, killed with -9.
    hub = Hub(tmp_path / "hub-proc", broker.port, db_url=db_url)
    settings = make_settings(sync=sync_section(broker, hub, batch_records=20, max_in_flight=1))
    gate = SyncGate(settings)
    hub.register("M1", "G1", settings.gate.data_dir)
    process = hub_process(hub, broker)
    try:
        gate.start()
        gate.fill(2000)
        wait_until(lambda: hub.stored("M1", "G1") > 0, "first records at the hub")
        process.kill()
        process.wait()
        assert hub.stored("M1", "G1") < 2000, "the drain ended before the hub was killed"
        process = hub_process(hub, broker)
        gate.wait_acked(2000)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=WAIT_S)
        gate.stop()
    assert_once_in_order(hub, "M1", "G1", 2000)


@both_databases
def test_the_same_batch_delivered_twice_is_stored_once(
    broker: Mosquitto, hub: Hub, make_gate, logs: LogWatch
) -> None:
    gate = make_gate(start=False)
    key = gate.gate.sync_client.key
    fill_journal(gate.journal, 3)  # the loop is not running: the test owns the journal
    records = gate.link.outbox.records(0, 10)
    body = {"type": "batch", "museum": "M1", "gate": "G1", "sent_at": time.time(),
            "first_seq": 1, "last_seq": 3, "records": records}  # fmt: skip
    payload = seal(body, key, key_id(raw_public(key.public_key())))
    spy = Spy(broker.port)
    spy.publish("portique/v1/M1/G1/up/batch", payload)
    spy.publish("portique/v1/M1/G1/up/batch", payload)
    logs.wait_for("batch 1..3 already stored: duplicate, nothing stored")
    assert hub.seqs("M1", "G1") == [1, 2, 3]
    spy.close()


def test_gate_killed_mid_batch_resumes_from_its_journal(
    tmp_path: Path, broker: Mosquitto, hub: Hub, demo_signed_list: Path
) -> None:
    data = tmp_path / "gate-data"
    config = tmp_path / "gate.toml"
    config.write_text(f"""
[gate]
museum = "M1"
gate = "G1"
data_dir = "{data}"
[reader]
path = "udp:127.0.0.1:{broker.port}"
[gpio]
pin_factory = "mock"
[status]
runtime_dir = "{tmp_path / "run"}"
[lists]
root_key = "{DEMO_KEYS / "root.pub"}"
allow_demo_keys = true
install_at_start = "{demo_signed_list}"
[sync]
port = {broker.port}
root_key = "{hub.root_pub}"
batch_records = 20
max_in_flight = 1
ack_timeout_s = 2
""")
    portique = [sys.executable, "-m", "firmware"]
    subprocess.run([*portique, "key", "-c", str(config)], check=True, capture_output=True)
    hub.register("M1", "G1", data)
    journal = Journal.open(data / "journal.sqlite")
    fill_journal(journal, 2000)
    journal.close()
    run = [*portique, "run", "-c", str(config)]
    daemon = subprocess.Popen(run, stderr=subprocess.DEVNULL)
    try:
        hub.wait_stored("M1", "G1", 1)
        daemon.kill()  # SIGKILL: no goodbye; the broker publishes the last will
        daemon.wait()
        assert hub.stored("M1", "G1") < 2000, "the drain ended before the gate was killed"
        p = hub.m.progress
        hub.wait(lambda: not p.get(p.gate == "G1").online, WAIT_S, "last will: offline")
        daemon = subprocess.Popen(run, stderr=subprocess.DEVNULL)
        hub.wait_stored("M1", "G1", 2000)
        wait_until(lambda: last_ack(data) == 2000, "the gate stored the last acknowledgement")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=WAIT_S)
    assert_once_in_order(hub, "M1", "G1", 2000)


def last_ack(data: Path) -> int:
    journal = Journal.open(data / "journal.sqlite", readonly=True)
    try:
        return journal.models.ack.select(peewee.fn.MAX(journal.models.ack.seq)).scalar() or 0
    finally:
        journal.close()


# -- bad messages on every topic ---------------------------------------------------------

ROGUE = Ed25519PrivateKey.generate()
ROGUE_ID = key_id(raw_public(ROGUE.public_key()))


def forged(payload: bytes) -> bytes:
    """The same envelope with its signature made by an unknown key, keeping the signer id."""
    document = json.loads(payload)
    resealed = json.loads(seal(document["body"], ROGUE, document["signer"], document.get("cert")))
    return json.dumps(resealed).encode()


def unsigned(payload: bytes) -> bytes:
    return json.dumps({"body": json.loads(payload)["body"]}).encode()


BAD = {
    "malformed": lambda good, limit: b'{"body": [1, 2',
    "oversized": lambda good, limit: b" " * (limit + 1),
    "unsigned": lambda good, limit: unsigned(good),
    "wrongly signed": lambda good, limit: forged(good),
}
REFUSAL = {"malformed": "malformed", "oversized": "oversized", "unsigned": "unsigned",
           "wrongly signed": "bad_signature"}  # fmt: skip


def gate_snapshot(gate: SyncGate) -> tuple:
    m = gate.journal.models
    return (
        [(a.seq, a.hash) for a in m.ack.select()],
        [r.serial for r in m.remote_pass.select()],
        [(s.key, s.value) for s in m.setting.select().where(m.setting.key.startswith("sync."))],
    )


@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_messages_to_the_gate_are_refused_and_nothing_changes(
    broker: Mosquitto, hub: Hub, make_gate, logs: LogWatch, bad: str
) -> None:
    gate = make_gate(max_message_bytes=64 * 1024)
    gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
    gate.wait_acked(1)
    record_hash = gate.journal.models.record.get_by_id(1).hash
    now = time.time()
    goods = {
        "ack": {"type": "ack", "museum": "M1", "gate": "G1", "issued_at": now, "seq": 1,
                "hash": record_hash, "epoch": gate.journal.epoch},
        "command": {"type": "command", "museum": "M1", "gate": "G1", "issued_at": now,
                    "n": 99, "command": "resend", "from_seq": 1},
        "deltas": {"type": "deltas", "museum": "M1", "gate": "G1", "issued_at": now,
                   "items": [{"dseq": 1, "kind": "block", "serial": ACTIVE, "state": "blocked",
                              "pass_number": None, "id_number": None, "pass_type": None,
                              "activated_on": None, "expires_on": None, "origin_museum": None,
                              "origin_gate": None}]},
        "beacon": {"type": "beacon", "museum": "*", "gate": "*", "issued_at": now + 10},
        "list/manifest": {"type": "list_manifest", "museum": "M1", "gate": "G1",
                          "issued_at": now, "version": 5, "size": 2000, "sha256": "0" * 64,
                          "chunk_size": 65536, "chunks": 1, "chunk_sha256": ["0" * 64]},
    }  # fmt: skip
    before = gate_snapshot(gate)
    spy = Spy(broker.port)
    for name, body in goods.items():
        payload = BAD[bad](hub.signer.seal(body), 64 * 1024)
        spy.publish(f"portique/v1/M1/G1/down/{name}", payload)
        logs.wait_for(f"refused message on portique/v1/M1/G1/down/{name}: {REFUSAL[bad]}")
    chunk = {"type": "list_chunk", "version": 5, "sha256": "0" * 64, "index": 0, "data": "AA=="}
    spy.publish("portique/v1/M1/G1/down/list/chunk", json.dumps(chunk).encode())
    logs.wait_for("down/list/chunk: unexpected")
    spy.close()
    assert gate_snapshot(gate) == before
    gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
    gate.wait_acked(2)  # it still works


def test_replayed_messages_to_the_gate_are_refused(
    broker: Mosquitto, hub: Hub, make_gate, logs: LogWatch
) -> None:
    gate = make_gate()
    gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
    gate.wait_acked(1)
    now = time.time()
    spy = Spy(broker.port)
    record_hash = gate.journal.models.record.get_by_id(1).hash
    ack = {"type": "ack", "museum": "M1", "gate": "G1", "issued_at": now, "seq": 1,
           "hash": record_hash, "epoch": gate.journal.epoch}  # fmt: skip
    spy.publish("portique/v1/M1/G1/down/ack", hub.signer.seal(ack))
    logs.wait_for("acknowledgement of record 1 refused: stale")
    command = {"type": "command", "museum": "M1", "gate": "G1", "issued_at": now, "n": 1,
               "command": "resend", "from_seq": 1}  # fmt: skip
    for _ in range(2):
        spy.publish("portique/v1/M1/G1/down/command", hub.signer.seal(command))
    logs.wait_for("resend command 1 refused: replayed")
    # A command for another gate, replayed on this gate's topic:
    other = {**command, "gate": "G9", "n": 2}
    spy.publish("portique/v1/M1/G1/down/command", hub.signer.seal(other))
    logs.wait_for("not_addressed")
    item = {"dseq": 1, "kind": "block", "serial": "04AAAAAAAAAAAA", "state": "blocked",
            "pass_number": None, "id_number": None, "pass_type": None, "activated_on": None,
            "expires_on": None, "origin_museum": None, "origin_gate": None}  # fmt: skip
    deltas = {"type": "deltas", "museum": "*", "gate": "*", "issued_at": now, "items": [item]}
    for _ in range(2):
        spy.publish("portique/v1/all/down/deltas", hub.signer.seal(deltas))
    logs.wait_for("deltas refused: replayed")
    manifest_data = b"z" * 100
    publisher = Publisher(spy.client, hub.signer, time.time)
    publisher.list_file(manifest_data, version=4, museum="M1", gate="G1")
    logs.wait_for("list received, 100 bytes")
    publisher.list_file(manifest_data, version=4, museum="M1", gate="G1")
    logs.wait_for("list version 4 is not newer than 4")
    spy.close()


@pytest.mark.parametrize("bad", sorted(BAD))
def test_bad_messages_to_the_hub_are_refused_and_nothing_is_stored(
    broker: Mosquitto, hub: Hub, make_gate, logs: LogWatch, bad: str
) -> None:
    gate = make_gate(start=False)
    fill_journal(gate.journal, 2)
    key = gate.gate.sync_client.key
    signer = key_id(raw_public(key.public_key()))
    now = time.time()
    base = {"museum": "M1", "gate": "G1", "sent_at": now}
    bodies = {
        "batch": {"type": "batch", **base, "first_seq": 1, "last_seq": 2,
                  "records": gate.link.outbox.records(0, 2)},
        "status": {"type": "status", **base, "session": "a" * 32, "n": 1, "online": True,
                   "list_version": 0, "list_age_s": None, "backlog": 0, "last_seq": 0,
                   "last_ack_seq": 0, "last_ack_at": None, "reader_up": True,
                   "reader_detail": "", "journal_ok": True, "time_trusted": True,
                   "broker_connected": True},
        "hello": {"type": "hello", **base, "last_seq": 2, "acked_seq": 0, "delta_seq": 0,
                  "list_version": 0, "list_partial": None},
    }  # fmt: skip
    hub_limit = 16 * 1024 * 1024
    spy = Spy(broker.port)
    for name, body in bodies.items():
        payload = BAD[bad](seal(body, key, signer), hub_limit)
        spy.publish(f"portique/v1/M1/G1/up/{name}", payload)
        logs.wait_for(f"hub: refused message on portique/v1/M1/G1/up/{name}: {REFUSAL[bad]}")
    spy.close()
    p = hub.m.progress
    assert hub.seqs("M1", "G1") == [] and p.get_or_none(p.gate == "G1") is None


def test_replayed_and_misdirected_messages_to_the_hub_are_refused(
    broker: Mosquitto, hub: Hub, make_gate, logs: LogWatch
) -> None:
    make_gate()
    other = make_gate("G2", start=False)
    key = other.gate.sync_client.key
    signer = key_id(raw_public(key.public_key()))
    status = {"type": "status", "museum": "M1", "gate": "G2", "sent_at": time.time(),
              "session": "b" * 32, "n": 1, "online": True, "list_version": 0,
              "list_age_s": None, "backlog": 0, "last_seq": 0, "last_ack_seq": 0,
              "last_ack_at": None, "reader_up": True, "reader_detail": "", "journal_ok": True,
              "time_trusted": True, "broker_connected": True}  # fmt: skip
    spy = Spy(broker.port)
    payload = seal(status, key, signer)
    spy.publish("portique/v1/M1/G2/up/status", payload)
    spy.publish("portique/v1/M1/G2/up/status", payload)
    logs.wait_for("up/status: replayed")
    # G2's signed message published on G1's topic:
    spy.publish("portique/v1/M1/G1/up/status", payload)
    logs.wait_for("up/status: wrong_topic")
    # A gate the hub does not know:
    spy.publish("portique/v1/M9/G9/up/status", seal({**status, "museum": "M9", "gate": "G9"},
                                                     ROGUE, ROGUE_ID))  # fmt: skip
    logs.wait_for("unknown_gate")
    spy.close()
    assert hub.seqs("M1", "G2") == [] and hub.problems() == []
