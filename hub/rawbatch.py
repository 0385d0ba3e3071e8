"""Batches of the compact format (``batch2``): acknowledged once stored raw, unpacked after.

A batch2 message is a header the gate signed (journal, first and last seq,
the hash chain's two ends, the SHA-256 of the records' bytes) and the
records' bytes. Once the signature and the SHA-256 check out, the records are
exactly what the gate's journal holds; storing those bytes is as durable as
storing the rows. So the acknowledgement waits only for the raw batch to be
committed, and for the chain to join at batch level: the header's
``prev_hash`` must be the hash the journal's contiguous mark ends on.

Unpacking (parsing, the batch schema, each record's hash, each link, the
rows into ``entry``, activations) runs after, when the worker has nothing
else to do, or once a raw batch has waited ``UNPACK_LAG_S``. It is the very
path of the earlier format (``Ingest.batch``), so a flawed record is
quarantined and reported the same way. One difference: a batch acknowledged
raw whose records then fail a check cannot be asked for again (the gate
signed those very bytes, sending them again gives the same), so the flaw is
reported as a problem, with the raw batch kept as evidence.

Any worker may unpack any raw batch; the first to claim it (an UPDATE of its
``unpacked`` flag in the transaction that stores its rows) does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import peewee

from firmware.protocol.messages import ProtocolError, parse_json, validate
from firmware.protocol.record import ADDED, COLUMNS
from hub.concurrency import writing
from hub.ingest import BatchRefused, BatchResult, Ingest
from hub.migrations import create_tables
from hub.models import HubModels

log = logging.getLogger("portique.hub")

UNPACK_LAG_S = 5.0  # a raw batch waits at most about this long to be unpacked under load


class RawBatch(peewee.Model):
    """A batch2's records as the gate sent them (bytes), and whether they are unpacked."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    epoch = peewee.CharField()
    first_seq = peewee.IntegerField()
    last_seq = peewee.IntegerField()
    prev_hash = peewee.CharField()
    last_hash = peewee.CharField()
    data = peewee.BlobField()
    received_at = peewee.DoubleField()
    unpacked = peewee.BooleanField(default=False)

    class Meta:
        table_name = "raw_batch"
        # The first: one copy per batch, and the walk from the contiguous mark;
        # the second: what is left to unpack.
        indexes = (
            (("museum", "gate", "epoch", "first_seq", "last_seq"), True),
            (("unpacked", "received_at"), False),
        )


def bind_raw(db: peewee.Database) -> type[RawBatch]:
    meta = type("Meta", (), {"database": db, "table_name": RawBatch._meta.table_name})
    bound = type("RawBatch", (RawBatch,), {"Meta": meta, "__module__": __name__})
    create_tables(db, [bound])
    return bound


@dataclass
class Unpacked:
    museum: str
    gate: str
    body: dict[str, Any]
    result: BatchResult | None


