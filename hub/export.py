"""Entries per museum and period as CSV, the way venues already receive bookings.

One line per admission (refusals are not entries): the museum-local day,
the pass number, accompanying children, whether it is billable (one entry
per pass per museum and day), whether staff forced it, and the operator;
gate and sequence number say where to find the record.
"""

from __future__ import annotations

import csv
from datetime import date
from typing import IO

from hub.models import HubModels

HEADER = ("date", "pass_number", "children", "billable", "forced", "operator", "gate", "seq")


def export_entries(m: HubModels, museum: str, first: date, last: date, out: IO[str]) -> int:
    """Write the museum's admissions from ``first`` to ``last`` (inclusive); return the count."""
    e = m.entry
    query = (
        e.select()
        .where(e.museum == museum, e.day >= first.isoformat(), e.day <= last.isoformat(),
               e.kind == "decision", e.admitted == True)  # noqa: E712 - peewee builds SQL from it
        .order_by(e.day, e.wall, e.gate, e.seq)
    )  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for row in query.iterator():
        writer.writerow((row.day, row.pass_number or row.credential, row.children,
                         int(row.billable), int(row.reason == "forced"), row.operator or "",
                         row.gate, row.seq))  # fmt: skip
        count += 1
    return count
