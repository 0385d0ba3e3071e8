"""The reference broker set-up (provisioning/mosquitto/) on a real mosquitto.

Per-gate accounts and the ACL keyed on the user name: the normal flow works,
a gate cannot publish as another gate nor read what is addressed to one, no
account can take another's client id (the hub's), and gates may log in with a
client certificate instead of a password.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ACTIVE
from syncworld import WAIT_S, Hub, LogWatch, Mosquitto, Spy, SyncGate, fill_journal, sync_section

from firmware.events import CardTapped
from firmware.sync.protocol import seal
from firmware.trust import key_id, raw_public
from hub.devbroker import free_port
from hub.publish import Broker, publish_once

REFERENCE = Path(__file__).resolve().parents[1] / "provisioning" / "mosquitto"
ACL = REFERENCE / "portique.acl"


def reference_lines(*keys: str) -> str:
    """The reference portique.conf's lines setting ``keys``: tested as shipped."""
    text = (REFERENCE / "portique.conf").read_text()
    lines = list(dict.fromkeys(line for line in text.splitlines() if line.split(" ")[0] in keys))
    assert len(lines) == len(keys), f"portique.conf must set each of {keys}, one way"
    return "\n".join(lines) + "\n"


ACCOUNTS = {"hub": "hub-secret", "hub-2": "hub2-secret", "hub-cli": "cli-secret",
            "hub-console": "console-secret", "M1/G1": "g1-secret",
            "M1/G2": "g2-secret", "M1/G3": "g3-secret"}  # fmt: skip


@pytest.fixture
def secured(tmp_path: Path) -> Mosquitto:
    passwd = tmp_path / "passwd"
    for user, password in ACCOUNTS.items():
        create = ["-c"] if not passwd.exists() else []
        subprocess.run(["mosquitto_passwd", "-b", *create, str(passwd), user, password],
                       check=True)  # fmt: skip
    extra = f"password_file {passwd}\nacl_file {ACL}\n" + reference_lines(
        "use_username_as_clientid"
    )
    broker = Mosquitto(tmp_path / "broker", anonymous=False, extra=extra)
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

        # Another gate's account (G3's: G1's own would take G1's session, one client id
        # per account) publishes a batch signed with G2's own key on G2's topic, and
        # listens to what is addressed to G2: the broker lets neither through.
        fill_journal(two.journal, 2, gate="G2")
        key = two.gate.sync_client.key
        records = two.link.outbox.records(0, 2)
        body = {"type": "batch", "museum": "M1", "gate": "G2", "sent_at": time.time(),
                "first_seq": 1, "last_seq": 2, "records": records}  # fmt: skip
        login = ("M1/G3", ACCOUNTS["M1/G3"])
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


def test_no_account_can_take_the_hubs_client_id_and_kick_it_off(
    tmp_path: Path, secured: Mosquitto, make_settings
) -> None:
    broker = Broker(port=secured.port, username="hub", password_file=credentials(tmp_path, "hub"))
    hub = Hub(tmp_path / "hub", secured.port, broker).start()
    settings = make_settings(
        gate={"data_dir": str(tmp_path / "G1")},
        sync=sync_section(secured, hub, username="M1/G1",
                          password_file=str(credentials(tmp_path, "M1/G1"))),
    )  # fmt: skip
    gate = SyncGate(settings)
    hub.register("M1", "G1", settings.gate.data_dir)
    assert hub.service is not None
    kicked = threading.Event()
    hub.service.client.on_disconnect = lambda *_args: kicked.set()
    intruders = []
    try:
        gate.start()
        hub.wait_hello("M1", "G1")
        # G1's account asks for the hub's client id (and the hub's account name): with
        # use_username_as_clientid the broker names the session after G1's account.
        for client_id in (hub.settings.client_id, "hub"):
            intruders.append(Spy(secured.port, login=("M1/G1", ACCOUNTS["M1/G1"]),
                                 client_id=client_id))  # fmt: skip
        # The hub's one-shot commands and the console use their own accounts, so they
        # take nothing either, and may address gates.
        for account in ("hub-cli", "hub-console"):
            cli = Broker(port=secured.port, username=account,
                         password_file=credentials(tmp_path, account))  # fmt: skip
            publish_once(cli, hub.signer, time.time, lambda p: p.resend("M1", "G1", 1, 1))
        gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
        gate.wait_acked(1)  # the hub still hears the gate and answers it
        assert not kicked.is_set() and hub.service.client.is_connected()
    finally:
        for intruder in intruders:
            intruder.close()
        gate.stop()
        hub.stop()


