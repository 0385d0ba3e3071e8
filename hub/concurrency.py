"""Writes that stay right when several hub workers share one database.

Several ``portique-hub run`` processes (workers) split the gates' messages
between them (an MQTT shared subscription), so two of them may handle two
batches of one gate, or two activations of one pass, at the same moment.
Each read-modify-write below is therefore done under a lock the database
holds until the transaction ends:

- a gate's journal row (``Incarnation``) and connection row (``Progress``)
  are read ``FOR UPDATE`` on PostgreSQL: the second worker waits, then reads
  what the first committed;
- delta numbers must stay gap-free (gates apply them in order and wait for a
  missing one), which a sequence does not promise: the next number is taken
  under a transaction-scoped advisory lock instead;
- SQLite has one writer at a time anyway; its write transactions take the
  lock before they read (``BEGIN IMMEDIATE``), so nothing read can go stale.

A conflict the locks do not prevent (two workers creating the same row at
once) raises ``IntegrityError``; the worker rolls back and handles the
message again (``hub/service.py``), and the second time it sees the row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import peewee

# Advisory lock keys (PostgreSQL's bigint space, shared with hub/migrations.py's).
DELTA_LOCK = 0x706F7275  # "poru": numbering the next delta


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


@contextlib.contextmanager
def writing(db: peewee.Database) -> Iterator[None]:
    """A transaction that will write: SQLite's write lock is taken before anything is read."""
    if db.in_transaction() or is_postgres(db):
        with db.atomic():
            yield
    else:
        with db.atomic("IMMEDIATE"):
            yield


def locked(query: Any) -> Any:
    """``query`` with its rows locked until the transaction ends (PostgreSQL's FOR UPDATE)."""
    return query.for_update() if is_postgres(query.model._meta.database) else query


def lock_deltas(db: peewee.Database) -> None:
    """Hold the right to number the next delta until this transaction ends."""
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (DELTA_LOCK,))


def relaxed_commit(db: peewee.Database) -> None:
    """This transaction's commit need not wait for the disk (PostgreSQL; call inside it).

    For hellos and statuses only, never for records: losing the last fraction
    of a second of them to a database crash loses nothing (a gate says hello
    on every connection and its status every minute), and 1,400 gates
    reconnecting at once no longer wait for one disk flush each.
    """
    if is_postgres(db):
        db.execute_sql("SET LOCAL synchronous_commit TO OFF")
