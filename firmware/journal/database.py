"""Opening the gate's SQLite files with the durability the journal needs.

WAL with ``synchronous=FULL``: a commit returns only once the record is on
the disk, so the relay never moves for an entry a power cut could erase.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import peewee

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    # Another process (`portique journal export`) may read while the daemon writes.
    "busy_timeout": 5000,
}


class StorageError(Exception):
    """A database file that cannot be used; the message says which and what to do."""


def open_sqlite(path: Path, what: str, readonly: bool = False) -> peewee.SqliteDatabase:
    """Open ``path`` and prove it is a usable SQLite database, or raise StorageError."""
    if readonly:
        if not path.exists():
            raise StorageError(f"{what} {path} does not exist")
    else:
        _check_directory(path.parent, what)
    db = peewee.SqliteDatabase(
        str(path),
        pragmas={} if readonly else PRAGMAS,
        check_same_thread=False,
        # One connection shared by the loop thread that uses it and the thread
        # that opened it (peewee's default is a connection per thread).
        thread_safe=False,
        autoconnect=False,
    )
    try:
        db.connect()
        # Reading the schema is the first access to the file's pages: a file
        # that is not a database, or a damaged header, fails here and not in
        # the middle of a tap.
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
    except (peewee.DatabaseError, sqlite3.DatabaseError) as exc:
        db.close()
        raise StorageError(
            f"{what} {path} is damaged or is not a portique database ({exc}). "
            "It was left untouched: move it aside (keep it for recovery) and restart."
        ) from None
    except (peewee.OperationalError, sqlite3.OperationalError) as exc:
        db.close()
        raise StorageError(f"{what} {path} cannot be opened ({exc})") from None
    return db


def _check_directory(directory: Path, what: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"data directory {directory} for the {what} cannot be created ({exc.strerror})"
        ) from None
    probe = directory / ".portique-write-test"
    try:
        with open(probe, "wb") as handle:
            handle.write(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"data directory {directory} for the {what} is not writable ({exc.strerror}); "
            "the gate cannot record entries"
        ) from None
