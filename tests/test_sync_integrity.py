"""A gate's identity and the hub's own checks, against a real mosquitto and a real database.

A re-provisioned gate (new journal, seq from 1 again) is a new journal of
the same gate, never a rewrite of the old one; a record the hub cannot
verify is set apart and never stands in for the gate's real record.
"""

from __future__ import annotations

import io
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ACTIVE, ENDING_SOON, SOLD
from pgserver import both_databases
from syncworld import Hub, LogWatch, Mosquitto, Spy, SyncGate, fill_journal

from firmware.events import CardTapped
from firmware.journal.journal import COLUMNS, LEGACY_EPOCH, Journal, record_hash
from firmware.sync.keys import PUBLIC_FILE
from firmware.sync.protocol import seal
from firmware.trust import key_id, raw_public, read_public_key
from hub import cli
from hub.export import export_entries
from hub.models import register_gate

# -- helpers -------------------------------------------------------------------------


def send_signed(gate: SyncGate, spy: Spy, name: str, body: dict[str, Any]) -> None:
    """Publish ``body`` on the gate's up topic, signed with the gate's own key."""
    key = gate.gate.sync_client.key
    body = {"museum": gate.museum, "gate": gate.name, "sent_at": time.time(), **body}
    spy.publish(f"portique/v1/{gate.museum}/{gate.name}/up/{name}",
                seal(body, key, key_id(raw_public(key.public_key()))))  # fmt: skip


def batch(gate: SyncGate, records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "batch", "epoch": gate.journal.epoch, "first_seq": records[0]["seq"],
            "last_seq": records[-1]["seq"], "records": records}  # fmt: skip


def hub_records(hub: Hub, museum: str, gate: str, epoch: str) -> list[dict[str, Any]]:
    e = hub.m.entry
    rows = e.select().where(e.museum == museum, e.gate == gate, e.epoch == epoch).order_by(e.seq)
    return [{name: getattr(row, name) for name in COLUMNS} for row in rows]


def reprovision(gate: SyncGate, hub: Hub) -> SyncGate:
    """What `portique deprovision` then `portique provision` leave: a new key, a new journal."""
    gate.stop()
    data = gate.settings.gate.data_dir
    for name in ("gate.key", "gate.pub", "journal.sqlite", "journal.sqlite-wal",
                 "journal.sqlite-shm"):  # fmt: skip
        (data / name).unlink(missing_ok=True)
    again = SyncGate(gate.settings)
    register_gate(hub.m, gate.museum, gate.name, read_public_key(data / PUBLIC_FILE), time.time())
    return again


