"""Opening the gate's SQLite files with the durability the journal needs.

WAL with ``synchronous=FULL``: a commit returns only once the record is on
the disk, so the relay never moves for an entry a power cut could erase.
"""

from __future__ import annotations

import errno
import shutil
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


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc``, what it wraps and what it was raised during, first cause first."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(seen) < 20:
        candidate = todo.pop()
        if isinstance(candidate, BaseException) and candidate not in seen:
            seen.append(candidate)
            # peewee wraps the sqlite3 exception and keeps it as its first argument;
            # a failed ROLLBACK after a failed COMMIT hides the COMMIT's error in context.
            todo += [*candidate.args, candidate.__cause__, candidate.__context__]
    return seen[::-1]


def _root(exc: BaseException) -> tuple[str, BaseException]:
    """SQLite's name for the error that started it all (``SQLITE_FULL``, ...) and that error."""
    for candidate in _chain(exc):
        name = getattr(candidate, "sqlite_errorname", None)
        if name and name != "SQLITE_ERROR":
            return str(name), candidate
        if getattr(candidate, "errno", None) == errno.ENOSPC:
            return "ENOSPC", candidate
    return "", exc


def _no_space(path: Path) -> bool:
    """SQLite reports a write into a full WAL or shared-memory file as a mere I/O error."""
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL
    except OSError:
        return False


_NEARLY_FULL = 256 * 1024


def damaged(exc: BaseException) -> bool:
    """True when SQLite says the file's content is broken, not that it cannot be reached."""
    name, root = _root(exc)
    if name:
        return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))
    return "malformed" in str(root) or "not a database" in str(root)


def describe(exc: BaseException, path: Path, what: str) -> StorageError:
    """One message for a person: what happened to ``path`` and what to do about it."""
    name, root = _root(exc)
    if name in ("SQLITE_FULL", "ENOSPC") or (name.startswith("SQLITE_IOERR") and _no_space(path)):
        return StorageError(
            f"{what} {path}: the disk is full ({root}). Free space on the file system of "
            f"{path.parent} and restart; nothing was lost."
        )
    if damaged(exc):
        return StorageError(
            f"{what} {path} is damaged or is not a portique database ({root}). "
            "It was left untouched: move it aside (keep it for recovery) and restart."
        )
    return StorageError(f"{what} {path} cannot be used ({root})")


def open_sqlite(
    path: Path, what: str, readonly: bool = False, check_pages: bool = False
) -> peewee.SqliteDatabase:
    """Open ``path`` and prove it is a usable SQLite database, or raise StorageError.

    ``check_pages`` reads every page (PRAGMA quick_check) as well as the schema.
    """
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
        if check_pages:
            _quick_check(db)
    except (peewee.DatabaseError, sqlite3.DatabaseError, OSError) as exc:
        db.close()
        raise describe(exc, path, what) from None
    return db


def _quick_check(db: peewee.SqliteDatabase) -> None:
    # Reads every page once (a few hundred ms for a season's journal on a Pi), so a
    # damaged data page is found at start, with a message, rather than by a tap.
    rows = db.execute_sql("PRAGMA quick_check(5)").fetchall()
    if [row[0] for row in rows] != ["ok"]:
        raise sqlite3.DatabaseError("; ".join(str(row[0]) for row in rows) + " (malformed)")


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
