"""The pass store: what the decision reads about a pass.

Three layers. The *base list* (``passes.sqlite``) is the list the gate
received, replaced whole when a new one arrives; it is never written in
place. The *local layer* is the ``local_pass`` table of the journal
database: changes this gate made itself (activations), committed in the
same transaction as the journal record that caused them. The *remote layer*
(``remote_pass``) holds what the hub said about passes changed elsewhere.
``choose`` decides between them: a block from the hub wins, then the
earliest activation, then this gate's own word, then the hub's, then the list.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.journal.database import StorageError
from firmware.journal.journal import Journal
from firmware.store.csvlist import read_passes, read_types

_SCHEMA = """
CREATE TABLE pass (
    serial TEXT PRIMARY KEY, pass_number TEXT NOT NULL, id_number TEXT NOT NULL,
    pass_type TEXT NOT NULL, state TEXT NOT NULL, activated_on TEXT, expires_on TEXT
) WITHOUT ROWID;
CREATE TABLE pass_type (code TEXT PRIMARY KEY, persons INTEGER, children INTEGER);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""
_COLUMNS = "serial, pass_number, id_number, pass_type, state, activated_on, expires_on"

Row = tuple[str, str, str, str, str, str | None, str | None]


def build_base_list(passes_csv: Path, types_csv: Path, target: Path, version: int = 0) -> int:
    """Build ``target`` from CSV files, atomically; return the number of passes.

    The new file is written beside the target, synced, then renamed over it,
    so a crash leaves either the old list or the new one, never half of one.
    """
    types = read_types(types_csv)
    tmp = target.with_name(target.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        con.executemany("INSERT INTO pass_type VALUES (?, ?, ?)",
                        [(t.code, t.persons, t.children) for t in types.values()])  # fmt: skip
        try:
            con.executemany(f"INSERT INTO pass ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                            read_passes(passes_csv, types))  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise StorageError(f"{passes_csv}: the same serial appears twice ({exc})") from None
        con.execute("CREATE INDEX pass_number_idx ON pass (pass_number)")
        con.execute("INSERT INTO meta VALUES ('version', ?)", (str(version),))
        count = con.execute("SELECT count(*) FROM pass").fetchone()[0]
        con.commit()
    finally:
        con.close()
    _replace(tmp, target)
    return count


def _replace(tmp: Path, target: Path) -> None:
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def choose(local: Row | None, remote: Row | None, base: Row | None) -> Row | None:
    """The row the decision reads, from this gate's, the hub's and the list's (pure)."""
    if remote is not None:
        # The hub leaves out what it does not know; the list fills it in.
        known = base or (remote[0], remote[0], "", "", "", None, None)
        remote = tuple(r if r is not None else k for r, k in zip(remote, known, strict=True))  # type: ignore[assignment]
        if remote[4] == "blocked":
            return remote
        if local is not None and remote[4] == local[4] == "active":
            return min(local, remote, key=lambda row: row[5] or "")
    return local or remote or base


class PassStore:
    """Looks passes up by chip serial or printed number (local layer first)."""

    def __init__(self, base_path: Path, journal: Journal) -> None:
        self.base_path = base_path
        self._journal = journal
        self._base: sqlite3.Connection | None = None
        self._types: dict[str, PassType] = {}
        self.version = 0
        self.count = 0
        if base_path.exists():
            self._open_base()

    def _open_base(self) -> None:
        try:
            con = sqlite3.connect(f"file:{self.base_path}?mode=ro", uri=True,
                                  check_same_thread=False)  # fmt: skip
            self._types = {
                code: PassType(code, persons, children)
                for code, persons, children in con.execute(
                    "SELECT code, persons, children FROM pass_type"
                )
            }
            self.version = int(con.execute("SELECT value FROM meta WHERE key='version'")
                               .fetchone()[0])  # fmt: skip
            self.count = con.execute("SELECT count(*) FROM pass").fetchone()[0]
        except (sqlite3.DatabaseError, TypeError) as exc:
            raise StorageError(
                f"pass list {self.base_path} is damaged ({exc}); "
                "the gate cannot decide without it: restore it from the hub"
            ) from None
        self._base = con

    def close(self) -> None:
        if self._base is not None:
            self._base.close()
            self._base = None

    def lookup(self, serial: str) -> PassRecord | None:
        """The pass with chip serial ``serial`` (upper-case hex), or None."""
        return self._lookup("serial", serial)

    def lookup_number(self, pass_number: str) -> PassRecord | None:
        """The pass with printed number ``pass_number``, or None."""
        return self._lookup("pass_number", pass_number)

    def _lookup(self, column: str, value: str) -> PassRecord | None:
        db = self._journal.db
        query = f"SELECT {_COLUMNS} FROM %s WHERE {column} = ?"
        local = db.execute_sql(query % "local_pass", (value,)).fetchone()
        remote = db.execute_sql(query % "remote_pass", (value,)).fetchone()
        return self._record(choose(local, remote, self._base_row(column, value)))

    def _base_row(self, column: str, value: str) -> Row | None:
        if self._base is None:
            return None
        query = f"SELECT {_COLUMNS} FROM pass WHERE {column} = ?"
        return self._base.execute(query, (value,)).fetchone()

    def _record(self, row: Row | None) -> PassRecord | None:
        if row is None:
            return None
        serial, number, id_number, type_code, state, activated, expires = row
        pass_type = self._types.get(type_code) or PassType(type_code, persons=1, children=0)
        return PassRecord(
            serial=serial,
            pass_number=number,
            id_number=id_number,
            pass_type=pass_type,
            state=PassState(state),
            activated_on=date.fromisoformat(activated) if activated else None,
            expires_on=date.fromisoformat(expires) if expires else None,
        )
