"""Storing a gate's batch: idempotent by (gate, journal, seq), flawed records set apart.

The acknowledgement is the highest sequence of that journal (its *epoch*)
stored without a hole, with that record's hash. A record is stored only if
its hash matches its content; it counts towards the acknowledgement only
once its previous-hash link matches the record before. A record failing
either check goes to quarantine (kept, reported, never acknowledged), so
the gate's genuine record with that seq is stored when it comes. Records
beyond a hole are kept (they are evidence and billing) but not acknowledged
until the hole is filled; the caller asks the gate to resend from the hole.
Runs on a hub worker's thread; several workers (processes) may store batches
of the same gate at once: each batch holds its journal's row locked while it
is stored (hub/concurrency.py), so the second waits for the first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from firmware.protocol.record import COLUMNS, LEGACY_EPOCH, record_hash
from hub.activations import activation_delta
from hub.concurrency import locked, writing
from hub.models import HubModels
from hub.sales import ingest_money

log = logging.getLogger("portique.hub")

_ENTRY_COLUMNS = (*COLUMNS, "epoch", "received_at")
_TYPED = ("chip", "number")  # a pass read from its chip or typed by its printed number


class BatchRefused(Exception):
    """A batch that is not one gate's consecutive records; nothing of it is stored."""


@dataclass
class BatchResult:
    ack_seq: int
    ack_hash: str
    stored: int
    duplicates: int
    epoch: str | None  # as the batch named it (None: a gate of the format before epochs)
    resend_from: int | None = None
    deltas: list[dict[str, Any]] = field(default_factory=list)


def check_batch(museum: str, gate: str, body: dict[str, Any]) -> None:
    """Refuse a batch whose records are not ``first_seq..last_seq`` of this gate."""
    records = body["records"]
    seqs = [r["seq"] for r in records]
    if seqs != list(range(body["first_seq"], body["last_seq"] + 1)):
        raise BatchRefused(f"records are not {body['first_seq']}..{body['last_seq']} in order")
    strangers = {(r["museum"], r["gate"]) for r in records} - {(museum, gate)}
    if strangers:
        raise BatchRefused(f"records of another gate {sorted(strangers)[0]} in the batch")


