"""Entries per museum and period as CSV, the way venues already receive bookings.

One line per admission (refusals are not entries): the museum-local day,
the pass number, accompanying children, whether it is billable (one entry
per pass per museum and day), whether staff forced it, and the operator;
gate, journal epoch and sequence number say where to find the record.

The hub decides what is billable, not the gates: each gate flags the first
entry of a pass it saw that day, but two gates of one museum (or a gate that
was offline) cannot know of each other's. Here the first admission of a pass
(by its printed number, whether read from the chip or typed) at a museum on
a day, in time order across all its gates, is billable; every other one is
not, whatever its gate's flag says.

Only verified records are exported: a record's hash is checked before it is
stored (flawed ones are quarantined), and it appears here once the chain up
to it is complete (seq within its journal's acknowledged range), so a record
beyond a hole is billed once the hole is filled.
"""

from __future__ import annotations

import csv
from datetime import date
from typing import IO

from hub.models import HubModels

HEADER = ("date", "pass_number", "children", "billable", "forced", "operator", "gate", "seq",
          "journal")  # fmt: skip


def export_entries(m: HubModels, museum: str, first: date, last: date, out: IO[str]) -> int:
    """Write the museum's admissions from ``first`` to ``last`` (inclusive); return the count."""
    e, j = m.entry, m.incarnation
    query = (
        e.select()
        .join(j, on=((j.museum == e.museum) & (j.gate == e.gate) & (j.epoch == e.epoch)))
        .where(e.museum == museum, e.day >= first.isoformat(), e.day <= last.isoformat(),
               e.kind == "decision", e.admitted == True,  # noqa: E712 - peewee builds SQL
               e.seq <= j.contiguous_seq)
        .order_by(e.day, e.wall, e.gate, e.epoch, e.seq)
    )  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    day, billed = "", set()  # the passes already billed at this museum on ``day``
    for row in query.iterator():
        if row.day != day:
            day, billed = row.day, set()  # rows come in day order
        number = row.pass_number or row.credential
        billable = number not in billed
        billed.add(number)
        writer.writerow((row.day, number, row.children, int(billable),
                         int(row.reason == "forced"), row.operator or "", row.gate, row.seq,
                         row.epoch))  # fmt: skip
        count += 1
    return count