def hub_cli(hub: Hub, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert cli.main([*args, "--data", str(hub.dir), *hub.cli_db]) == 0
    return capsys.readouterr().out


# -- gate incarnations ---------------------------------------------------------------------


@both_databases
def test_a_reprovisioned_gate_has_every_record_of_its_new_journal_stored(
    hub: Hub, make_gate, capsys: pytest.CaptureFixture[str]
) -> None:
    old = make_gate()
    old.fill(5)
    old.wait_acked(5)
    old_epoch = old.journal.epoch
    new = reprovision(old, hub).start()
    try:
        assert new.journal.epoch not in (old_epoch, LEGACY_EPOCH)
        new.fill(3)
        new.wait_acked(3)
        assert hub.seqs("M1", "G1", new.journal.epoch) == [1, 2, 3]
        assert hub.seqs("M1", "G1", old_epoch) == [1, 2, 3, 4, 5]
        assert hub_records(hub, "M1", "G1", new.journal.epoch) == new.link.outbox.records(0, 3)
        assert new.link.outbox.backlog == 0
        listed = hub_cli(hub, capsys, "gate", "list")
        assert f"journal {new.journal.epoch}  stored 1..3" in listed
        assert f"earlier journal {old_epoch}" in listed and "stored 1..5 of 5" in listed
        assert ("new_journal", None) in hub.problems()
        assert "unacknowledged_tail" not in hub_cli(hub, capsys, "problems")  # nothing lost
    finally:
        new.stop()


def said_by(name: str, epoch: str, last_seq: int) -> dict[str, Any]:
    """A hello or a status of journal ``epoch`` saying it holds ``last_seq`` records."""
    if name == "hello":
        return {"type": "hello", "epoch": epoch, "last_seq": last_seq, "acked_seq": 0,
                "delta_seq": 0, "list_version": 0, "list_partial": None}  # fmt: skip
    return {"type": "status", "epoch": epoch, "session": "c" * 32, "n": 1, "online": True,
            "list_version": 0, "list_age_s": None, "backlog": last_seq, "last_seq": last_seq,
            "last_ack_seq": 0, "last_ack_at": None, "reader_up": True, "reader_detail": "",
            "journal_ok": True, "time_trusted": True, "broker_connected": True}  # fmt: skip


@both_databases
@pytest.mark.parametrize("told_by", ["hello", "status"])
def test_the_old_journals_unacknowledged_tail_is_listed_in_problems(
    broker: Mosquitto, hub: Hub, make_gate, capsys: pytest.CaptureFixture[str], told_by: str
) -> None:
    old = make_gate(start=False)
    fill_journal(old.journal, 8)  # the loop is not running: the test owns the journal
    old_epoch = old.journal.epoch
    spy = Spy(broker.port)
    # The old card said it held 8 records, but only 1..5 reached the hub before it was pulled.
    send_signed(old, spy, told_by, said_by(told_by, old_epoch, 8))
    send_signed(old, spy, "batch", batch(old, old.link.outbox.records(0, 5)))
    hub.wait_stored("M1", "G1", 5)
    spy.close()
    new = reprovision(old, hub).start()
    try:
        new.fill(2)
        new.wait_acked(2)
        assert hub.stored("M1", "G1", old_epoch) == 5
        problems = hub_cli(hub, capsys, "problems")
        assert "unacknowledged_tail  seq 6" in problems and "6..8" in problems
        assert old_epoch in problems
    finally:
        new.stop()


@both_databases
def test_an_acknowledgement_for_the_old_journal_never_marks_the_new_one(
    broker: Mosquitto, hub: Hub, make_gate, logs: LogWatch
) -> None:
    old = make_gate()
    old.fill(3)
    old.wait_acked(3)
    old_epoch = old.journal.epoch
    new = reprovision(old, hub).start()
    try:
        new.fill(3)
        new.wait_acked(3)
        new.on_loop(lambda: fill_journal(new.journal, 1))  # record 4, not sent yet
        four = new.journal.models.record.get_by_id(4).hash
        spy = Spy(broker.port)
        # Signed by the hub, right seq, right hash, but naming the old journal:
        for epoch in (old_epoch, None):
            body = {"type": "ack", "museum": "M1", "gate": "G1", "issued_at": time.time(),
                    "seq": 4, "hash": four, **({"epoch": epoch} if epoch else {})}  # fmt: skip
            spy.publish("portique/v1/M1/G1/down/ack", hub.signer.seal(body))
        logs.wait_for(f"acknowledgement of record 4 refused: it names journal {old_epoch}")
        logs.wait_for("acknowledgement of record 4 refused: it names no journal")
        spy.close()
        assert new.on_loop(lambda: new.acked) == 3
    finally:
        new.stop()


def test_a_journal_begun_before_epochs_keeps_the_legacy_epoch(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.sqlite")
    fresh = journal.epoch
    assert len(fresh) == 32 and fresh != LEGACY_EPOCH
    fill_journal(journal, 2)
    journal.close()
    assert Journal.open(tmp_path / "journal.sqlite").epoch == fresh  # written once, kept
    old = Journal.open(tmp_path / "old.sqlite")
    fill_journal(old, 2)
    old.db.execute_sql("DELETE FROM setting WHERE key = 'journal.epoch'")  # as before epochs
    old.close()
    assert Journal.open(tmp_path / "old.sqlite").epoch == LEGACY_EPOCH


# -- the hub never prefers a record that fails its checks -------------------------------------


def content_changed(record: dict[str, Any]) -> dict[str, Any]:
    """Another pass number, the hash left as the gate computed it: the hash does not match."""
    return {**record, "pass_number": "999999", "credential": "05FFFFFFFFFFFF"}


def hash_replaced(record: dict[str, Any]) -> dict[str, Any]:
    return {**content_changed(record), "hash": "ab" * 32}


def link_broken(record: dict[str, Any]) -> dict[str, Any]:
    """Self-consistent (its hash matches) but not linked to the record before."""
    forged = {**content_changed(record), "prev_hash": "cd" * 32}
    return {**forged, "hash": record_hash(forged)}


FORGERIES = {"content_changed": content_changed, "hash_replaced": hash_replaced,
             "link_broken": link_broken}  # fmt: skip
FLAW = {"content_changed": "bad_hash", "hash_replaced": "bad_hash", "link_broken": "chain_break"}


@both_databases
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_a_forged_record_never_displaces_the_real_one(
    broker: Mosquitto, hub: Hub, make_gate, forgery: str
) -> None:
    gate = make_gate(start=False)
    for serial in (ACTIVE, SOLD, ENDING_SOON):  # three admissions; the loop is not running
        gate.gate.loop.handle(CardTapped(bytes.fromhex(serial), 0.0))
    real = gate.link.outbox.records(0, 3)
    # A batch signed with the gate's own key, its record 2 not what the gate journaled:
    spy = Spy(broker.port)
    send_signed(gate, spy, "batch", batch(gate, [real[0], FORGERIES[forgery](real[1]), real[2]]))
    hub.wait(lambda: (FLAW[forgery], 2) in hub.problems(), 30, "the forged record reported")
    spy.close()
    assert hub.stored("M1", "G1") == 1  # nothing beyond the forged record is acknowledged
    assert [row[7] for row in exported(hub)] == ["1"]  # only what is verified is billed
    gate.start()
    gate.wait_acked(3)  # the real record 2 arrived, was stored and acknowledged
    assert gate.link.outbox.backlog == 0
    assert hub_records(hub, "M1", "G1", gate.journal.epoch) == real
    q = hub.m.quarantine
    assert [(row.seq, row.flaw, row.pass_number) for row in q.select()] == [
        (2, FLAW[forgery], "999999")
    ]
    rows = exported(hub)
    assert [row[7] for row in rows] == ["1", "2", "3"]
    assert "999999" not in {row[1] for row in rows}


def exported(hub: Hub) -> list[list[str]]:
    out = io.StringIO()
    export_entries(hub.m, "M1", date(2000, 1, 1), date(2100, 1, 1), out)
    return [line.split(",") for line in out.getvalue().splitlines()[1:]]


@both_databases
def test_a_forged_record_sent_again_is_reported_once_and_never_acknowledged(
    broker: Mosquitto, hub: Hub, make_gate
) -> None:
    gate = make_gate(start=False)
    fill_journal(gate.journal, 2)
    real = gate.link.outbox.records(0, 2)
    spy = Spy(broker.port)
    forged = batch(gate, [real[0], hash_replaced(real[1])])
    for _ in range(3):
        send_signed(gate, spy, "batch", forged)
    hub.wait(lambda: hub.service.handled >= 3, 30, "three batches handled")
    spy.close()
    assert [kind for kind, _ in hub.problems() if kind != "gap"] == ["bad_hash"]
    assert hub.stored("M1", "G1") == 1 and hub.m.quarantine.select().count() == 1
    assert hub_records(hub, "M1", "G1", gate.journal.epoch) == [real[0]]
