"""The journal as the outbox of sync: what the hub has not confirmed yet.

Records are never changed to say they were sent: acknowledgements go to
their own append-only table, and the first unacknowledged record is one past
the newest acknowledgement. A restart therefore resumes from the disk, never
from memory. Only the gate's loop uses this, like the journal itself.
"""

from __future__ import annotations

import logging
from typing import Any

import peewee

from firmware.journal.database import StorageError
from firmware.journal.journal import COLUMNS, Journal

log = logging.getLogger("portique.sync")

_SELECT_RANGE = f"SELECT {', '.join(COLUMNS)} FROM record WHERE seq > ? AND seq <= ? ORDER BY seq"
# SQLite hands booleans back as 0/1; the hash was computed over true/false.
_BOOLEANS = tuple(i for i, name in enumerate(COLUMNS) if name in
                  ("time_trusted", "admitted", "billable"))  # fmt: skip


class Outbox:
    """Reads unacknowledged records, stores acknowledgements, prunes what the hub has."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.epoch = journal.epoch
        ack = journal.models.ack
        last = ack.select().order_by(ack.seq.desc()).first()
        self.acked_seq = last.seq if last else 0
        self.acked_wall: float | None = last.received_wall if last else None

    @property
    def backlog(self) -> int:
        return max(0, self.journal.last_seq - self.acked_seq)

    def records(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` records after seq ``after``, as the batch message carries them."""
        rows = self.journal.db.execute_sql(_SELECT_RANGE, (after, after + limit)).fetchall()
        out = []
        for row in rows:
            values = list(row)
            for index in _BOOLEANS:
                values[index] = bool(values[index])
            out.append(dict(zip(COLUMNS, values, strict=True)))
        return out

    def hash_at(self, seq: int) -> str | None:
        row = self.journal.db.execute_sql("SELECT hash FROM record WHERE seq = ?", (seq,))
        found = row.fetchone()
        return found[0] if found else None

    def acknowledge(self, seq: int, record_hash: str, wall: float,
                    epoch: str | None) -> str | None:  # fmt: skip
        """Store the hub's word that 1..seq are safe; return why it was refused, or None.

        The acknowledgement must name this journal's epoch and the hash of its
        record ``seq``: one meant for another journal (the one this gate had
        before a re-provisioning, another gate) cannot mark ours.
        """
        if epoch != self.epoch:
            named = f"journal {epoch}" if epoch else "no journal"
            return f"it names {named}, not this journal {self.epoch}"
        if seq <= self.acked_seq:
            return f"stale: records up to {self.acked_seq} were already acknowledged"
        if seq > self.journal.last_seq:
            return f"seq {seq} is beyond the journal's last record {self.journal.last_seq}"
        if self.hash_at(seq) != record_hash:
            return f"hash of record {seq} differs from this journal's"
        try:
            self.journal.models.ack.create(seq=seq, hash=record_hash, received_wall=wall)
        except peewee.DatabaseError as exc:
            where = f"journal {self.journal.path}"
            raise StorageError(f"{where}: acknowledgement {seq} not stored ({exc})") from None
        self.acked_seq, self.acked_wall = seq, wall
        return None

    def prune(self, before_wall: float, limit: int) -> int:
        """Delete up to ``limit`` acknowledged records older than ``before_wall``.

        The newest record always stays: it carries the next sequence number
        and hash link across restarts.
        """
        record, ack = self.journal.models.record, self.journal.models.ack
        first = self.journal.first_seq
        # Only a prefix goes, so no hole opens below a record that stays.
        young = record.select(peewee.fn.MIN(record.seq)).where(record.wall >= before_wall).scalar()
        last = min(self.acked_seq, self.journal.last_seq - 1, first + limit - 1)
        if young is not None:
            last = min(last, young - 1)
        if last < first:
            return 0
        with self.journal.db.atomic():
            deleted = record.delete().where(record.seq <= last).execute()
            ack.delete().where(ack.seq < self.acked_seq, ack.received_wall < before_wall).execute()
        return deleted

    # -- small sync facts kept in the journal's setting table -------------------

    def get(self, key: str, default: float = 0) -> float:
        s = self.journal.models.setting
        row = s.get_or_none(s.key == key)
        return float(row.value) if row else default

    def put(self, key: str, value: float) -> None:
        self.journal.models.setting.replace(key=key, value=repr(value)).execute()
