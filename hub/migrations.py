"""Numbered schema changes, applied in place when the hub opens its database.

A new database gets the current tables at once (``create_tables``) and every
migration marked done. A database made by an older hub has its number in
``schema_migration`` (none at all: the schema before migrations existed) and
gets each later step in its own transaction, on SQLite and PostgreSQL alike
(peewee's ``playhouse.migrate`` speaks both). A step is never edited once
released; a change to the schema is a new step at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import peewee
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, migrate

from firmware.protocol.record import LEGACY_EPOCH

log = logging.getLogger("portique.hub")

# Every time column of the hub, (table, column): 8-byte floats since migration 1.
TIME_COLUMNS = (
    ("gate_key", "added_at"), ("entry", "wall"), ("entry", "monotonic"),
    ("entry", "received_at"), ("progress", "status_sent_at"), ("progress", "seen_at"),
    ("progress", "hello_sent_at"), ("problem", "at"), ("activation", "wall"),
    ("delta", "created_at"), ("list_release", "published_at"),
)  # fmt: skip


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField(primary_key=True)
    name = peewee.CharField()
    applied_at = peewee.DoubleField()

    class Meta:
        table_name = "schema_migration"


Step = Callable[[peewee.Database, SchemaMigrator, Any], None]


def _doubles(db: peewee.Database, migrator: SchemaMigrator, m: Any) -> None:
    """Time columns as 8-byte floats (SQLite's REAL always was; PostgreSQL's ``real`` is 4)."""
    if isinstance(migrator, PostgresqlMigrator):
        for table, column in TIME_COLUMNS:
            db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE double precision')


def _incarnations(db: peewee.Database, migrator: SchemaMigrator, m: Any) -> None:
    """Records by (museum, gate, epoch, seq); progress per journal; quarantine apart.

    What the hub stored before is filed under the legacy epoch, which is the
    epoch a gate gives a journal begun before epochs existed: both ends agree.
    """
    e = m.entry
    migrate(
        migrator.add_column("entry", "epoch", e.epoch),
        migrator.drop_index("entry", "entry_museum_gate_seq"),
        migrator.add_index("entry", ("museum", "gate", "epoch", "seq"), unique=True),
        migrator.add_column("problem", "epoch", m.problem.epoch),
    )
    db.create_tables([m.quarantine, m.incarnation], safe=True)
    rows = db.execute_sql("SELECT museum, gate, contiguous_seq, contiguous_hash, highest_seq "
                          "FROM progress").fetchall()  # fmt: skip
    now = time.time()
    for museum, gate, contiguous, chash, highest in rows:
        m.incarnation.create(museum=museum, gate=gate, epoch=LEGACY_EPOCH,
                             contiguous_seq=contiguous, contiguous_hash=chash,
                             highest_seq=highest, first_seen_at=now)  # fmt: skip
    migrate(*(migrator.drop_column("progress", name)
              for name in ("contiguous_seq", "contiguous_hash", "highest_seq")))  # fmt: skip


def _indexes(db: peewee.Database, _migrator: SchemaMigrator, _m: Any) -> None:
    """Indexes for the queries the hub runs: gap bookkeeping, problems, a hello's list."""
    # Named as peewee names the models' indexes, so a migrated hub equals a new one.
    for name, table, columns in (
        ("problem_museum_gate_kind_resolved", "problem", "museum, gate, kind, resolved"),
        ("problem_resolved_at", "problem", "resolved, at"),
        ("listrelease_museum_gate_version", "list_release", "museum, gate, version"),
    ):
        db.execute_sql(f'CREATE INDEX "{name}" ON "{table}" ({columns})')


def _persons(db: peewee.Database, migrator: SchemaMigrator, m: Any) -> None:
    """How many people an admission let through (duo passes: both holders), as gates send it."""
    # Step 2 makes the quarantine table from the current model, which has it already.
    migrate(*(migrator.add_column(table, "persons", model.persons)
              for table, model in (("entry", m.entry), ("quarantine", m.quarantine))
              if "persons" not in {c.name for c in db.get_columns(table)}))  # fmt: skip


MIGRATIONS: tuple[tuple[int, str, Step], ...] = (
    (1, "time columns as 8-byte floats", _doubles),
    (2, "journal incarnations and quarantine", _incarnations),
    (3, "indexes for gap reports, problems and hellos", _indexes),
    (4, "people let through by each record", _persons),
)
LATEST = MIGRATIONS[-1][0]


def migrate_schema(db: peewee.Database, m: Any, bound: list[type[peewee.Model]]) -> list[int]:
    """Bring the database to the current schema; return the numbers of the steps applied.

    Several hub processes may open a database at once (workers starting
    together after an upgrade): the first takes a lock and migrates, the
    others wait for it and then find nothing left to do.
    """
    version = type("SchemaVersion", (SchemaVersion,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "schema_migration"}),
        "__module__": __name__})  # fmt: skip
    applied = []
    with _exclusive(db):
        if not db.table_exists("entry"):
            db.create_tables([version, *bound], safe=True)
            for number, name, _step in MIGRATIONS:
                version.create(version=number, name=name, applied_at=time.time())
            return applied
        db.create_tables([version], safe=True)
        done = {row.version for row in version.select()}
        migrator = SchemaMigrator.from_database(db)
        for number, name, step in MIGRATIONS:
            if number in done:
                continue
            with db.atomic():
                step(db, migrator, m)
                version.create(version=number, name=name, applied_at=time.time())
            log.info("hub: database schema migrated to %d (%s)", number, name)
            applied.append(number)
    return applied


# The tables this process made sure of, per database (weak: tests open many).
_CREATED: weakref.WeakKeyDictionary[peewee.Database, set[str]] = weakref.WeakKeyDictionary()


def create_tables(db: peewee.Database, tables: list[type[peewee.Model]]) -> None:
    """Create a module's own tables if new, one process at a time.

    ``CREATE TABLE IF NOT EXISTS`` is not safe against another process doing
    the same on PostgreSQL (both may pass the check; one then fails on the
    catalogue's unique index), and hub workers start together: take the
    schema's lock as the migrations do. Once per table and database a process.
    """
    known = _CREATED.setdefault(db, set())
    wanted = [t for t in tables if t._meta.table_name not in known]
    if not wanted:
        return
    if not all(db.table_exists(t._meta.table_name) for t in wanted):
        with _exclusive(db):
            db.create_tables(wanted, safe=True)
    known.update(t._meta.table_name for t in wanted)


@contextlib.contextmanager
def _exclusive(db: peewee.Database) -> Iterator[None]:
    """One transaction that only one process at a time holds (DDL is transactional in both)."""
    if isinstance(db, peewee.PostgresqlDatabase):
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            yield
    else:
        with db.atomic("IMMEDIATE"):  # SQLite's write lock, taken before reading anything
            yield


_LOCK_KEY = 0x706F7274  # "port": the advisory lock of portique's schema