def test_two_hub_workers_with_their_own_accounts_share_the_gates_messages(
    tmp_path: Path, secured: Mosquitto, make_settings
) -> None:
    from test_hub_workers import handled, wait_listening, worker

    hub = Hub(tmp_path / "hub", secured.port)  # its folder and database; workers run it
    settings = make_settings(
        gate={"data_dir": str(tmp_path / "G1")},
        sync=sync_section(secured, hub, username="M1/G1", batch_records=10,
                          password_file=str(credentials(tmp_path, "M1/G1"))),
    )  # fmt: skip
    gate = SyncGate(settings)
    hub.register("M1", "G1", settings.gate.data_dir)
    logs = {name: tmp_path / f"{name}.log" for name in ("hub", "hub-2")}
    workers = [worker(hub, secured, name, log, "--username", name, "--password-file",
                      str(credentials(tmp_path, name))) for name, log in logs.items()]  # fmt: skip
    try:
        wait_listening(*logs.values())
        gate.start()
        gate.fill(300)
        gate.wait_acked(300)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=WAIT_S)
        gate.stop()
    # Each worker's account may read the gates' messages, and neither knocked the other
    # off (one session per account): both handled some, every record is stored once.
    assert all(handled(log) > 0 for log in logs.values())
    assert not any("broker refused" in log.read_text() for log in logs.values())
    assert hub.seqs("M1", "G1") and sorted(hub.seqs("M1", "G1")) == list(range(1, 301))


# -- client certificates ------------------------------------------------------------------


def _certificate(subject: str, issuer_key, issuer_name, public_key, ca: bool = False):  # noqa: ANN001, ANN202
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if subject == "127.0.0.1":
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(folder: Path, clients: list[str]) -> dict[str, Path]:
    """A CA, the broker's certificate for 127.0.0.1 and one client certificate per CN."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def save(name: str, cert, key) -> None:  # noqa: ANN001
        paths[name] = folder / f"{name.replace('/', '-')}.crt"
        paths[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths[name + ".key"] = folder / f"{name.replace('/', '-')}.key"
        paths[name + ".key"].write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))  # fmt: skip

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("portique test CA", ca_key, None, ca_key.public_key(), ca=True)
    save("ca", ca, ca_key)
    for cn in ["127.0.0.1", *clients]:
        key = ec.generate_private_key(ec.SECP256R1())
        save(cn, _certificate(cn, ca_key, ca.subject, key.public_key()), key)
    return paths


def test_a_gate_logs_in_with_its_client_certificate_and_only_as_its_cn(
    tmp_path: Path, make_settings
) -> None:
    pki = make_pki(tmp_path / "pki", ["M1/G1"])
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "hub", ACCOUNTS["hub"]],
                   check=True)  # fmt: skip
    tls_port = free_port()
    # The reference file's certificate listener, on a free port and the test's certificates.
    extra = (
        f"password_file {passwd}\nacl_file {ACL}\n"
        + reference_lines("use_username_as_clientid")
        + f"listener {tls_port} 127.0.0.1\nprotocol mqtt\ncertfile {pki['127.0.0.1']}\n"
        f"keyfile {pki['127.0.0.1.key']}\ncafile {pki['ca']}\n"
        + reference_lines("tls_version", "require_certificate", "use_identity_as_username")
    )
    secured = Mosquitto(tmp_path / "broker", anonymous=False, extra=extra).start()
    broker = Broker(port=secured.port, username="hub", password_file=credentials(tmp_path, "hub"))
    hub = Hub(tmp_path / "hub", secured.port, broker).start()
    settings = make_settings(
        gate={"data_dir": str(tmp_path / "G1")},
        sync={**sync_section(secured, hub), "port": tls_port, "tls": True,
              "ca_file": str(pki["ca"]), "cert_file": str(pki["M1/G1"]),
              "key_file": str(pki["M1/G1.key"])},
    )  # fmt: skip
    gate = SyncGate(settings)
    hub.register("M1", "G1", settings.gate.data_dir)
    try:
        gate.start()
        hub.wait_hello("M1", "G1")  # published under M1/G1/up: the CN is the ACL's user name
        gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
        gate.wait_acked(1)
        # Without a certificate the listener ends the TLS session before any MQTT.
        context = ssl.create_default_context(cafile=str(pki["ca"]))
        raw = socket.create_connection(("127.0.0.1", tls_port), timeout=WAIT_S)
        refused = pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED|EOF occurred")
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as bare, refused:
            bare.sendall(b"\x10\x00")
            bare.recv(1)
    finally:
        gate.stop()
        hub.stop()
        secured.stop()
