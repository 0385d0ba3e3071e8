"""Sync end to end on a real mosquitto: taps reach the hub once, the hub's word reaches gates."""

from __future__ import annotations

import hashlib
import io
import json
import time
from datetime import date, datetime
from pathlib import Path

import jsonschema
import pytest
from conftest import ACTIVE, DEMO_KEYS, SOLD
from pgserver import both_databases
from syncworld import Hub, LogWatch, Mosquitto, Spy, SyncGate, wait_until

from firmware.demo import write_demo, write_demo_list
from firmware.events import CardTapped, ListReceived
from firmware.protocol.record import COLUMNS
from firmware.sync.protocol import parse_topic, schema
from hub.activations import new_delta
from hub.export import export_entries
from hub.publish import Publisher


def tap(gate: SyncGate, serial: str) -> int:
    return gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(serial), 0.0)) or
                        gate.journal.last_seq)  # fmt: skip


def publisher(hub_: Hub, spy: Spy) -> Publisher:
    return Publisher(spy.client, hub_.signer, time.time)


@both_databases
@pytest.mark.parametrize("batch_format", [1, 2])  # a gate of the earlier format, and of today's
def test_taps_reach_the_hub_once_and_the_gate_stores_the_acknowledgement(
    hub: Hub, make_gate, batch_format: int
) -> None:
    gate = make_gate(batch_format=batch_format)
    tap(gate, ACTIVE)
    last = tap(gate, SOLD)
    gate.wait_acked(last)
    assert hub.seqs("M1", "G1") == [1, 2]
    assert gate.link.status(0)["backlog"] == 0 and gate.link.status(0)["last_ack_seq"] == 2
    acks = list(gate.journal.models.ack.select())
    assert acks[-1].hash == gate.journal.models.record.get_by_id(2).hash


@both_databases
def test_the_hub_exports_entries_of_two_gates_as_csv(hub: Hub, make_gate) -> None:
    one, two = make_gate("G1"), make_gate("G2")
    tap(one, ACTIVE)
    tap(two, SOLD)
    hub.wait_stored("M1", "G1", 1)
    hub.wait_stored("M1", "G2", 1)
    hub.unpacked()  # acknowledged raw (batch2), then unpacked into the rows exports read
    out = io.StringIO()
    today = date.today()
    assert export_entries(hub.m, "M1", today, today, out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == "date,pass_number,children,billable,forced,operator,gate,seq,journal"
    assert sorted(line.split(",")[1] + line.split(",")[6] for line in lines[1:]) == [
        "100001G1",
        "100002G2",
    ]


@both_databases
def test_an_activation_at_one_gate_reaches_the_other_and_the_earliest_stands(
    hub: Hub, make_gate
) -> None:
    one, two = make_gate("G1"), make_gate("G2", museum="M2")
    tap(one, SOLD)
    hub.wait_stored("M1", "G1", 1)
    remote = two.journal.models.remote_pass
    wait_until(lambda: remote.get_or_none(remote.serial == SOLD) is not None, "delta at G2")
    row = remote.get(remote.serial == SOLD)
    assert (row.state, row.origin_museum, row.origin_gate) == ("active", "M1", "G1")
    # G2 activated the same pass later (it had not heard): the hub keeps the first.
    record = two.on_loop(lambda: two.gate.store.lookup(SOLD))
    assert record.activated_on.isoformat() == row.activated_on
    tap(two, SOLD)
    hub.wait_stored("M2", "G2", 1)
    assert two.journal.models.record.get_by_id(1).reason == "ok"  # not a second activation
    assert hub.problems() == []


@both_databases
def test_a_conflicting_later_activation_is_reported_and_the_earliest_stands(
    hub: Hub, make_gate
) -> None:
    one = make_gate("G1")
    two = make_gate("G2", museum="M2", start=False)  # offline: it cannot know of G1's activation
    tap(one, SOLD)
    hub.wait_stored("M1", "G1", 1)
    two.gate.loop.handle(CardTapped(bytes.fromhex(SOLD), 0.0))
    two.start()
    hub.wait_stored("M2", "G2", 1)
    assert ("activation_conflict", 1) in hub.problems()
    assert hub.m.activation.get_by_id(SOLD).museum == "M1"


def test_status_is_retained_and_a_clean_stop_marks_the_gate_offline(hub: Hub, make_gate) -> None:
    gate = make_gate()
    p = hub.m.progress
    wait_until(lambda: (row := p.get_or_none(p.gate == "G1")) is not None and row.online,
               "status online")  # fmt: skip
    status = json.loads(p.get(p.gate == "G1").status)
    assert status["broker_connected"] and status["backlog"] == 0
    gate.stop()
    wait_until(lambda: not p.get(p.gate == "G1").online, "status offline")


def test_a_time_beacon_raises_the_clock_floor_and_a_replayed_one_is_refused(
    hub: Hub, broker: Mosquitto, make_gate, logs: LogWatch
) -> None:
    gate = make_gate()
    spy = Spy(broker.port)
    ahead = time.time() + 3600  # the gate's clock is an hour late: the beacon corrects the floor
    body = {"type": "beacon", "museum": "*", "gate": "*", "issued_at": ahead}
    payload = hub.signer.seal(body)
    spy.publish("portique/v1/all/down/beacon", payload)
    wait_until(lambda: gate.gate.clock.floor() >= ahead, "floor raised")
    spy.publish("portique/v1/all/down/beacon", payload)
    logs.wait_for("time beacon refused: replayed")
    spy.close()


def test_a_list_file_arrives_whole_out_of_order_and_goes_to_the_hook(
    hub: Hub, broker: Mosquitto, make_gate, logs: LogWatch
) -> None:
    gate = make_gate()
    received: list[bytes] = []
    gate.on_loop(
        lambda: gate.loop.register(ListReceived, lambda event, _t: received.append(event.data))
    )
    data = bytes(range(256)) * 1200  # 307,200 bytes: 5 chunks
    spy = Spy(broker.port)
    pub = publisher(hub, spy)
    pub.list_file(data, version=7, museum="M1", gate="G1", missing=[4, 3])
    pub.list_file(data, version=7, museum="M1", gate="G1", missing=[0, 1, 2, 2])
    wait_until(lambda: received, "list handed to the hook")
    assert received == [data]
    assert gate.on_loop(lambda: gate.link.hello())["list_version"] == 7
    pub.list_file(data, version=7).wait_for_publish()
    logs.wait_for("list version 7 is not newer than 7")
    spy.close()


def test_a_received_file_that_is_not_a_signed_list_is_refused(
    hub: Hub, broker: Mosquitto, make_gate, logs: LogWatch
) -> None:
    gate = make_gate()
    spy = Spy(broker.port)
    publisher(hub, spy).list_file(b"x" * 1000, version=2)
    logs.wait_for("list received, 1000 bytes")
    logs.wait_for("list refused (malformed)")
    assert gate.gate.store.version == 1  # the list in force stays
    spy.close()


def test_a_signed_list_from_the_hub_is_verified_and_put_in_force(
    hub: Hub, broker: Mosquitto, make_gate, logs: LogWatch, tmp_path: Path
) -> None:
    gate = make_gate()
    now = time.time()
    passes, types = write_demo(tmp_path / "next", datetime.fromtimestamp(now).date(), filler=9)
    signed = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "next.pql", now, version=5)
    spy = Spy(broker.port)
    publisher(hub, spy).list_file(signed.read_bytes(), version=5, museum="M1", gate="G1")
    logs.wait_for("list version 5 (snapshot) in force")
    assert gate.on_loop(lambda: gate.gate.store.version) == 5
    spy.close()


