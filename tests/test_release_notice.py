"""'A new version is available': gates say what they run, the office's signed notice
reaches them, and nothing else passes for a notice.

The notice travels as the hub sends it, through a real mosquitto, to a gate
with its real MQTT client; the forgeries are published on the same retained
topic by an outsider's plain MQTT client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import World
from syncworld import Hub, LogWatch, Spy, SyncGate, wait_until

from firmware import status
from firmware.events import ReleaseReceived
from firmware.sync.protocol import broadcast_topic, seal
from firmware.trust import b64, certify, key_id, raw_public, sign
from firmware.version import SOFTWARE_VERSION, newer
from hub.actions import ActionRefused
from hub.releases import body_of, latest_notice, publish_release, send_release, software_of

TOPIC = broadcast_topic("release")


def health(gate: SyncGate) -> dict:
    return gate.on_loop(lambda: gate.gate.status.health())


def publish(hub: Hub, version: str, notes: str = "faster gates", at: float | None = None) -> dict:
    body = publish_release(hub.m, version, "2026-12-01", notes, at or time.time(), "office")
    send_release(hub.settings.broker, hub.dir, time.time, body)
    return body


# -- the version gates run ------------------------------------------------------------


def test_a_gate_reports_its_software_version_and_the_hub_keeps_it(make_gate, hub: Hub) -> None:
    gate = make_gate()
    assert software_of(hub.m, "M1") == {("M1", "G1"): SOFTWARE_VERSION}
    assert health(gate)["software_version"] == SOFTWARE_VERSION
    hub.wait(lambda: hub.m.progress.get().status is not None, 60, "a status stored")
    assert json.loads(hub.m.progress.get().status)["software_version"] == SOFTWARE_VERSION


# -- the office's notice reaches the gate --------------------------------------------------


def test_a_published_notice_reaches_the_gate_its_status_and_portique_status(
    make_gate, hub: Hub, logs: LogWatch
) -> None:
    gate = make_gate()
    publish(hub, "99.0.0", "the reader recovers faster")
    logs.wait_for("release notice: version 99.0.0 of 2026-12-01 is available")
    seen = health(gate)
    assert (seen["release_version"], seen["release_date"]) == ("99.0.0", "2026-12-01")
    assert seen["release_notes"] == "the reader recovers faster"
    assert seen["update_available"] is True
    text = status.human(gate.on_loop(lambda: gate.gate.status.snapshot()), time.time())
    assert "NEW VERSION 99.0.0 of 2026-12-01 is available: the reader recovers faster" in text
    assert "portique_update_available" in status.prometheus(gate.gate.status.snapshot())


def test_a_gate_that_connects_later_gets_the_retained_notice(make_gate, hub: Hub,
                                                              logs: LogWatch) -> None:  # fmt: skip
    make_gate("G1")
    publish(hub, "99.0.0")
    logs.wait_for("release notice: version 99.0.0")
    late = make_gate("G2")
    wait_until(lambda: health(late)["release_version"] == "99.0.0", "the late gate's notice")


def test_a_notice_stored_while_the_broker_was_away_arrives_at_the_next_hello(
    make_gate, hub: Hub, logs: LogWatch
) -> None:
    publish_release(hub.m, "99.1.0", "2026-12-01", "", time.time(), "office")  # never sent
    gate = make_gate()
    wait_until(lambda: health(gate)["release_version"] == "99.1.0", "the notice sent at hello")


def test_a_notice_of_the_version_the_gate_runs_says_nothing_to_do(
    make_gate, hub: Hub, logs: LogWatch
) -> None:
    gate = make_gate()
    body = body_of(SOFTWARE_VERSION, "2026-11-01", "", time.time())
    send_release(hub.settings.broker, hub.dir, time.time, body)
    logs.wait_for("nothing to do")
    assert health(gate)["update_available"] is False


# -- forgeries ------------------------------------------------------------------------------


def refused(logs: LogWatch, code: str) -> str:
    return logs.wait_for(f"refused message on {TOPIC}: {code}")


def test_an_unsigned_notice_is_refused_with_a_clear_log_line(make_gate, hub: Hub, broker,
                                                              logs: LogWatch) -> None:  # fmt: skip
    gate = make_gate()
    spy = Spy(broker.port)
    spy.publish(TOPIC, json.dumps(body_of("99.0.0", "2026-12-01", "", time.time())).encode())
    assert "no signature" in refused(logs, "unsigned")
    assert health(gate)["release_version"] is None
    spy.close()


def test_a_notice_signed_as_a_hub_message_is_refused(make_gate, hub: Hub, broker,
                                                      logs: LogWatch) -> None:  # fmt: skip
    """The hub's own key, its own certificate, but the signature of another document type."""
    gate = make_gate()
    body = body_of("99.0.0", "2026-12-01", "", time.time())
    envelope = {"body": body, "signer": hub.signer.key_id, "cert": hub.signer.cert,
                "signature": b64(sign(hub.signer.key, "hub-message", body))}  # fmt: skip
    spy = Spy(broker.port)
    spy.publish(TOPIC, json.dumps(envelope).encode())
    refused(logs, "bad_signature")
    assert health(gate)["release_version"] is None
    spy.close()


def test_a_notice_whose_notes_were_changed_after_signing_is_refused(
    make_gate, hub: Hub, broker, logs: LogWatch
) -> None:
    gate = make_gate()
    envelope = json.loads(hub.signer.seal(body_of("99.0.0", "2026-12-01", "fixes", time.time())))
    envelope["body"]["notes"] = "install this from http://example.invalid"
    spy = Spy(broker.port)
    spy.publish(TOPIC, json.dumps(envelope).encode())
    refused(logs, "bad_signature")
    assert health(gate)["release_version"] is None
    spy.close()


