"""A gate asks the hub over a real mosquitto; the hub asks a fake pass Culture; end to end."""

from __future__ import annotations

import json
import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fake_passculture import KEY, VENUE, FakePassCulture
from syncworld import Hub, Mosquitto

from firmware.passculture.ask import read_answer, request
from firmware.sync.client import HubVerifier
from firmware.sync.keys import gate_key
from firmware.sync.protocol import ProtocolError, gate_topic, seal
from firmware.trust import read_public_key

MUSEUM, GATE = "LOUVRE", "gate-1"
WAIT_S = 30.0  # an upper bound, never a timing assertion


class AskingGate:
    """A gate's key and MQTT client, asking the hub as the gate's loop will."""

    def __init__(self, directory: Path, port: int, root_pub: Path) -> None:
        self.key, self.key_id = gate_key(directory)
        self.verifier = HubVerifier(read_public_key(root_pub))
        self.answers: queue.Queue[bytes] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{MUSEUM}/{GATE}")
        self.client.on_message = lambda _c, _u, msg: self.answers.put(msg.payload)
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(gate_topic(MUSEUM, GATE, "down", "passculture_answer"), qos=1)
        self.client.loop_start()

    def send(self, body: dict) -> None:
        topic = gate_topic(MUSEUM, GATE, "up", "passculture_validate")
        self.client.publish(topic, seal(body, self.key, self.key_id), qos=1).wait_for_publish(5)

    def ask(self, code: str, **kwargs: object) -> dict:
        body = request(MUSEUM, GATE, code, time.time(), **kwargs)
        self.send(body)
        return self.answer_to(body["request_id"])

    def answer_to(self, request_id: str) -> dict:
        sealed = read_answer(self.answers.get(timeout=WAIT_S), MUSEUM, GATE)
        self.verifier.check(sealed, time.time())
        assert sealed.body["request_id"] == request_id
        return sealed.body

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def settings_mode() -> int:
    return 0o600


@pytest.fixture
def world(tmp_path: Path, broker: Mosquitto, fake_pc: FakePassCulture,
          settings_mode: int) -> Iterator[tuple[Hub, AskingGate]]:  # fmt: skip
    hub = Hub(tmp_path / "hub", broker.port)
    settings = hub.dir / "passculture.toml"
    settings.write_text(f'base_url = "{fake_pc.url}"\n\n[museum.{MUSEUM}]\n'
                        f'api_key = "{KEY}"\nvenues = [{VENUE}]\n')  # fmt: skip
    os.chmod(settings, settings_mode)
    gate = AskingGate(tmp_path / "gate", broker.port, hub.root_pub)
    hub.register(MUSEUM, GATE, tmp_path / "gate")
    hub.start()
    # Junk the hub refuses, sent until one is handled: then the hub is subscribed.
    assert hub.service is not None
    deadline = time.monotonic() + WAIT_S
    while not hub.service.wait_handled(1, 0.2):
        assert time.monotonic() < deadline, "the hub never subscribed"
        gate.client.publish(gate_topic(MUSEUM, GATE, "up", "status"), b"probe", qos=1)
    yield hub, gate
    gate.close()
    hub.stop()


def test_duo_booking_admits_two_then_same_code_is_already_used(
    world: tuple[Hub, AskingGate], fake_pc: FakePassCulture
) -> None:
    hub, gate = world
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    first = gate.ask("AB3DK7")
    assert (first["outcome"], first["reason"], first["quantity"]) == ("admit", "ok", 2)
    assert fake_pc.status("AB3DK7") == "USED"
    again = gate.ask("AB3DK7")
    assert (again["outcome"], again["reason"]) == ("refuse", "already_used")
    rows = hub.m.db.execute_sql(
        "SELECT outcome, quantity, booking_id, at_us FROM passculture_countermark ORDER BY id"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("admit", 2), ("refuse", 0)]
    assert isinstance(rows[0][3], int) and rows[0][3] > 1_700_000_000_000_000


