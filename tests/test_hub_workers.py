"""Several hub workers: real `portique-hub run` processes sharing the gates' traffic.

They join one MQTT v5 shared subscription and one database. The attack: a
worker is killed with SIGKILL while batches flow; the survivor must end with
every record of every gate stored exactly once, in order, and every gate
acknowledged to its last record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases
from syncworld import WAIT_S, Hub, Mosquitto, Spy, SyncGate, sync_section, wait_until

from firmware.sync.protocol import seal
from firmware.trust import key_id, raw_public
from hub.activations import new_delta
from hub.models import register_gate

GATES, RECORDS = 4, 1500


def worker(hub: Hub, broker: Mosquitto, name: str, log: Path,
           *extra: str) -> subprocess.Popen[bytes]:  # fmt: skip
    """One worker, as systemd would start it, its log (with each message handled) in ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "hub", "run", "--data", str(hub.dir), "--port", str(broker.port),
         *hub.cli_db, "--client-id", f"portique-hub-{name}", "-v",
         # The killed worker's session ends at once, so what it held is gone for good
         # (the harder case: the gates must send it again, to the survivor).
         "--session-expiry-s", "0", "--gap-grace-s", "1", *extra],
        stderr=log.open("wb"),
    )  # fmt: skip


def handled(log: Path) -> int:
    return log.read_text(errors="replace").count("hub: handled ")


def wait_listening(*logs: Path) -> None:
    """Until every worker subscribed: a drain that starts earlier may go to one alone."""
    wait_until(lambda: all("connected, listening" in log.read_text(errors="replace")
                           for log in logs), "workers subscribed")  # fmt: skip


@both_databases
def test_a_worker_killed_mid_traffic_leaves_the_other_to_store_everything_once(
    tmp_path: Path, broker: Mosquitto, make_settings, db_url: str | None
) -> None:
    hub = Hub(tmp_path / "hub", broker.port, db_url=db_url)
    gates = []
    for index in range(GATES):
        name = f"G{index}"
        settings = make_settings(
            gate={"gate": name, "data_dir": str(tmp_path / name)},
            sync=sync_section(broker, hub, batch_records=25, max_in_flight=4),
        )
        gates.append(SyncGate(settings))
        hub.register("M1", name, settings.gate.data_dir)
    logs = {name: tmp_path / f"worker-{name}.log" for name in ("a", "b")}
    workers = {name: worker(hub, broker, name, log) for name, log in logs.items()}
    try:
        wait_listening(*logs.values())
        for gate in gates:
            gate.start()
            gate.fill(RECORDS)
        # Both share the traffic before one dies.
        wait_until(lambda: all(handled(log) >= 10 for log in logs.values()),
                   "both workers handling messages")  # fmt: skip
        workers["a"].kill()
        workers["a"].wait()
        total = sum(hub.stored("M1", gate.name) for gate in gates)
        assert total < GATES * RECORDS, "the drain ended before the worker was killed"
        for gate in gates:
            gate.wait_acked(RECORDS, timeout=2 * WAIT_S)
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=WAIT_S)
        for gate in gates:
            gate.stop()
    e, q = hub.m.entry, hub.m.quarantine
    for gate in gates:
        assert hub.stored("M1", gate.name) == RECORDS
        assert sorted(hub.seqs("M1", gate.name)) == list(range(1, RECORDS + 1))
    assert e.select().count() == GATES * RECORDS  # once each: none twice
    assert q.select().count() == 0
    assert [kind for kind, _ in hub.problems() if kind != "gap"] == []
    assert handled(logs["b"]) > 0
    hub.m.db.close()


@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_gates_reconnecting_at_once_are_each_answered_by_one_of_two_workers(
    tmp_path: Path, broker: Mosquitto, db_url: str | None
) -> None:
    # A broker restart: every gate says hello and status at the same moment, so the two
    # workers race to create the same gates' rows. Each hello must be answered once, and
    # none taken for a replay because another worker's write got in first.
    hub = Hub(tmp_path / "hub", broker.port, db_url=db_url)
    with hub.m.db.atomic():
        new_delta(hub.m, time.time(), kind="block", serial="04A1B2C3D4E501", state="blocked")
    gates = [(f"S{i // 4}", f"g{i % 4}", Ed25519PrivateKey.generate()) for i in range(200)]
    for museum, gate, key in gates:
        register_gate(hub.m, museum, gate, raw_public(key.public_key()), time.time())
    logs = [tmp_path / f"worker-{name}.log" for name in ("a", "b")]
    workers = [worker(hub, broker, name, log) for name, log in zip("ab", logs, strict=True)]
    ears = Spy(broker.port, subscribe="portique/v1/+/+/down/deltas")
    mouth = Spy(broker.port)
    try:
        wait_listening(*logs)
        for museum, gate, key in gates:
            signer, epoch, now = (
                key_id(raw_public(key.public_key())),
                os.urandom(16).hex(),
                time.time(),
            )
            common = {"museum": museum, "gate": gate, "epoch": epoch, "sent_at": now,
                      "last_seq": 0, "list_version": 0}  # fmt: skip
            hello = {"type": "hello", **common, "acked_seq": 0, "delta_seq": 0,
                     "list_partial": None}  # fmt: skip
            status = {"type": "status", **common, "session": os.urandom(16).hex(), "n": 1,
                      "online": True, "list_age_s": None, "backlog": 0, "last_ack_seq": 0,
                      "last_ack_at": None, "reader_up": True, "reader_detail": "",
                      "journal_ok": True, "time_trusted": True,
                      "broker_connected": True}  # fmt: skip
            for name, body in (("status", status), ("hello", hello)):
                mouth.client.publish(f"portique/v1/{museum}/{gate}/up/{name}",
                                     seal(body, key, signer), qos=1)  # fmt: skip
        wait_until(lambda: len({topic for topic, _ in ears.heard}) == len(gates),
                   "every gate answered")  # fmt: skip
    finally:
        mouth.close()
        ears.close()
        for process in workers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=WAIT_S)
    text = "".join(log.read_text(errors="replace") for log in logs)
    assert "replayed" not in text and "could not be handled" not in text
    assert all(handled(log) > 0 for log in logs)
    p = hub.m.progress
    assert p.select().where(p.online, p.hello_sent_at > 0).count() == len(gates)
    hub.m.db.close()
