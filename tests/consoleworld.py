"""Small worlds for the console's tests: a hub folder whose records came through the hub's
own ingestion from real gate journals, console accounts of every role, and a client.

Records are journaled by ``firmware.journal`` and stored by ``hub.ingest``, exactly
as a gate's batch would be; nothing is written into the hub's tables by hand.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_KEYS
from flask import Flask
from flask.testing import FlaskClient

from firmware.journal.journal import Entry, Journal
from firmware.journal.outbox import Outbox
from firmware.trust import generate_private_key, raw_public, write_public_key
from hub.console.app import ConsoleSettings, create_app
from hub.console.auth import Person, add_user, open_session
from hub.console.models import ConsoleModels, open_console
from hub.ingest import Ingest
from hub.keys import OFFICE_PUBLIC, init_keys
from hub.models import HubModels, database_url, open_hub, register_gate
from hub.publish import Broker

PASSWORD = "correct horse battery staple"
DAY = "2026-11-03"
DAY_WALL = 1_793_700_000.0  # 2026-11-03 about 09:00 in Paris
# name -> (role, museum)
PEOPLE = {
    "office": ("admin", None),
    "anna": ("manager", "M1"),
    "victor": ("viewer", "M1"),
    "bruno": ("manager", "M2"),
}
SERIAL_M1 = "04AA0000000001"  # entered at M1 twice on DAY (two gates), at M2 once
SERIAL_M2 = "04BB0000000002"  # entered at M2 only


class Clock:
    """The console's clock for tests: the wall time, moved by the test."""

    def __init__(self, wall: float) -> None:
        self.wall = wall

    def __call__(self) -> float:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.wall += seconds


def journal_records(path: Path, museum: str, gate: str, taps: list[dict[str, Any]]) -> dict:
    """A real gate journal with ``taps`` appended; the batch body a gate would send."""
    journal = Journal.open(path)
    try:
        for index, tap in enumerate(taps):
            fields = {
                "kind": "decision", "wall": DAY_WALL + index * 60, "monotonic": float(index),
                "time_trusted": True, "day": DAY, "museum": museum, "gate": gate,
                "credential_kind": "chip", "admitted": True, "reason": "ok",
                "list_version": 3, **tap,
            }  # fmt: skip
            journal.append(Entry(**fields))
        records = Outbox(journal).records(0, 1000)
    finally:
        journal.close()
    return {"first_seq": records[0]["seq"], "last_seq": records[-1]["seq"], "records": records}


@dataclass
class HubFolder:
    dir: Path
    m: HubModels
    cm: ConsoleModels
    office_key: Path
    db_url: str | None = None  # a PostgreSQL database; None: hub.sqlite in ``dir``

    @property
    def url(self) -> str:
        return database_url(self.dir, self.db_url)


def make_hub_folder(directory: Path, db_url: str | None = None) -> HubFolder:
    """A hub with gates M1/G1, M1/G2, M2/G1, a day of entries at each, problems at both."""
    # The demonstration root: the lists the tests publish are signed under it.
    init_keys(directory, time.time(), DEMO_KEYS / "root.key")
    office = generate_private_key(directory / "office.key")
    write_public_key(office, directory / OFFICE_PUBLIC)
    m = open_hub(database_url(directory, db_url))
    for museum, gate in (("M1", "G1"), ("M1", "G2"), ("M2", "G1")):
        key = generate_private_key(directory / f"{museum}-{gate}.key")
        register_gate(m, museum, gate, raw_public(key.public_key()), DAY_WALL)
    ingest = Ingest(m, lambda: DAY_WALL + 3600)
    m1 = [{"credential": SERIAL_M1, "pass_number": "100001", "billable": True, "children": 2},
          {"credential": "04CC000000000003", "admitted": False, "reason": "expired"},
          {"credential": "04CC000000000004", "admitted": False, "reason": "blocked"}]  # fmt: skip
    ingest.batch("M1", "G1", journal_records(directory / "j-m1-g1.sqlite", "M1", "G1", m1))
    # The same pass at the museum's other gate the same day: billable there too, once here.
    again = [{"credential": SERIAL_M1, "pass_number": "100001", "billable": True}]
    ingest.batch("M1", "G2", journal_records(directory / "j-m1-g2.sqlite", "M1", "G2", again))
    m2 = [{"credential": SERIAL_M1, "pass_number": "100001", "billable": True},
          {"credential": SERIAL_M2, "pass_number": "100002", "billable": True}]  # fmt: skip
    ingest.batch("M2", "G1", journal_records(directory / "j-m2-g1.sqlite", "M2", "G1", m2))
    ingest.report("M1", "G1", "gap", 7, "records from 7 are missing")
    ingest.report("M2", "G1", "chain_break", 3, "its previous-hash link does not match")
    cm = open_console(m)
    for name, (role, museum) in PEOPLE.items():
        add_user(cm, name, role, museum, PASSWORD, DAY_WALL)
    return HubFolder(directory, m, cm, directory / "office.key", db_url)