def test_redelivered_request_gets_the_same_answer_and_one_validation(
    world: tuple[Hub, AskingGate], fake_pc: FakePassCulture
) -> None:
    _hub, gate = world
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    body = request(MUSEUM, GATE, "AB3DK7", time.time())
    gate.send(body)
    first = gate.answer_to(body["request_id"])
    gate.send(body)  # the same request again (a redelivery, a replay)
    second = gate.answer_to(body["request_id"])
    assert first == second and first["outcome"] == "admit"
    assert fake_pc.count("PATCH", "/use/") == 1


def test_stale_request_is_not_sent_to_pass_culture(world: tuple[Hub, AskingGate],
                                                   fake_pc: FakePassCulture) -> None:  # fmt: skip
    _hub, gate = world
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    body = request(MUSEUM, GATE, "AB3DK7", time.time() - 3600)  # queued an hour at the broker
    gate.send(body)
    answer = gate.answer_to(body["request_id"])
    assert (answer["outcome"], answer["reason"]) == ("desk", "stale_request")
    assert fake_pc.status("AB3DK7") == "CONFIRMED"
    assert fake_pc.requests == []


def test_undo_needs_an_operator_and_returns_the_booking_to_confirmed(
    world: tuple[Hub, AskingGate], fake_pc: FakePassCulture
) -> None:
    _hub, gate = world
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    assert gate.ask("AB3DK7")["outcome"] == "admit"
    assert gate.ask("AB3DK7", action="undo")["reason"] == "no_operator"
    assert gate.ask("AB3DK7", action="undo", operator="camille")["outcome"] == "undone"
    assert fake_pc.status("AB3DK7") == "CONFIRMED"


def test_request_signed_by_an_unregistered_key_is_ignored(
    world: tuple[Hub, AskingGate], fake_pc: FakePassCulture, tmp_path: Path
) -> None:
    hub, gate = world
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    intruder, intruder_id = gate_key(tmp_path / "intruder")
    body = request(MUSEUM, GATE, "AB3DK7", time.time())
    topic = gate_topic(MUSEUM, GATE, "up", "passculture_validate")
    assert hub.service is not None
    handled = hub.service.handled
    assert handled >= 1
    gate.client.publish(topic, seal(body, intruder, intruder_id), qos=1).wait_for_publish(5)
    assert hub.service.wait_handled(handled + 1, WAIT_S)
    assert gate.answers.empty()
    assert fake_pc.requests == [] and fake_pc.status("AB3DK7") == "CONFIRMED"


def test_forged_answer_is_refused_by_the_gate(world: tuple[Hub, AskingGate]) -> None:
    _hub, gate = world
    forged = {"type": "passculture_answer", "museum": MUSEUM, "gate": GATE,
              "issued_at": time.time(), "request_id": "0" * 32, "action": "validate",
              "code": "AB3DK7", "outcome": "admit", "reason": "ok", "quantity": 9,
              "message": "come in"}  # fmt: skip
    sealed = read_answer(seal(forged, gate.key, gate.key_id), MUSEUM, GATE)
    with pytest.raises(Exception, match=r"(?i)unknown|certif|trust|key"):
        gate.verifier.check(sealed, time.time())
    with pytest.raises(ProtocolError):
        read_answer(json.dumps({"body": forged}).encode(), MUSEUM, GATE)


@pytest.mark.parametrize("settings_mode", [0o644])
def test_hub_with_unsafe_settings_answers_not_configured_and_calls_nobody(
    world: tuple[Hub, AskingGate], fake_pc: FakePassCulture
) -> None:
    _hub, gate = world
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    answer = gate.ask("AB3DK7")
    assert (answer["outcome"], answer["reason"]) == ("desk", "not_configured")
    assert "chmod 600" in answer["message"]
    assert fake_pc.requests == []
