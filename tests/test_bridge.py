"""The network's topology on loopback: a museum's mosquitto bridged to the central one.

Two real mosquittos: the central broker with the reference ACL and accounts
(provisioning/mosquitto/portique.acl), and a museum's broker with the
reference bridge (provisioning/mosquitto/bridge.conf), as shipped but for the
museum's id, the address and TLS. The hub listens on the central broker only;
one gate talks to its museum's broker, another to the central one. Records
must cross the bridge up, and acknowledgements and pass changes down.
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import ACTIVE, DEMO_KEYS, SOLD
from syncworld import Hub, Mosquitto, SyncGate, sync_section, wait_until

from firmware.clock import SystemClock
from firmware.demo import write_demo, write_demo_list
from firmware.events import CardTapped
from hub.activations import new_delta
from hub.publish import Broker, publish_once

REFERENCE = Path(__file__).resolve().parents[1] / "provisioning" / "mosquitto"
ACCOUNTS = {"hub": "hub-secret", "hub-cli": "cli-secret", "M1": "museum-secret",
            "M2/G2": "g2-secret"}  # fmt: skip
LOCAL_ONLY = ("bridge_cafile", "bridge_tls_version")  # TLS: the test's brokers speak plain


def bridge_config(central: int) -> str:
    """The reference bridge for museum M1, pointed at the central broker on loopback."""
    lines = []
    for line in (REFERENCE / "bridge.conf").read_text().splitlines():
        key = line.split(" ")[0]
        if not line or line.startswith("#") or key in LOCAL_ONLY:
            continue
        if key == "address":
            line = f"address 127.0.0.1:{central}"
        elif key == "remote_password":
            line = f"remote_password {ACCOUNTS['M1']}"
        lines.append(line.replace("MUS-0042", "M1"))
    assert any(line.startswith("topic ") for line in lines)
    return "\n".join(lines) + "\n"


def password(tmp_path: Path, user: str) -> Path:
    path = tmp_path / f"{user.replace('/', '-')}.password"
    path.write_text(ACCOUNTS[user] + "\n")
    return path


@pytest.fixture
def brokers(tmp_path: Path):  # noqa: ANN201 - (central, museum)
    passwd = tmp_path / "passwd"
    for user, secret in ACCOUNTS.items():
        create = ["-c"] if not passwd.exists() else []
        subprocess.run(["mosquitto_passwd", "-b", *create, str(passwd), user, secret],
                       check=True)  # fmt: skip
    central = Mosquitto(tmp_path / "central", anonymous=False,
                        extra=f"password_file {passwd}\nacl_file {REFERENCE / 'portique.acl'}\n"
                        "use_username_as_clientid true\n").start()  # fmt: skip
    museum = Mosquitto(tmp_path / "museum", extra=bridge_config(central.port)).start()
    yield central, museum
    museum.stop()
    central.stop()


def test_records_and_pass_changes_cross_the_bridge_between_museum_and_central_broker(
    tmp_path: Path, brokers: tuple[Mosquitto, Mosquitto], make_settings
) -> None:
    central, museum = brokers
    hub_broker = Broker(port=central.port, username="hub",
                        password_file=password(tmp_path, "hub"))  # fmt: skip
    hub = Hub(tmp_path / "hub", central.port, hub_broker).start()
    now = SystemClock().wall()
    passes, types = write_demo(tmp_path / "today", datetime.fromtimestamp(now).date(), filler=20)
    today = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "list.pql", now, version=1)
    bridged = make_settings(
        gate={"museum": "M1", "gate": "G1", "data_dir": str(tmp_path / "G1")},
        lists={"install_at_start": str(today)},
        sync=sync_section(museum, hub),  # its museum's broker, no account of the centre's
    )
    direct = make_settings(
        gate={"museum": "M2", "gate": "G2", "data_dir": str(tmp_path / "G2")},
        lists={"install_at_start": str(today)},
        sync=sync_section(central, hub, username="M2/G2",
                          password_file=str(password(tmp_path, "M2/G2"))),
    )  # fmt: skip
    gates = [SyncGate(bridged), SyncGate(direct)]
    one, two = gates
    hub.register("M1", "G1", bridged.gate.data_dir)
    hub.register("M2", "G2", direct.gate.data_dir)
    try:
        for gate in gates:
            gate.start()
        hub.wait_hello("M1", "G1")  # up across the bridge
        hub.wait_hello("M2", "G2")
        # Up: G1's activation reaches the hub; down: its acknowledgement reaches G1, and
        # the activation, passed on to every gate, reaches G2 on the central broker.
        one.on_loop(lambda: one.loop.handle(CardTapped(bytes.fromhex(SOLD), 0.0)))
        one.wait_acked(1)
        remote2 = two.journal.models.remote_pass
        wait_until(lambda: remote2.get_or_none(remote2.serial == SOLD) is not None,
                   "G1's activation at G2")  # fmt: skip
        # Down, to every gate: a block published on the central broker reaches G1 behind
        # the bridge (the central ACL lets the museum's bridge read it).
        with hub.m.db.atomic():
            item = new_delta(hub.m, time.time(), kind="block", serial=ACTIVE, state="blocked")
        cli = Broker(port=central.port, username="hub-cli",
                     password_file=password(tmp_path, "hub-cli"))  # fmt: skip
        publish_once(cli, hub.signer, time.time, lambda p: p.deltas([item]))
        remote1 = one.journal.models.remote_pass
        wait_until(lambda: (row := remote1.get_or_none(remote1.serial == ACTIVE)) is not None
                   and row.state == "blocked", "the block at G1, behind the bridge")  # fmt: skip
        # G2's records go up on the central broker directly.
        two.on_loop(lambda: two.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
        two.wait_acked(1)
    finally:
        for gate in gates:
            gate.stop()
        hub.stop()
    assert hub.seqs("M1", "G1") == [1] and hub.seqs("M2", "G2") == [1]
    assert hub.problems() == []


def test_a_museum_bridge_cannot_speak_for_another_museum(
    tmp_path: Path, brokers: tuple[Mosquitto, Mosquitto]
) -> None:
    """The bridge's account writes only its own museum's up topics on the central broker."""
    from syncworld import Spy

    central, _museum = brokers
    listener = Spy(central.port, login=("hub", ACCOUNTS["hub"]),
                   subscribe="portique/v1/+/+/up/#")  # fmt: skip
    intruder = Spy(central.port, login=("M1", ACCOUNTS["M1"]), client_id="M1-test")
    intruder.publish("portique/v1/M2/G2/up/batch", b"{}")  # another museum's gate
    intruder.publish("portique/v1/M1/G1/up/status", b"{}")  # its own: passes
    wait_until(lambda: listener.heard, "the museum's own message at the centre")
    assert [topic for topic, _ in listener.heard] == ["portique/v1/M1/G1/up/status"]
    intruder.close()
    listener.close()