def test_a_notice_signed_under_another_root_is_refused(make_gate, hub: Hub, broker,
                                                        logs: LogWatch, pki) -> None:  # fmt: skip
    """A key with a certificate, but from a root this gate never pinned."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    gate = make_gate()
    rogue_root, rogue = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public = raw_public(rogue.public_key())
    cert = certify(rogue_root, public, ["hub"], time.time() - 60, time.time() + 3600)
    payload = seal(body_of("99.0.0", "2026-12-01", "", time.time()), rogue, key_id(public), cert)
    spy = Spy(broker.port)
    spy.publish(TOPIC, payload)
    refused(logs, "bad_certificate")
    assert health(gate)["release_version"] is None
    spy.close()


def test_an_older_notice_replayed_after_a_newer_one_is_refused(
    make_gate, hub: Hub, broker, logs: LogWatch
) -> None:
    gate = make_gate()
    old = hub.signer.seal(body_of("98.0.0", "2026-10-01", "", time.time() - 86400))
    publish(hub, "99.0.0")
    logs.wait_for("release notice: version 99.0.0")
    spy = Spy(broker.port)
    spy.publish(TOPIC, old)
    line = logs.wait_for("release notice refused")
    assert "98.0.0" in line and "not newer than the notice held (version 99.0.0" in line
    assert health(gate)["release_version"] == "99.0.0"
    spy.close()


def test_a_malformed_notice_is_refused_as_malformed(make_gate, hub: Hub, broker,
                                                     logs: LogWatch) -> None:  # fmt: skip
    gate = make_gate()
    body = {**body_of("99.0.0", "2026-12-01", "x" * 5000, time.time())}
    spy = Spy(broker.port)
    spy.publish(TOPIC, hub.signer.seal(body))
    refused(logs, "malformed")
    assert health(gate)["release_version"] is None
    spy.close()


# -- the gate keeps it ----------------------------------------------------------------------


def test_the_notice_survives_a_restart_and_an_older_one_is_refused(
    make_world, logs: LogWatch
) -> None:
    first: World = make_world()
    first.loop.handle(ReleaseReceived(1_000.0, "99.0.0", "2026-12-01", "notes"))
    first.gate.close()
    again: World = make_world()
    kept = again.gate.status.health()
    assert (kept["release_version"], kept["update_available"]) == ("99.0.0", True)
    again.loop.handle(ReleaseReceived(999.0, "100.0.0", "2026-12-02", ""))
    assert "release notice refused" in logs.lines[-1]
    assert again.gate.status.health()["release_version"] == "99.0.0"


def test_a_damaged_notice_file_is_named_and_the_gate_starts(make_world, make_settings,
                                                            logs: LogWatch) -> None:  # fmt: skip
    settings = make_settings()
    settings.gate.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.gate.data_dir / "release.json").write_text("{not json")
    world: World = make_world()
    assert world.gate.status.health()["release_version"] is None
    assert [line for line in logs.lines if "release.json is unreadable" in line]


# -- the hub's checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "day", "notes", "code"),
    [
        ("1.0; DROP TABLE", "2026-12-01", "", "bad_version"),
        ("banana", "2026-12-01", "", "bad_version"),
        ("2.0.0", "01/12/2026", "", "bad_date"),
        ("2.0.0", "2026-13-01", "", "bad_date"),
        ("2.0.0", "2026-12-01", "n" * 1001, "notes_too_long"),
    ],
)
def test_the_hub_refuses_a_notice_gates_would_refuse(hub: Hub, version: str, day: str,
                                                      notes: str, code: str) -> None:  # fmt: skip
    with pytest.raises(ActionRefused) as refused_:
        publish_release(hub.m, version, day, notes, time.time(), "office")
    assert refused_.value.code == code
    assert latest_notice(hub.m) is None


def test_the_hub_refuses_a_version_not_newer_than_the_last_one(hub: Hub) -> None:
    publish_release(hub.m, "2.0.0", "2026-12-01", "", time.time(), "office")
    for version in ("2.0.0", "1.9.9", "2.0.0rc1"):
        with pytest.raises(ActionRefused, match="not newer than 2.0.0"):
            publish_release(hub.m, version, "2026-12-01", "", time.time(), "office")
    assert latest_notice(hub.m).version == "2.0.0"
    assert newer("2.0.1", "2.0.0") and not newer("not a version", "1.0")


def run_hub_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_portique_hub_release_publish_reaches_the_gate(make_gate, hub: Hub, broker,
                                                       logs: LogWatch) -> None:  # fmt: skip
    gate = make_gate()
    done = run_hub_cli("release", "publish", "99.2.0", "--date", "2026-12-02",
                       "--notes", "printer fixes", "--data", str(hub.dir),
                       "--port", str(broker.port))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "release notice 99.2.0 of 2026-12-02 sent to every gate" in done.stdout
    wait_until(lambda: health(gate)["release_notes"] == "printer fixes", "the CLI's notice")


def test_portique_hub_release_publish_refuses_a_bad_version_and_sends_nothing(
    hub: Hub, broker, tmp_path: Path
) -> None:
    done = run_hub_cli("release", "publish", "not-a-version!", "--data", str(hub.dir),
                       "--port", str(broker.port))  # fmt: skip
    assert done.returncode == 2
    assert "is not a software version" in done.stderr and "nothing was stored" in done.stderr
    assert "Traceback" not in done.stderr
    assert latest_notice(hub.m) is None
