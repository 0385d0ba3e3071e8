"""Storing a gate's batch: idempotent by (gate, seq), gaps and chain breaks reported.

The acknowledgement is the highest sequence stored without a hole, with
that record's hash. Records beyond a hole are kept (they are evidence and
billing) but not acknowledged until the hole is filled; the caller asks the
gate to resend from the hole. Runs on the hub's worker thread only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from firmware.protocol.record import COLUMNS, record_hash
from hub.activations import activation_delta
from hub.models import HubModels

log = logging.getLogger("portique.hub")

_ENTRY_COLUMNS = (*COLUMNS, "received_at")


class BatchRefused(Exception):
    """A batch that is not one gate's consecutive records; nothing of it is stored."""


@dataclass
class BatchResult:
    ack_seq: int
    ack_hash: str
    stored: int
    duplicates: int
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
    def __init__(self, models: HubModels, now: Any) -> None:
        self.m, self.now = models, now

    def batch(self, museum: str, gate: str, body: dict[str, Any]) -> BatchResult:
        check_batch(museum, gate, body)
        with self.m.db.atomic():
            progress = self.progress(museum, gate)
            new, duplicates = self._store(museum, gate, body["records"])
            self._advance(progress, body["records"])
            result = BatchResult(progress.contiguous_seq, progress.contiguous_hash, len(new),
                                 duplicates)  # fmt: skip
            if progress.highest_seq > progress.contiguous_seq:
                result.resend_from = progress.contiguous_seq + 1
                self._report_gap(progress)
            for record in new:
                if record["reason"] == "activated" and record["credential_kind"] == "chip":
                    delta = activation_delta(self.m, record, self.now(), self.report)
                    if delta is not None:
                        result.deltas.append(delta)
        return result

    def progress(self, museum: str, gate: str) -> Any:
        p = self.m.progress
        row, _ = p.get_or_create(museum=museum, gate=gate)
        return row

    def report(self, museum: str, gate: str, kind: str, seq: int | None, detail: str) -> None:
        log.warning("hub: %s/%s %s at %s: %s", museum, gate, kind, seq, detail)
        self.m.problem.create(museum=museum, gate=gate, kind=kind, seq=seq, detail=detail,
                              at=self.now())  # fmt: skip

    # -- internals ---------------------------------------------------------------

    def _store(self, museum: str, gate: str, records: list[dict[str, Any]]) -> tuple[list, int]:
        e = self.m.entry
        first, last = records[0]["seq"], records[-1]["seq"]
        stored = dict(
            e.select(e.seq, e.hash)
            .where(e.museum == museum, e.gate == gate, e.seq >= first, e.seq <= last)
            .tuples()
        )
        new = []
        for record in records:
            known = stored.get(record["seq"])
            if known is None:
                new.append(record)
            elif known != record["hash"]:
                self.report(museum, gate, "rewritten", record["seq"],
                            "arrived again with other content; the first is kept")  # fmt: skip
        received = self.now()
        for record in new:
            if record_hash({name: record[name] for name in COLUMNS}) != record["hash"]:
                self.report(museum, gate, "bad_hash", record["seq"],
                            "the record's content does not match its hash")  # fmt: skip
        if new:
            # One prepared statement for the whole batch: peewee's builder spends more
            # time writing a multi-row INSERT than the database spends storing it.
            # ON CONFLICT DO NOTHING is both SQLite's and PostgreSQL's.
            rows = [[r[name] for name in COLUMNS] + [received] for r in new]
            cursor = self.m.db.cursor()
            cursor.executemany(self._insert_sql, rows)
        return new, len(records) - len(new)

    @property
    def _insert_sql(self) -> str:
        params = ", ".join([self.m.db.param] * len(_ENTRY_COLUMNS))
        return (f"INSERT INTO {self.m.entry._meta.table_name} ({', '.join(_ENTRY_COLUMNS)}) "
                f"VALUES ({params}) ON CONFLICT DO NOTHING")  # fmt: skip

    def _advance(self, progress: Any, batch: list[dict[str, Any]]) -> None:
        """Move the contiguous mark over every stored record that follows it."""
        e = self.m.entry
        mine = (e.museum == progress.museum) & (e.gate == progress.gate)
        expected, prev = progress.contiguous_seq + 1, progress.contiguous_hash
        highest = max(progress.highest_seq, batch[-1]["seq"])
        # The batch in hand usually is what follows: walk it without reading it back.
        rows: Any = [(r["seq"], r["prev_hash"], r["hash"]) for r in batch
                     if r["seq"] >= expected]  # fmt: skip
        if not rows or rows[0][0] != expected or highest > rows[-1][0]:
            rows = (
                e.select(e.seq, e.prev_hash, e.hash)
                .where(mine, e.seq >= expected).order_by(e.seq).tuples().iterator()
            )  # fmt: skip
        for seq, prev_hash, record_hash_ in rows:
            if seq != expected:
                break
            if prev_hash != prev:
                self.report(progress.museum, progress.gate, "chain_break", seq,
                            "its previous-hash link does not match the record before")  # fmt: skip
            expected, prev = seq + 1, record_hash_
        if expected - 1 > progress.contiguous_seq:
            self._resolve_gaps(progress, expected - 1)
        progress.contiguous_seq, progress.contiguous_hash = expected - 1, prev
        progress.highest_seq = highest or 0
        progress.save()

    def _report_gap(self, progress: Any) -> None:
        p = self.m.problem
        start = progress.contiguous_seq + 1
        known = p.select().where(p.museum == progress.museum, p.gate == progress.gate,
                                 p.kind == "gap", p.seq == start, ~p.resolved)  # fmt: skip
        if not known.exists():
            self.report(progress.museum, progress.gate, "gap", start,
                        f"records from {start} are missing; later ones up to "
                        f"{progress.highest_seq} are stored")  # fmt: skip

    def _resolve_gaps(self, progress: Any, upto: int) -> None:
        p = self.m.problem
        p.update(resolved=True).where(
            p.museum == progress.museum, p.gate == progress.gate, p.kind == "gap", p.seq <= upto
        ).execute()
