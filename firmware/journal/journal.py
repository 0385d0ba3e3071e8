"""The append-only journal: every tap, admitted or refused, is one record.

Records carry a UUID (so a re-upload is harmless), a per-gate sequence
number without gaps, and the hash of the previous record, so the hub can
prove nothing was removed or rewritten. ``append`` returns only once the
record is durable; the gate moves the relay after that, never before.
"""

from __future__ import annotations

import csv
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import peewee

from firmware.journal.database import StorageError, describe, open_sqlite
from firmware.journal.models import Models, Record, bind_models
from firmware.protocol.record import COLUMNS, GENESIS_HASH, LEGACY_EPOCH, record_hash

log = logging.getLogger("portique.journal")

FLOOR_KEY = "clock_floor"
# Records up to this seq were dated by a clock the hub's beacon proved wrong:
# they no longer count as proof of time (see FlooredClock.follow_beacon).
FLOOR_RESET_KEY = "clock_floor_reset_seq"
EPOCH_KEY = "journal.epoch"

# The statements on the tap path are written out once: building them through
# peewee's query builder costs more than the durable commit itself.
_INSERT_RECORD = (
    f"INSERT INTO record ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_REPLACE_LOCAL_PASS = (
    "INSERT OR REPLACE INTO local_pass (serial, pass_number, id_number, pass_type, state,"
    " activated_on, expires_on, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_LAST_ADMITTED = (
    "SELECT wall FROM record WHERE pass_number = ? AND gate = ? AND admitted"
    " ORDER BY seq DESC LIMIT 1"
)
_LAST_ADMISSION = (
    "SELECT wall, persons FROM record WHERE pass_number = ? AND gate = ? AND admitted"
    " ORDER BY seq DESC LIMIT 1"
)
_BILLED_ON = "SELECT 1 FROM record WHERE pass_number = ? AND day = ? AND billable LIMIT 1"
_DAY_RECORDS = (
    "SELECT kind, wall, admitted, reason, billable, children, persons FROM record WHERE day = ?"
)


@dataclass(frozen=True)
class Entry:
    """What the gate knows about one event; the journal adds seq, uuid and hashes."""

    kind: str
    wall: float
    monotonic: float
    time_trusted: bool
    day: str
    museum: str
    gate: str
    credential_kind: str
    credential: str
    admitted: bool
    reason: str
    billable: bool = False
    children: int = 0
    pass_number: str | None = None
    valid_until: str | None = None
    list_version: int = 0
    operator: str | None = None
    refers_to: int | None = None
    detail: str | None = None
    persons: int | None = None  # an admission's people: the pass's holders + children


@dataclass(frozen=True)
class PassChange:
    """A change this gate makes to a pass (its activation), stored with the record."""

    serial: str
    pass_number: str
    id_number: str
    pass_type: str
    state: str
    activated_on: str | None
    expires_on: str | None


class JournalFull(StorageError):
    """The disk (or the configured size cap) is full: nothing more can be recorded."""


