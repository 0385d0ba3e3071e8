"""The hub's database on SQLite and on a real PostgreSQL.

Exact times, portable writes, migrations in place, a clear word without the driver.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ACTIVE, DEMO_KEYS, EXPIRED, FAMILY, SOLD
from hub_schema_v0 import MODELS as V0_MODELS
from pgserver import PostgresServer, both_databases
from playhouse.db_url import connect
from syncworld import Hub, Mosquitto, SyncGate, fill_journal

from firmware.events import CardTapped
from firmware.journal.journal import COLUMNS, LEGACY_EPOCH, Journal, record_hash
from firmware.journal.models import bound_model
from firmware.journal.outbox import Outbox
from hub import cli
from hub.ingest import Ingest
from hub.migrations import LATEST, TIME_COLUMNS
from hub.models import HubModels, open_hub


def tap(gate: SyncGate, serial: str) -> None:
    gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(serial), 0.0)))


@both_databases
@pytest.mark.parametrize("batch_format", [1, 2])  # a gate of the earlier format, and of today's
def test_every_stored_record_rehashes_to_what_the_gate_signed(
    hub: Hub, make_gate, batch_format: int
) -> None:
    gate = make_gate(batch_format=batch_format)
    # Taps on the system clock: wall and monotonic times with microseconds, which a
    # 4-byte float would round by minutes; admitted, activated, refused, unknown.
    for serial in (ACTIVE, SOLD, EXPIRED, FAMILY, "DEADBEEF", ACTIVE):
        tap(gate, serial)
    last = gate.fill(200)
    gate.wait_acked(last)
    hub.unpacked()
    e = hub.m.entry
    rows = list(e.select().where(e.museum == "M1", e.gate == "G1").order_by(e.seq))
    assert len(rows) == last
    for row in rows:
        fields = {name: getattr(row, name) for name in COLUMNS}
        assert record_hash(fields) == row.hash, f"seq {row.seq} does not re-hash"
    signed = gate.link.outbox.records(0, last)
    assert [{name: getattr(row, name) for name in COLUMNS} for row in rows] == signed


@both_databases
def test_list_publish_stores_a_release_and_publishing_it_again_replaces_it(
    hub: Hub, broker: Mosquitto, demo_signed_list: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The hub checks a list as a gate would: under the root it pins (here the demonstration's).
    shutil.copy(DEMO_KEYS / "root.pub", hub.dir / "root.pub")
    args = ["list", "publish", str(demo_signed_list), "--data", str(hub.dir), *hub.cli_db,
            "--port", str(broker.port), "--allow-demo-keys"]  # fmt: skip
    assert cli.main(args) == 0
    first = hub.m.list_release.get().published_at
    assert cli.main(args) == 0
    r = hub.m.list_release
    assert r.select().count() == 1
    assert r.get().published_at > first
    assert bytes(r.get().data) == demo_signed_list.read_bytes()
    assert "published to every gate" in capsys.readouterr().out


def test_a_postgresql_url_without_its_driver_names_the_extra_before_writing_anything(
    tmp_path: Path,
) -> None:
    without_psycopg = ("import sys; sys.modules['psycopg'] = None; from hub.cli import main; "
                       "sys.exit(main(sys.argv[1:]))")  # fmt: skip
    data = tmp_path / "hub"
    for command in (["init"], ["run"], ["gate", "list"]):
        done = subprocess.run(
            [sys.executable, "-c", without_psycopg, *command, "--data", str(data),
             "--db", "postgresql://portique@127.0.0.1:9/hub"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "pip install 'portique[postgres]'" in done.stderr
        assert "Traceback" not in done.stderr
        assert not data.exists()


# -- migrations ------------------------------------------------------------------------


def database(db_kind: str, directory: Path, request: pytest.FixtureRequest, name: str) -> str:
    if db_kind == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory / f'{name}.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    created = server.create_database()
    request.addfinalizer(lambda: server.drop_database(created))
    return server.url(created)


def old_hub(url: str, records: list[dict[str, Any]]) -> None:
    """A hub database as the hub before migrations left it, with two records of M1/G1."""
    db = connect(url)
    v0 = {base.__name__: bound_model(base, db) for base in V0_MODELS}
    db.create_tables(list(v0.values()))
    now = 1_790_000_000.0
    v0["GateKey"].create(museum="M1", gate="G1", public_key="k", key_id="id", added_at=now)
    for record in records:
        v0["Entry"].create(**{name: record[name] for name in COLUMNS if name != "museum"},
                           museum="M1", received_at=now)  # fmt: skip
    v0["Progress"].create(museum="M1", gate="G1", contiguous_seq=2,
                          contiguous_hash=records[1]["hash"], highest_seq=2)  # fmt: skip
    v0["Problem"].create(museum="M1", gate="G1", kind="gap", seq=1, detail="old", at=now)
    v0["ListRelease"].create(version=1, museum="*", gate="*", sha256="0" * 64, size=1,
                             data=b"x", published_at=now)  # fmt: skip
    db.close()


def schema(m: HubModels) -> dict[str, Any]:
    """Each table's columns (name, type, nullable) and indexes (columns, unique)."""
    db = m.db
    return {
        table: (
            sorted((c.name, c.data_type.lower(), c.null) for c in db.get_columns(table)),
            sorted((tuple(i.columns), i.unique) for i in db.get_indexes(table)),
        )
        for table in sorted(db.get_tables())
    }


