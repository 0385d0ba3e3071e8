"""Several hub workers: real `portique-hub run` processes sharing the gates' traffic.

They join one MQTT v5 shared subscription and one database. The attack: a
worker is killed with SIGKILL while batches flow; the survivor must end with
every record of every gate stored exactly once, in order, and every gate
acknowledged to its last record.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from pgserver import both_databases
from syncworld import WAIT_S, Hub, Mosquitto, SyncGate, sync_section, wait_until

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
