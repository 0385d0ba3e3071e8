"""The reference broker ACL (provisioning/mosquitto/portique.acl) on a real mosquitto.

Per-gate accounts and the ACL keyed on the user name: the normal flow works,
and a gate cannot publish as another gate nor read what is addressed to one.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from conftest import ACTIVE
from syncworld import Hub, LogWatch, Mosquitto, Spy, SyncGate, fill_journal, sync_section

from firmware.events import CardTapped
from firmware.sync.protocol import seal
from firmware.trust import key_id, raw_public
from hub.publish import Broker

ACL = Path(__file__).resolve().parents[1] / "provisioning" / "mosquitto" / "portique.acl"
ACCOUNTS = {"hub": "hub-secret", "M1/G1": "g1-secret", "M1/G2": "g2-secret"}


@pytest.fixture
def secured(tmp_path: Path) -> Mosquitto:
    passwd = tmp_path / "passwd"
    for user, password in ACCOUNTS.items():
        create = ["-c"] if not passwd.exists() else []
        subprocess.run(["mosquitto_passwd", "-b", *create, str(passwd), user, password],
                       check=True)  # fmt: skip
    broker = Mosquitto(tmp_path / "broker", anonymous=False,
                       extra=f"password_file {passwd}\nacl_file {ACL}\n")  # fmt: skip
    yield broker.start()
    broker.stop()


def credentials(tmp_path: Path, user: str) -> Path:
    path = tmp_path / f"{user.replace('/', '-')}.password"
    path.write_text(ACCOUNTS[user] + "\n")
    return path


def test_a_gate_can_publish_only_as_itself_and_read_only_its_own_messages(
    tmp_path: Path, secured: Mosquitto, make_settings, logs: LogWatch
) -> None:
    broker = Broker(port=secured.port, username="hub", password_file=credentials(tmp_path, "hub"))
    hub = Hub(tmp_path / "hub", secured.port, broker).start()
    gates = []
    try:
        for name in ("G1", "G2"):
            settings = make_settings(
                gate={"gate": name, "data_dir": str(tmp_path / name)},
                sync=sync_section(secured, hub, username=f"M1/{name}",
                                  password_file=str(credentials(tmp_path, f"M1/{name}"))),
            )  # fmt: skip
            gates.append(SyncGate(settings))
            hub.register("M1", name, settings.gate.data_dir)
        one, two = gates
        one.start()
        hub.wait_hello("M1", "G1")
        one.on_loop(lambda: one.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
        one.wait_acked(1)  # the normal flow passes the ACL

        # G1's account publishes a batch signed with G2's own key on G2's topic, and
        # listens to what is addressed to G2: the broker lets neither through.
        fill_journal(two.journal, 2, gate="G2")
        key = two.gate.sync_client.key
        records = two.link.outbox.records(0, 2)
        body = {"type": "batch", "museum": "M1", "gate": "G2", "sent_at": time.time(),
                "first_seq": 1, "last_seq": 2, "records": records}  # fmt: skip
        login = ("M1/G1", ACCOUNTS["M1/G1"])
        intruder = Spy(secured.port, login=login, subscribe="portique/v1/M1/G2/down/#")
        signer = key_id(raw_public(key.public_key()))
        intruder.publish("portique/v1/M1/G2/up/batch", seal(body, key, signer))
        two.start()  # G2's own hello and status go through, and get an answer
        hub.wait_hello("M1", "G2")
        one.on_loop(lambda: one.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 1.0)))
        one.wait_acked(2)
        two.wait_acked(2)  # G2's own records arrive, sent by G2 itself
        # Had the intruder's batch (validly signed by G2's key) reached the hub, it would
        # have been stored then, and G2's own batch logged as a duplicate.
        assert not any("refused" in line or "duplicate" in line for line in logs.lines)
        assert hub.seqs("M1", "G2") == [1, 2]
        assert [topic for topic, _ in intruder.heard] == []
        intruder.close()
    finally:
        for gate in gates:
            gate.stop()
        hub.stop()
