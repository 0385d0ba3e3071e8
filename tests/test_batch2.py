"""The compact batch format (batch2) against hostile and broken senders.

The hub acknowledges a batch2 once its raw bytes are stored and unpacks it
after (hub/rawbatch.py): what it acknowledges must be exactly what the gate
signed, a forged or altered one must leave nothing behind, and records that
fail a check after the acknowledgement must be reported, never stored as
entries.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from conftest import ACTIVE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases
from syncworld import Hub, LogWatch, Mosquitto, Spy, SyncGate, fill_journal

from firmware.events import CardTapped
from firmware.journal.journal import COLUMNS
from firmware.protocol.record import ADDED
from firmware.sync.protocol import seal, seal_batch
from firmware.trust import key_id, raw_public


def rows(gate: SyncGate, count: int) -> list[list[Any]]:
    return [[r[name] for name in COLUMNS] for r in gate.link.outbox.records(0, count)]


def header(gate: SyncGate, records: list[list[Any]]) -> dict[str, Any]:
    return {"museum": gate.museum, "gate": gate.name, "epoch": gate.journal.epoch,
            "sent_at": time.time(), "first_seq": records[0][0],
            "last_seq": records[-1][0]}  # fmt: skip


def signed(gate: SyncGate, records: list[list[Any]], key: Any = None) -> bytes:
    key = key or gate.gate.sync_client.key
    return seal_batch(header(gate, records), records, key, key_id(raw_public(key.public_key())))


def publish(spy: Spy, gate: SyncGate, payload: bytes) -> None:
    spy.publish(f"portique/v1/{gate.museum}/{gate.name}/up/batch2", payload)


@both_databases
def test_a_batch2_is_acknowledged_once_stored_and_its_rows_follow(
    hub: Hub, make_gate, broker: Mosquitto
) -> None:
    gate = make_gate(batch_format=2)
    last = gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0))
                        or gate.journal.last_seq)  # fmt: skip
    gate.wait_acked(last)
    assert hub.seqs("M1", "G1") == [1]
    mine = gate.journal.models.record.get_by_id(1)
    stored = hub.m.entry.get(hub.m.entry.seq == 1)
    assert (stored.hash, stored.wall, stored.credential) == (mine.hash, mine.wall, mine.credential)


def test_records_altered_after_signing_are_refused_and_nothing_is_kept(
    hub: Hub, make_gate, broker: Mosquitto, logs: LogWatch
) -> None:
    gate = make_gate(start=False)
    fill_journal(gate.journal, 3)
    records = rows(gate, 3)
    payload = signed(gate, records)
    altered = payload.replace(b'"05000000000001"', b'"05000000000099"')
    assert altered != payload
    spy = Spy(broker.port)
    publish(spy, gate, altered)
    logs.wait_for("bad_records: batch2: the records do not match the header's hash")
    # A header signed by a key that is not the gate's: refused before anything is stored.
    publish(spy, gate, signed(gate, records, key=Ed25519PrivateKey.generate()))
    logs.wait_for("unknown_key")
    # No newline, no records.
    publish(spy, gate, payload.split(b"\n")[0])
    logs.wait_for("batch2: no records after the signed header")
    assert hub.seqs("M1", "G1") == [] and hub.stored("M1", "G1") == 0
    assert hub.m.db.execute_sql("SELECT COUNT(*) FROM raw_batch").fetchone()[0] == 0
    spy.close()


@both_databases
def test_a_signed_batch2_whose_chain_is_broken_inside_is_reported_not_stored(
    hub: Hub, make_gate, broker: Mosquitto, logs: LogWatch
) -> None:
    # What a gate with a corrupt journal (or a stolen key) would send: the header is
    # genuinely signed, but record 2 does not link to record 1.
    gate = make_gate(start=False)
    fill_journal(gate.journal, 3)
    records = rows(gate, 3)
    records[1][COLUMNS.index("prev_hash")] = "f" * 64
    spy = Spy(broker.port)
    publish(spy, gate, signed(gate, records))
    logs.wait_for("cannot be unpacked: record 2's previous-hash link does not match")
    assert hub.seqs("M1", "G1") == []
    assert ("bad_batch", 1) in hub.problems()
    spy.close()


def test_a_signed_batch2_with_a_record_whose_hash_lies_is_quarantined(
    hub: Hub, make_gate, broker: Mosquitto
) -> None:
    gate = make_gate(start=False)
    fill_journal(gate.journal, 2)
    records = rows(gate, 2)
    records[1][COLUMNS.index("credential")] = "05FFFFFFFFFFFF"  # its hash no longer fits
    spy = Spy(broker.port)
    publish(spy, gate, signed(gate, records))
    hub.wait_stored("M1", "G1", 2)  # acknowledged raw: the gate signed these very bytes
    assert hub.seqs("M1", "G1") == [1]
    assert ("bad_hash", 2) in hub.problems()
    q = hub.m.quarantine
    assert q.get(q.seq == 2).credential == "05FFFFFFFFFFFF"
    spy.close()


def signed_bytes(gate: SyncGate, data: bytes, first: int, last: int) -> bytes:
    """A header the gate's key signs naming any bytes at all: what a sender with the key can do."""
    key = gate.gate.sync_client.key
    body = {"type": "batch2", "museum": gate.museum, "gate": gate.name,
            "epoch": gate.journal.epoch, "sent_at": time.time(), "first_seq": first,
            "last_seq": last, "prev_hash": "0" * 64, "last_hash": "0" * 64,
            "records_sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    return seal(body, key, key_id(raw_public(key.public_key()))) + b"\n" + data


def test_records_that_are_not_arrays_of_the_columns_are_reported(
    hub: Hub, make_gate, broker: Mosquitto, logs: LogWatch
) -> None:
    gate = make_gate(start=False)
    fill_journal(gate.journal, 1)
    record = rows(gate, 1)[0]
    day = COLUMNS.index("day")
    spy = Spy(broker.port)
    hostile = (
        lambda r: json.dumps([r[:-1]]),  # a column short
        lambda r: json.dumps([dict(zip(COLUMNS, r, strict=True))]),  # the earlier format's
        lambda r: json.dumps([[*r[:day], 7, *r[day + 1 :]]]),  # a number for the day
        lambda r: "[[" * 40 + "]]" * 40,  # nested past the parser's limit
        lambda r: "not json",
    )
    for index, make in enumerate(hostile, start=1):
        data = make([index, *record[1:]]).encode()
        publish(spy, gate, signed_bytes(gate, data, index, index))
    logs.wait_for(f"raw batch {len(hostile)}..{len(hostile)} cannot be unpacked")
    assert hub.seqs("M1", "G1") == []
    assert [kind for kind, _ in hub.problems() if kind != "gap"] == ["bad_batch"] * len(hostile)
    spy.close()


def test_a_batch2_sent_twice_is_stored_once(
    hub: Hub, make_gate, broker: Mosquitto, logs: LogWatch
) -> None:
    gate = make_gate(start=False)
    fill_journal(gate.journal, 3)
    payload = signed(gate, rows(gate, 3))
    spy = Spy(broker.port)
    publish(spy, gate, payload)
    publish(spy, gate, payload)
    logs.wait_for("batch 1..3 already stored: duplicate, nothing stored")
    assert hub.seqs("M1", "G1") == [1, 2, 3]
    assert hub.m.db.execute_sql("SELECT COUNT(*) FROM raw_batch").fetchone()[0] == 1
    spy.close()


def test_a_gate_of_the_release_before_persons_sends_shorter_rows_that_are_stored(
    hub: Hub, make_gate, broker: Mosquitto
) -> None:
    # A gate not yet updated knows the columns before ``ADDED`` only; its records
    # (refusals here: persons unset) hash the same either way and must be taken.
    gate = make_gate(start=False)
    fill_journal(gate.journal, 3)
    short = [row[: len(COLUMNS) - len(ADDED)] for row in rows(gate, 3)]
    spy = Spy(broker.port)
    publish(spy, gate, signed(gate, short))
    hub.wait_stored("M1", "G1", 3)
    assert hub.seqs("M1", "G1") == [1, 2, 3]
    assert [kind for kind, _ in hub.problems() if kind != "gap"] == []
    e = hub.m.entry
    assert [row.persons for row in e.select().order_by(e.seq)] == [None, None, None]
    spy.close()
