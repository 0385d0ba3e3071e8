"""The gate's list in force: the newest verified snapshot plus the deltas since.

State lives in ``<data_dir>/lists.sqlite`` (which snapshot file, version,
issue and expiry time, the pass types, and the ``overlay`` of delta rows) and
``<data_dir>/lists/snapshot-<version>.pql`` (the snapshot file itself, read
in place). Applying is atomic: a snapshot is written and synced under its
final name, then one SQLite transaction switches the state to it; a delta is
one transaction. A crash at any moment leaves the previous list in force,
and files no state refers to are removed at the next start.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import peewee

from firmware.durable import fsync_directory, fsync_file
from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.journal.database import describe, open_sqlite
from firmware.lists import format as fmt
from firmware.lists.snapshot import Snapshot
from firmware.lists.verify import ListRejected, verify_file
from firmware.trust import TrustStore

log = logging.getLogger("portique.lists")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pass_type"
    " (code TEXT PRIMARY KEY, persons INTEGER, children INTEGER)",
    "CREATE TABLE IF NOT EXISTS overlay (serial TEXT PRIMARY KEY, pass_number TEXT NOT NULL,"
    " id_number TEXT, pass_type TEXT, state TEXT, activated_on TEXT, expires_on TEXT,"
    " version INTEGER)",
    "CREATE INDEX IF NOT EXISTS overlay_number ON overlay (pass_number)",
)
INCOMING = "incoming.tmp"  # a list being checked: only this copy is verified and used
_OVERLAY_COLUMNS = ("serial, pass_number, id_number, pass_type, state, activated_on, expires_on,"
                    " stock_of")  # fmt: skip


class ListManager:
    def __init__(self, data_dir: Path, trust: TrustStore, max_payload_bytes: int) -> None:
        self.trust = trust
        self.max_payload_bytes = max_payload_bytes
        self.directory = data_dir / "lists"
        self.directory.mkdir(parents=True, exist_ok=True)
        path = data_dir / "lists.sqlite"
        self.db = open_sqlite(path, "list state")
        try:
            for statement in _SCHEMA:
                self.db.execute_sql(statement)
            if "stock_of" not in {c.name for c in self.db.get_columns("overlay")}:
                # List deltas of format 3 say whose stock a pass is in (older state files).
                self.db.execute_sql("ALTER TABLE overlay ADD COLUMN stock_of TEXT")
        except peewee.DatabaseError as exc:
            self.db.close()
            raise describe(exc, path, "list state") from None
        self.rejections: Counter[str] = Counter()
        # Set when a delta did not fit the list in force: only a snapshot can help now.
        self.needs_snapshot = False
        self.snapshot: Snapshot | None = None
        self._types: dict[str, PassType] = {}
        self._load()
        self._remove_strays()

    # -- what is in force ----------------------------------------------------

    @property
    def version(self) -> int:
        return int(self._state("version", "0"))

    @property
    def issued_at(self) -> float:
        return float(self._state("issued_at", "0"))

    @property
    def expires_at(self) -> float:
        return float(self._state("expires_at", "0"))

    @property
    def count(self) -> int:
        return self.snapshot.count if self.snapshot else 0

    def pass_type(self, code: str) -> PassType:
        # A type the list no longer knows admits its holder alone.
        return self._types.get(code) or PassType(code, persons=1, children=0)

    def lookup(self, serial: str) -> PassRecord | None:
        if self._overlay_rows:  # most of the time there is no delta since the snapshot
            row = self.db.execute_sql(
                f"SELECT {_OVERLAY_COLUMNS} FROM overlay WHERE serial = ?", (serial,)
            ).fetchone()
            if row is not None:
                return self._record(row)
        if self.snapshot is None:
            return None
        try:
            return self.snapshot.find(bytes.fromhex(serial))
        except ValueError:
            return None

    def lookup_number(self, number: str) -> PassRecord | None:
        row = self.db.execute_sql(
            f"SELECT {_OVERLAY_COLUMNS} FROM overlay WHERE pass_number = ?", (number,)
        ).fetchone()
        if row is not None:
            return self._record(row)
        return self.snapshot.find_number(number) if self.snapshot else None

    # -- applying --------------------------------------------------------------

    def apply_bytes(self, data: bytes, now: float, latest_issue: float | None = None) -> fmt.Header:
        """Verify and apply a list received in memory (from the hub)."""
        incoming = self.directory / INCOMING
        with open(incoming, "wb") as handle:
            handle.write(data)
        try:
            return self._apply_staged(incoming, now, latest_issue)
        finally:
            incoming.unlink(missing_ok=True)

    def apply_file(self, path: Path, now: float, latest_issue: float | None = None) -> fmt.Header:
        """Verify the list file ``path`` and put it in force; raise ListRejected and keep the
        old list if not.

        The file is copied into the gate's own folder first and only the copy is
        verified and put in force: a file changed on its stick between the check and
        the use cannot slip in unverified bytes.
        """
        incoming = self.directory / INCOMING
        try:
            shutil.copyfile(path, incoming)
            return self._apply_staged(incoming, now, latest_issue, label=path)
        finally:
            incoming.unlink(missing_ok=True)

    def _apply_staged(self, path: Path, now: float, latest_issue: float | None,
                      label: Path | None = None) -> fmt.Header:  # fmt: skip
        try:
            header = verify_file(path, self.trust, self.version, now, self.max_payload_bytes,
                                 latest_issue, label)  # fmt: skip
        except ListRejected as exc:
            self.rejections[exc.code] += 1
            self.needs_snapshot = self.needs_snapshot or exc.code == "mix_and_match"
            log.error("list refused (%s): %s; version %d stays in force",
                      exc.code, exc, self.version)  # fmt: skip
            self.trust.save()  # root-signed revocations still count
            raise
        try:
            if header.kind == "snapshot":
                self._activate_snapshot(path, header)
            else:
                self._apply_delta(path, header)
        except fmt.ListFormatError as exc:
            self.rejections[exc.code] += 1
            log.error("list refused (%s): %s: %s; version %d stays in force",
                      exc.code, label or path, exc, self.version)  # fmt: skip
            raise ListRejected(exc.code, f"list {label or path}: {exc}") from None
        self.trust.save()
        if header.kind == "snapshot":
            self.needs_snapshot = False
        expires = datetime.fromtimestamp(header.expires_at, UTC).isoformat(timespec="minutes")
        log.info("list version %d (%s) in force: %d passes, fresh until %s",
                 header.version, header.kind, self.count, expires)  # fmt: skip
        return header

    def _activate_snapshot(self, path: Path, header: fmt.Header) -> None:
        final = self.directory / f"snapshot-{header.version}.pql"
        fsync_file(path)
        os.replace(path, final)
        fsync_directory(self.directory)
        with self.db.atomic():
            self._set_state(header, snapshot=final.name)
            self.db.execute_sql("DELETE FROM overlay")
            self._set_types(header.types)
        previous = self.snapshot
        self._load()
        if previous is not None:
            previous.close()
            if previous.path != final:
                previous.path.unlink(missing_ok=True)

    def _apply_delta(self, path: Path, header: fmt.Header) -> None:
        with open(path, "rb") as handle:
            handle.seek(header.payload_offset)
            rows = fmt.decode_delta(handle.read())
        unknown = {row[3] for row in rows} - set(header.types)
        if unknown:
            raise fmt.ListFormatError("malformed", f"unknown pass types {sorted(unknown)}")
        with self.db.atomic():
            self.db.connection().executemany(
                f"INSERT OR REPLACE INTO overlay ({_OVERLAY_COLUMNS}, version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, header.version) for row in rows],
            )
            self._set_state(header)
            self._set_types(header.types)
        self._types = header.types
        self._overlay_rows = self.db.execute_sql("SELECT count(*) FROM overlay").fetchone()[0]

    # -- internals -------------------------------------------------------------

    def _state(self, key: str, default: str) -> str:
        row = self.db.execute_sql("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_state(self, header: fmt.Header, snapshot: str | None = None) -> None:
        values = {
            "version": str(header.version),
            "issued_at": repr(header.issued_at),
            "expires_at": repr(header.expires_at),
        }
        if snapshot is not None:
            values["snapshot"] = snapshot
        for key, value in values.items():
            self.db.execute_sql("INSERT OR REPLACE INTO state VALUES (?, ?)", (key, value))

    def _set_types(self, types: dict[str, PassType]) -> None:
        self.db.execute_sql("DELETE FROM pass_type")
        for t in types.values():
            self.db.execute_sql(
                "INSERT INTO pass_type VALUES (?, ?, ?)", (t.code, t.persons, t.children)
            )

    def _load(self) -> None:
        self._overlay_rows = self.db.execute_sql("SELECT count(*) FROM overlay").fetchone()[0]
        name = self._state("snapshot", "")
        self._types = {
            code: PassType(code, persons, children)
            for code, persons, children in self.db.execute_sql("SELECT * FROM pass_type")
        }
        if not name:
            self.snapshot = None
            return
        path = self.directory / name
        with open(path, "rb") as handle:
            prefix = handle.read(len(fmt.MAGIC) + 4 + fmt.MAX_HEADER_BYTES)
        # Verified when it was applied; only the layout is read again here.
        self.snapshot = Snapshot(path, fmt.read_header(prefix, os.stat(path).st_size))

    def _remove_strays(self) -> None:
        """Delete files a crash left behind: anything the state does not refer to."""
        keep = self._state("snapshot", "")
        for path in self.directory.iterdir():
            if path.name != keep:
                log.info("removing %s left by an interrupted list update", path)
                path.unlink(missing_ok=True)

    def _record(self, row: tuple) -> PassRecord:
        serial, number, id_number, type_code, state, activated, expires, stock_of = row
        return PassRecord(
            serial=serial,
            pass_number=number,
            id_number=id_number or "",
            pass_type=self.pass_type(type_code),
            state=PassState(state),
            activated_on=date.fromisoformat(activated) if activated else None,
            expires_on=date.fromisoformat(expires) if expires else None,
            stock_of=stock_of if state == PassState.STOCK else None,
        )

    def close(self) -> None:
        if self.snapshot is not None:
            self.snapshot.close()
        self.db.close()