@both_databases
def test_an_existing_hub_database_is_migrated_in_place_and_its_gates_carry_on(
    db_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    journal = Journal.open(tmp_path / "gate" / "journal.sqlite")
    fill_journal(journal, 3)
    journal.db.execute_sql("DELETE FROM setting WHERE key = 'journal.epoch'")  # before epochs
    records = Outbox(journal).records(0, 3)
    url = database(db_kind, tmp_path / "db", request, "old")
    old_hub(url, records[:2])

    m = open_hub(url)
    versions = [row[0] for row in m.db.execute_sql(
        "SELECT version FROM schema_migration ORDER BY version").fetchall()]  # fmt: skip
    assert versions == list(range(1, LATEST + 1))
    assert {row.epoch for row in m.entry.select()} == {LEGACY_EPOCH}
    kept = m.incarnation.get()
    assert (kept.epoch, kept.contiguous_seq, kept.contiguous_hash) == (
        LEGACY_EPOCH, 2, records[1]["hash"])  # fmt: skip
    # Times keep their microseconds now, on PostgreSQL too.
    m.gate_key.update(added_at=1_790_000_000.123456).execute()
    assert m.gate_key.get().added_at == 1_790_000_000.123456
    # The same columns and indexes as a hub created today.
    fresh = open_hub(database(db_kind, tmp_path / "db", request, "fresh"))
    assert schema(m) == schema(fresh)
    if db_kind == "postgresql":
        types = {(c.table, c.name): c.data_type for t, _ in TIME_COLUMNS
                 for c in m.db.get_columns(t)}  # fmt: skip
        assert {types[column] for column in TIME_COLUMNS} == {"double precision"}
    # The gate, whose journal predates epochs, carries on at seq 3 (and names no epoch).
    body = {"type": "batch", "museum": "M1", "gate": "G1", "sent_at": time.time(),
            "first_seq": 3, "last_seq": 3, "records": records[2:]}  # fmt: skip
    result = Ingest(m, time.time).batch("M1", "G1", body)
    assert (result.ack_seq, result.ack_hash, result.epoch) == (3, records[2]["hash"], None)
    m.db.close()
    again = open_hub(url)  # nothing left to do: opening again changes nothing
    assert schema(again) == schema(fresh)
    assert again.entry.select().count() == 3
    for models in (again, fresh):
        models.db.close()
    journal.close()


@both_databases
def test_every_writing_hub_command_works_on_the_database(
    hub: Hub, broker: Mosquitto, make_gate, capsys: pytest.CaptureFixture[str]
) -> None:
    gate = make_gate()
    key = gate.settings.gate.data_dir / "gate.pub"

    def run(*args: str, broker_args: bool = False) -> str:
        port = ["--port", str(broker.port)] if broker_args else []
        assert cli.main([*args, "--data", str(hub.dir), *hub.cli_db, *port]) == 0
        return capsys.readouterr().out

    run("gate", "add", "--museum", "M1", "--gate", "G1", "--key", str(key))  # replaces
    run("gate", "add", "--museum", "M2", "--gate", "G9", "--key", str(key))
    assert "delta 1" in run("pass", "block", ACTIVE, broker_args=True)
    assert "delta 2" in run("pass", "sell", SOLD, "--pass-number", "1", "--type", "single",
                            broker_args=True)  # fmt: skip
    for _ in range(2):
        run("resend", "--museum", "M1", "--gate", "G1", "--from", "1", broker_args=True)
    assert hub.m.counter.get(hub.m.counter.name == "cmd:M1/G1").value == 2
    listed = run("gate", "list")
    assert "M1/G1" in listed and "M2/G9" in listed
    run("problems")
    assert run("export", "--museum", "M1", "--from", "2026-01-01", "--to", "2026-12-31")


@both_databases
def test_hub_processes_opening_a_new_database_at_once_create_it_once(
    db_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = database(db_kind, tmp_path / "db", request, "shared")
    processes = [
        subprocess.Popen([sys.executable, "-m", "hub", "gate", "list", "--data",
                          str(tmp_path / f"hub{i}"), "--db", url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]  # fmt: skip
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    m = open_hub(url)
    versions = m.db.execute_sql("SELECT version FROM schema_migration ORDER BY version")
    assert [row[0] for row in versions.fetchall()] == list(range(1, LATEST + 1))
    m.db.close()