def console_settings(folder: HubFolder, broker_port: int, **overrides: Any) -> ConsoleSettings:
    values: dict[str, Any] = {
        "data_dir": folder.dir, "db_url": folder.url, "broker": Broker(port=broker_port),
        "office_key": folder.office_key, "secure_cookies": False, "allow_demo_keys": True,
        **overrides,
    }  # fmt: skip
    return ConsoleSettings(**values)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    return client.post("/login", data={"name": name, "password": password,
                                       "csrf_token": csrf_token(client)})  # fmt: skip


def audit_rows(cm: ConsoleModels, outcome: str | None = None) -> list[Any]:
    a = cm.audit
    query = a.select().order_by(a.id)
    return list(query.where(a.outcome == outcome) if outcome else query)


@pytest.fixture(scope="session")
def hub_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Made once: argon2 hashes cost most of a second each on a busy machine."""
    directory = tmp_path_factory.mktemp("console") / "hub"
    make_hub_folder(directory).m.db.close()
    return directory


@pytest.fixture(scope="session")
def pg_hub_template(tmp_path_factory: pytest.TempPathFactory,
                    postgres_server: Any) -> tuple[Path, str]:  # fmt: skip
    """The same world on PostgreSQL, made once: a template database each test copies."""
    directory = tmp_path_factory.mktemp("console-pg") / "hub"
    name = postgres_server.create_database()
    make_hub_folder(directory, postgres_server.url(name)).m.db.close()
    return directory, name


@pytest.fixture
def hub_folder(tmp_path: Path, db_kind: str, request: pytest.FixtureRequest) -> Iterator[HubFolder]:
    """The console's world on SQLite, or on PostgreSQL where the test says (``db_kind``)."""
    directory = tmp_path / "hub"
    if db_kind == "sqlite":
        shutil.copytree(request.getfixturevalue("hub_template"), directory)
        m = open_hub(database_url(directory, None))
        yield HubFolder(directory, m, open_console(m), directory / "office.key")
        m.db.close()
        return
    server = request.getfixturevalue("postgres_server")
    template, template_db = request.getfixturevalue("pg_hub_template")
    shutil.copytree(template, directory)
    name = server.create_database(template=template_db)
    m = open_hub(server.url(name))
    yield HubFolder(directory, m, open_console(m), directory / "office.key", server.url(name))
    m.db.close()
    server.drop_database(name)


@pytest.fixture
def console_clock() -> Clock:
    return Clock(DAY_WALL + 7200)


@pytest.fixture
def console_app(hub_folder: HubFolder, console_clock: Clock) -> Iterator[Flask]:
    from conftest import free_port

    app = create_app(console_settings(hub_folder, free_port()), console_clock)
    yield app


@pytest.fixture
def client_of(console_app: Flask) -> Iterator[Any]:
    """``client_of(name)``: a test client logged in as ``name``."""

    def make(name: str) -> FlaskClient:
        """Logged in through the console's own session store, without the password's cost
        (the login form itself is tested on its own)."""
        ctx = console_app.extensions["portique"]
        user = ctx.cm.user.get(ctx.cm.user.name == name)
        person = Person(user.name, user.role, user.museum)
        client = console_app.test_client()
        with client.session_transaction() as session:
            session["token"] = open_session(ctx.cm, person, ctx.now())
        return client

    yield make