class Journal:
    """The gate's journal database. Only the gate's loop writes to it."""

    def __init__(self, path: Path, db: peewee.SqliteDatabase) -> None:
        self.path = path
        self.db = db
        self.models: Models = bind_models(db)
        last = self.models.record.select().order_by(self.models.record.seq.desc()).first()
        self._next_seq = (last.seq + 1) if last else 1
        self._last_hash = last.hash if last else GENESIS_HASH
        self._check_sequence()
        # Serials this gate changed itself, and those the hub's sync deltas changed:
        # the pass store asks those tables only for these (a tap is on the clock).
        self.local_serials: set[str] = {
            row[0] for row in db.execute_sql("SELECT serial FROM local_pass")
        }
        self.remote_serials: set[str] = {
            row[0] for row in db.execute_sql("SELECT serial FROM remote_pass")
        }

    @classmethod
    def open(cls, path: Path, readonly: bool = False) -> Journal:
        db = open_sqlite(path, "journal", readonly=readonly, check_pages=True)
        try:
            journal = cls(path, db)
            if not readonly:
                journal._ensure_epoch()
            return journal
        except (peewee.DatabaseError, OSError) as exc:
            db.close()
            raise describe(exc, path, "journal") from None

    def close(self) -> None:
        self.db.close()

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    @property
    def epoch(self) -> str:
        """This journal's identity: random, written when the journal was created.

        Sequence numbers restart at 1 in a new journal (an SD card replaced, a
        gate deprovisioned and provisioned again under the same name); the hub
        keeps each journal's records apart by this id.
        """
        s = self.models.setting
        row = s.get_or_none(s.key == EPOCH_KEY)
        return row.value if row else LEGACY_EPOCH

    def append(self, entry: Entry, change: PassChange | None = None) -> Record:
        """Commit ``entry`` (and ``change``, atomically) and return the stored record.

        Raises JournalFull or StorageError when the record could not be made
        durable; the caller must then not act on it.
        """
        # A shallow copy: dataclasses.asdict deep-copies every field, which cost
        # a tap more than the rest of its Python work put together.
        fields = dict(vars(entry))
        fields.update(seq=self._next_seq, uuid=str(uuid.uuid4()), prev_hash=self._last_hash)
        fields["hash"] = record_hash(fields)
        connection = self.db.connection()
        try:
            # BEGIN IMMEDIATE takes the write lock first, so a reader holding the
            # database (an export) makes us wait here, not fail at COMMIT.
            self.db.execute_sql("BEGIN IMMEDIATE")
            self.db.execute_sql(_INSERT_RECORD, [fields[name] for name in COLUMNS])
            if change is not None:
                values = tuple(vars(change).values())
                self.db.execute_sql(_REPLACE_LOCAL_PASS, (*values, fields["seq"]))
            self.db.execute_sql("COMMIT")
        except peewee.DatabaseError as exc:
            # SQLite may already have rolled back (a failed COMMIT on a full disk does).
            if connection.in_transaction:
                connection.rollback()
            raise self._storage_error(exc, fields["uuid"]) from None
        self._next_seq += 1
        self._last_hash = fields["hash"]
        if change is not None:
            self.local_serials.add(change.serial)
        return self.models.record(**fields)

    def last_admitted_wall(self, pass_number: str, gate: str) -> float | None:
        """Wall time of this pass's last admission at ``gate`` (for anti-passback)."""
        row = self.db.execute_sql(_LAST_ADMITTED, (pass_number, gate)).fetchone()
        return row[0] if row else None

    def last_admission(self, pass_number: str, gate: str) -> tuple[float, int | None] | None:
        """(wall time, persons) of this pass's last admission at ``gate``, if any."""
        row = self.db.execute_sql(_LAST_ADMISSION, (pass_number, gate)).fetchone()
        return (row[0], row[1]) if row else None

    def billed_on(self, pass_number: str, day: str) -> bool:
        """Whether a billable entry of this pass exists on ``day`` (any gate of the museum)."""
        return self.db.execute_sql(_BILLED_ON, (pass_number, day)).fetchone() is not None

    def day_records(self, day: str) -> list[tuple[str, float, bool, str, bool, int, int | None]]:
        """(kind, wall, admitted, reason, billable, children, persons) of each record of ``day``."""
        rows = self.db.execute_sql(_DAY_RECORDS, (day,)).fetchall()
        return [(kind, wall, bool(adm), reason, bool(bill), kids, persons)
                for kind, wall, adm, reason, bill, kids, persons in rows]  # fmt: skip

    def records(self, after_seq: int = 0) -> Iterator[Record]:
        r = self.models.record
        yield from r.select().where(r.seq > after_seq).order_by(r.seq).iterator()

    def export_csv(self, out: IO[str]) -> int:
        """Write every record as CSV with a header; return how many were written."""
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        count = 0
        for record in self.records():
            writer.writerow([_csv_value(getattr(record, name)) for name in COLUMNS])
            count += 1
        return count

    def verify_chain(self) -> list[str]:
        """Check every record's hash and link; return one line per problem found.

        Records the hub acknowledged may have been pruned: the chain is then
        checked from the oldest record kept, whose link leads to a pruned one.
        """
        first = self.first_seq
        problems, expected_seq = [], first
        prev = GENESIS_HASH if first == 1 else self.models.record.get_by_id(first).prev_hash
        for record in self.records():
            fields = {name: getattr(record, name) for name in COLUMNS}
            if record.seq != expected_seq:
                problems.append(f"seq {expected_seq} missing before {record.seq}")
            if record.prev_hash != prev:
                problems.append(f"seq {record.seq}: previous-hash link broken")
            if record_hash(fields) != record.hash:
                problems.append(f"seq {record.seq}: content does not match its hash")
            prev, expected_seq = record.hash, record.seq + 1
        return problems

    # -- small facts kept beside the journal --------------------------------

    def stored_floor(self) -> float:
        """The newest wall time this gate has proof of (its last record or heartbeat)."""
        s = self.models.setting
        row = s.get_or_none(s.key == FLOOR_KEY)
        reset = s.get_or_none(s.key == FLOOR_RESET_KEY)
        r = self.models.record
        after = int(float(reset.value)) if reset else 0
        last = r.select(peewee.fn.MAX(r.wall)).where(r.seq > after).scalar()
        return max(float(row.value) if row else 0.0, last or 0.0)

    def store_floor(self, wall: float, reset: bool = False) -> None:
        """Save ``wall`` as proof of time; ``reset``: it replaces, not adds to, what the
        records so far say (the hub's beacon showed they were dated in the future)."""
        try:
            with self.db.atomic():
                self.models.setting.replace(key=FLOOR_KEY, value=repr(wall)).execute()
                if reset:
                    seq = repr(float(self.last_seq))
                    self.models.setting.replace(key=FLOOR_RESET_KEY, value=seq).execute()
        except peewee.OperationalError as exc:
            raise self._storage_error(exc, "clock floor") from None

    # -- internals ---------------------------------------------------------

    def _ensure_epoch(self) -> None:
        s = self.models.setting
        if s.get_or_none(s.key == EPOCH_KEY) is not None:
            return
        # A journal that already has records was begun before epochs existed.
        epoch = uuid.uuid4().hex if self.last_seq == 0 else LEGACY_EPOCH
        s.insert(key=EPOCH_KEY, value=epoch).on_conflict_ignore().execute()

    @property
    def first_seq(self) -> int:
        """The oldest record kept (1 unless acknowledged records were pruned)."""
        first = self.models.record.select(peewee.fn.MIN(self.models.record.seq)).scalar()
        return first or 1

    def _check_sequence(self) -> None:
        count = self.models.record.select().count()
        first = self.first_seq
        if count != self.last_seq - first + 1:
            # Never repaired here: the hub holds the copies and reports the gap.
            log.error(
                "journal %s: %d records for sequence %d..%d: records are missing",
                self.path, count, first, self.last_seq,
            )  # fmt: skip

    def _storage_error(self, exc: Exception, what: str = "entry") -> StorageError:
        text = str(exc)
        if "full" in text:
            return JournalFull(f"journal {self.path}: disk full, {what} not recorded ({text})")
        return StorageError(f"journal {self.path}: {what} not recorded ({text})")


def _csv_value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    return "" if value is None else value