@both_databases
def test_a_gate_that_reconnects_gets_the_deltas_and_the_list_it_missed(
    hub: Hub, broker: Mosquitto, make_gate, logs: LogWatch
) -> None:
    with hub.m.db.atomic():
        new_delta(hub.m, time.time(), kind="block", serial=ACTIVE, state="blocked")
    data = b"list" * 50_000
    hub.m.list_release.create(version=3, museum="*", gate="*", size=len(data), data=data,
                              sha256=hashlib.sha256(data).hexdigest(),
                              published_at=time.time())  # fmt: skip
    gate = make_gate()  # connects after both were published: its hello brings them
    logs.wait_for("list received, 200000 bytes")
    remote = gate.journal.models.remote_pass
    wait_until(lambda: remote.get_or_none(remote.serial == ACTIVE) is not None, "block applied")
    tap(gate, ACTIVE)
    assert gate.journal.models.record.get_by_id(1).reason == "blocked"


@both_databases
def test_the_hub_asks_for_records_again_and_the_gate_resends_them(
    hub: Hub, broker: Mosquitto, make_gate
) -> None:
    gate = make_gate()
    tap(gate, ACTIVE)
    gate.wait_acked(1)
    hub.m.entry.delete().execute()  # the hub lost its copy (a restored backup)
    hub.m.incarnation.update(contiguous_seq=0, contiguous_hash="0" * 64, highest_seq=0).execute()
    spy = Spy(broker.port)
    publisher(hub, spy).resend("M1", "G1", n=1, from_seq=1).wait_for_publish()
    wait_until(lambda: hub.seqs("M1", "G1") == [1], "record stored again")
    spy.close()


@pytest.mark.parametrize("batch_format", [1, 2])
def test_every_message_on_the_wire_fits_its_json_schema(
    hub: Hub, broker: Mosquitto, make_gate, batch_format: int
) -> None:
    spy = Spy(broker.port, subscribe="portique/v1/#")
    gate = make_gate(batch_format=batch_format)
    tap(gate, SOLD)  # batch, ack, deltas
    gate.wait_acked(1)
    publisher(hub, spy).list_file(b"y" * 70_000, version=2).wait_for_publish()
    wait_until(lambda: any(t.endswith("list/chunk") for t, _ in spy.heard), "chunks heard")
    gate.stop()  # the last status
    names = set()
    for topic, payload in spy.heard:
        name = parse_topic(topic).name.replace("list/", "list_")
        if name == "batch2":  # the signed header, a newline, the records as arrays
            payload, records = payload.split(b"\n", 1)
            header = json.loads(payload)["body"]
            rows = [dict(zip(COLUMNS, row, strict=True)) for row in json.loads(records)]
            jsonschema.validate({**{k: header[k] for k in ("museum", "gate", "epoch",
                                    "sent_at", "first_seq", "last_seq")}, "type": "batch",
                                 "records": rows}, schema("batch"))  # fmt: skip
            assert rows[-1]["hash"] == header["last_hash"]
        document = json.loads(payload)
        if name != "list_chunk":
            jsonschema.validate(document, schema("envelope"))
            document = document["body"]
        jsonschema.validate(document, schema(name))
        names.add(name)
    batch = "batch2" if batch_format == 2 else "batch"
    assert {batch, "status", "hello", "ack", "deltas", "beacon", "list_manifest",
            "list_chunk"} <= names  # fmt: skip
    spy.close()


def test_schemas_are_valid_json_schemas() -> None:
    folder = Path(__file__).resolve().parents[1] / "firmware" / "sync" / "schemas"
    paths = sorted(folder.glob("*.json"))
    assert len(paths) >= 11  # every message, the envelope and the enrolment
    for path in paths:
        jsonschema.Draft7Validator.check_schema(json.loads(path.read_text()))