class RawIngest:
    """The ack path (``store``) and the unpacking (``unpack_one``) of batch2 messages."""

    def __init__(self, models: HubModels, ingest: Ingest) -> None:
        self.m, self.ingest, self.now = models, ingest, ingest.now
        self.raw = bind_raw(models.db)

    def store(self, museum: str, gate: str, header: dict[str, Any], data: bytes) -> BatchResult:
        """Keep the raw batch and move the contiguous mark over raw batches that join it."""
        if header["last_seq"] < header["first_seq"]:
            raise ProtocolError("malformed", "batch2: last_seq before first_seq")
        r = self.raw
        with writing(self.m.db):
            journal = self.ingest.incarnation(museum, gate, header["epoch"])  # locked
            mine = (r.museum == museum) & (r.gate == gate) & (r.epoch == journal.epoch)
            # The journal's row is locked: no other worker stores this gate's batch meanwhile.
            new = not r.select().where(mine, r.first_seq == header["first_seq"],
                                       r.last_seq == header["last_seq"]).exists()  # fmt: skip
            if new:
                r.create(museum=museum, gate=gate, epoch=journal.epoch,
                         first_seq=header["first_seq"], last_seq=header["last_seq"],
                         prev_hash=header["prev_hash"], last_hash=header["last_hash"],
                         data=data, received_at=self.now())  # fmt: skip
            moved = False
            while True:
                follows = (
                    r.select(r.last_seq, r.last_hash)
                    .where(mine, r.first_seq == journal.contiguous_seq + 1,
                           r.prev_hash == journal.contiguous_hash)
                    .order_by(r.last_seq.desc())
                    .first()
                )  # fmt: skip
                if follows is None:
                    break
                journal.contiguous_seq, journal.contiguous_hash = (
                    follows.last_seq,
                    follows.last_hash,
                )
                moved = True
            if moved:
                self.ingest._resolve(journal, "gap", journal.contiguous_seq)
            journal.highest_seq = max(journal.highest_seq, header["last_seq"])
            journal.save()
            result = BatchResult(journal.contiguous_seq, journal.contiguous_hash,
                                 header["last_seq"] - header["first_seq"] + 1 if new else 0,
                                 0 if new else header["last_seq"] - header["first_seq"] + 1,
                                 header["epoch"])  # fmt: skip
            if journal.highest_seq > journal.contiguous_seq:
                since = self.ingest._report_gap(journal)
                if self.now() - since >= self.ingest.gap_grace_s:
                    result.resend_from = journal.contiguous_seq + 1
        return result

    def pending(self) -> bool:
        r = self.raw
        return r.select().where(~r.unpacked).exists()

    def overdue(self) -> bool:
        r = self.raw
        oldest = r.select(peewee.fn.MIN(r.received_at)).where(~r.unpacked).scalar()
        return oldest is not None and self.now() - oldest >= UNPACK_LAG_S

    def unpack_one(self) -> Unpacked | None:
        """Unpack the oldest raw batch no worker has; None when there is none."""
        r = self.raw
        with writing(self.m.db):
            row = r.select().where(~r.unpacked).order_by(r.received_at, r.id).first()
            if row is None:
                return None
            claimed = r.update(unpacked=True).where(r.id == row.id, ~r.unpacked).execute()
            if not claimed:
                return Unpacked(row.museum, row.gate, {}, None)  # another worker's: next one
            body = {"type": "batch", "museum": row.museum, "gate": row.gate,
                    "epoch": row.epoch, "sent_at": row.received_at,
                    "first_seq": row.first_seq, "last_seq": row.last_seq}  # fmt: skip
            try:
                body["records"] = self._records(bytes(row.data))
                validate("batch", body)
                self._check_ends(row, body["records"])
                before = self.ingest.incarnation(row.museum, row.gate, row.epoch).contiguous_seq
                result = self.ingest.batch(row.museum, row.gate, body)
                if result.ack_seq <= before:
                    result.ack_seq = 0  # acknowledged when stored raw: no second, stale ack
            except (ProtocolError, BatchRefused, ValueError, TypeError, KeyError) as exc:
                # Acknowledged already (the gate signed these very bytes): say so, keep them.
                self.ingest.report(row.museum, row.gate, "bad_batch", row.first_seq,
                                   f"raw batch {row.first_seq}..{row.last_seq} cannot be "
                                   f"unpacked: {exc}; kept in raw_batch", row.epoch)  # fmt: skip
                return Unpacked(row.museum, row.gate, body, None)
        return Unpacked(row.museum, row.gate, body, result)

    def _records(self, data: bytes) -> list[dict[str, Any]]:
        rows = parse_json(data, len(data))
        # A gate of an earlier release sends the columns before ``ADDED`` only.
        lengths = (len(COLUMNS), len(COLUMNS) - len(ADDED))
        if not isinstance(rows, list) or not all(
            isinstance(row, list) and len(row) in lengths for row in rows
        ):
            raise ValueError(f"records are not arrays of the {lengths[0]} (or {lengths[1]}) "
                             "columns")  # fmt: skip
        missing = [None] * len(ADDED)
        return [dict(zip(COLUMNS, row + missing[: len(COLUMNS) - len(row)], strict=True))
                for row in rows]  # fmt: skip

    def _check_ends(self, row: Any, records: list[dict[str, Any]]) -> None:
        """The records' links inside the batch and its ends, as the signed header names them."""
        prev = row.prev_hash
        for record in records:
            if record["prev_hash"] != prev:
                raise ValueError(f"record {record['seq']}'s previous-hash link does not match")
            prev = record["hash"]
        if prev != row.last_hash:
            raise ValueError("the last record's hash is not the header's last_hash")