class Ingest:
    def __init__(self, models: HubModels, now: Any, gap_grace_s: float = 0.0) -> None:
        self.m, self.now = models, now
        # Several workers may store a gate's batches out of order, which looks like a hole
        # for a moment: ask for a resend only once a hole has lasted this long.
        self.gap_grace_s = gap_grace_s

    def batch(self, museum: str, gate: str, body: dict[str, Any]) -> BatchResult:
        check_batch(museum, gate, body)
        records = body["records"]
        with writing(self.m.db):
            journal = self.incarnation(museum, gate, body.get("epoch"))  # locked till commit
            new, duplicates, walk = self._store(journal, records)
            set_apart = self._advance(journal, walk, records[-1]["seq"])
            result = BatchResult(journal.contiguous_seq, journal.contiguous_hash, len(new),
                                 duplicates, body.get("epoch"))  # fmt: skip
            if journal.highest_seq > journal.contiguous_seq:
                gap_since = self._report_gap(journal)
                if self.now() - gap_since >= self.gap_grace_s:
                    result.resend_from = journal.contiguous_seq + 1
            kept = [record for record in new if record["seq"] not in set_apart]
            # Sales and renewals first: a renewal's immediate entry is then the year it made.
            result.deltas += ingest_money(self.m, kept, self.now(), self.report)
            for record in kept:
                if record["reason"] == "activated" and record["credential_kind"] in _TYPED:
                    delta = activation_delta(self.m, record, self.now(), self.report)
                    if delta is not None:
                        result.deltas.append(delta)
        return result

    def progress(self, museum: str, gate: str) -> Any:
        """The gate's connection row, locked until the caller's transaction ends."""
        p = self.m.progress
        row = locked(p.select().where(p.museum == museum, p.gate == gate)).first()
        # Two workers creating it at once: one gets IntegrityError and handles it again.
        return row if row is not None else p.create(museum=museum, gate=gate)

    def incarnation(self, museum: str, gate: str, epoch: str | None) -> Any:
        """The gate's journal ``epoch`` (None: the legacy one); a new one is reported."""
        epoch = epoch or LEGACY_EPOCH
        j = self.m.incarnation
        row = locked(j.select().where(j.museum == museum, j.gate == gate,
                                      j.epoch == epoch)).first()  # fmt: skip
        if row is not None:
            return row
        earlier = list(j.select().where(j.museum == museum, j.gate == gate))
        row = j.create(museum=museum, gate=gate, epoch=epoch, first_seen_at=self.now())
        if earlier:
            self.report(museum, gate, "new_journal", None,
                        f"a new journal {epoch} starts at seq 1 (the gate was re-provisioned "
                        f"or its card replaced); earlier: "
                        + ", ".join(f"{o.epoch} stored 1..{o.contiguous_seq}"
                                    for o in earlier), epoch)  # fmt: skip
            for old in earlier:
                self._report_tail(old)
        return row

    def reported(self, museum: str, gate: str, epoch: str | None, last_seq: int) -> Any:
        """Note how far the gate says (hello, status) its journal goes; return its row."""
        with writing(self.m.db):
            journal = self.incarnation(museum, gate, epoch)
            if last_seq > journal.reported_seq:
                journal.reported_seq = last_seq
                journal.save()
        return journal

    def report(self, museum: str, gate: str, kind: str, seq: int | None, detail: str,
               epoch: str | None = None) -> None:  # fmt: skip
        log.warning("hub: %s/%s %s at %s: %s", museum, gate, kind, seq, detail)
        self.m.problem.create(museum=museum, gate=gate, kind=kind, seq=seq, detail=detail,
                              at=self.now(), epoch=epoch)  # fmt: skip

    # -- internals ---------------------------------------------------------------

    def _store(self, journal: Any, records: list[dict[str, Any]]) -> tuple[list, int, list]:
        """Store the records that check out; return (new, duplicates, records to walk)."""
        e = self.m.entry
        first, last = records[0]["seq"], records[-1]["seq"]
        stored = dict(
            e.select(e.seq, e.hash)
            .where(e.museum == journal.museum, e.gate == journal.gate,
                   e.epoch == journal.epoch, e.seq >= first, e.seq <= last)
            .tuples()
        )  # fmt: skip
        new, walk, duplicates = [], [], 0
        for record in records:
            known = stored.get(record["seq"])
            if known == record["hash"]:
                duplicates += 1
                walk.append(record)
            elif record_hash(record) != record["hash"]:
                self._quarantine(journal, record, "bad_hash",
                                 "its content does not match its hash")  # fmt: skip
            elif known is None:
                new.append(record)
                walk.append(record)
            else:
                self._quarantine(journal, record, "rewritten",
                                 "arrived again with other content; the first is kept")  # fmt: skip
        if new:
            # One prepared statement for the whole batch: peewee's builder spends more
            # time writing a multi-row INSERT than the database spends storing it.
            # ON CONFLICT DO NOTHING is both SQLite's and PostgreSQL's.
            received = self.now()
            rows = [[r[name] for name in COLUMNS] + [journal.epoch, received] for r in new]
            cursor = self.m.db.cursor()
            cursor.executemany(self._insert_sql, rows)
        return new, duplicates, walk

    @property
    def _insert_sql(self) -> str:
        params = ", ".join([self.m.db.param] * len(_ENTRY_COLUMNS))
        return (f"INSERT INTO {self.m.entry._meta.table_name} ({', '.join(_ENTRY_COLUMNS)}) "
                f"VALUES ({params}) ON CONFLICT DO NOTHING")  # fmt: skip

    def _quarantine(self, journal: Any, record: dict[str, Any], flaw: str, detail: str) -> None:
        """Keep a flawed record apart, reported once however often it is sent."""
        q = self.m.quarantine
        known = q.select().where(q.museum == journal.museum, q.gate == journal.gate,
                                 q.epoch == journal.epoch, q.seq == record["seq"],
                                 q.hash == record["hash"])  # fmt: skip
        if known.exists():
            return
        q.create(**{name: record[name] for name in COLUMNS}, epoch=journal.epoch, flaw=flaw,
                 received_at=self.now())  # fmt: skip
        self.report(journal.museum, journal.gate, flaw, record["seq"],
                    f"{detail}; quarantined, the gate's valid record is awaited",
                    journal.epoch)  # fmt: skip

    def _advance(self, journal: Any, batch: list[dict[str, Any]], last_seq: int) -> set[int]:
        """Move the contiguous mark over every stored record that follows it and links to it.

        A stored record whose link does not match is moved to quarantine: the
        mark stops before it and the gate is asked for its records again.
        Returns the sequence numbers moved.
        """
        e = self.m.entry
        mine = (e.museum == journal.museum) & (e.gate == journal.gate) & (e.epoch == journal.epoch)
        expected, prev = journal.contiguous_seq + 1, journal.contiguous_hash
        highest = max(journal.highest_seq, last_seq)
        # The batch in hand usually is what follows: walk it without reading it back.
        rows: Any = [(r["seq"], r["prev_hash"], r["hash"]) for r in batch
                     if r["seq"] >= expected]  # fmt: skip
        if not rows or rows[0][0] != expected or highest > rows[-1][0]:
            rows = (
                e.select(e.seq, e.prev_hash, e.hash)
                .where(mine, e.seq >= expected).order_by(e.seq).tuples().iterator()
            )  # fmt: skip
        set_apart = set()
        for seq, prev_hash, record_hash_ in rows:
            if seq != expected:
                break
            if prev_hash != prev:
                self._unlink(journal, seq)
                set_apart.add(seq)
                break
            expected, prev = seq + 1, record_hash_
        if expected - 1 > journal.contiguous_seq:
            self._resolve(journal, "gap", expected - 1)
        journal.contiguous_seq, journal.contiguous_hash = expected - 1, prev
        journal.highest_seq = highest or 0
        if journal.contiguous_seq >= max(journal.highest_seq, journal.reported_seq):
            self._resolve(journal, "unacknowledged_tail", journal.contiguous_seq)
        journal.save()
        return set_apart

    def _unlink(self, journal: Any, seq: int) -> None:
        e = self.m.entry
        where = ((e.museum == journal.museum) & (e.gate == journal.gate)
                 & (e.epoch == journal.epoch) & (e.seq == seq))  # fmt: skip
        record = e.select().where(where).dicts().get()
        e.delete().where(where).execute()
        self._quarantine(journal, record, "chain_break",
                         "its previous-hash link does not match the record before")  # fmt: skip

    def _report_gap(self, journal: Any) -> float:
        """Report the hole after the contiguous mark once; return when it was first seen."""
        p = self.m.problem
        start = journal.contiguous_seq + 1
        known = p.select(p.at).where(p.museum == journal.museum, p.gate == journal.gate,
                                     p.epoch == journal.epoch, p.kind == "gap", p.seq == start,
                                     ~p.resolved).first()  # fmt: skip
        if known is not None:
            return known.at
        self.report(journal.museum, journal.gate, "gap", start,
                    f"records from {start} are missing; later ones up to "
                    f"{journal.highest_seq} are stored", journal.epoch)  # fmt: skip
        return self.now()

    def _report_tail(self, journal: Any) -> None:
        """An earlier journal of a re-provisioned gate: report what never reached the hub."""
        last = max(journal.highest_seq, journal.reported_seq)
        if last > journal.contiguous_seq:
            start = journal.contiguous_seq + 1
            self.report(journal.museum, journal.gate, "unacknowledged_tail", start,
                        f"journal {journal.epoch} was replaced; its records {start}..{last} "
                        "were never stored here: recover them from the old card "
                        "(portique journal export)", journal.epoch)  # fmt: skip

    def _resolve(self, journal: Any, kind: str, upto: int) -> None:
        p = self.m.problem
        p.update(resolved=True).where(
            p.museum == journal.museum,
            p.gate == journal.gate,
            p.epoch == journal.epoch,
            p.kind == kind,
            p.seq <= upto,
        ).execute()
