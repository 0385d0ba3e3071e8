"""Validated counter-marks per museum and period, to check pass Culture's reimbursements.

pass Culture reimburses a venue every two to three weeks for the bookings it
validated, with a CSV of them; this export lists the same bookings from the
hub's side, one line per validation still standing (a validation later undone
at the desk is left out), so a museum can match every euro.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from hub.passculture.models import CounterMark

PARIS = ZoneInfo("Europe/Paris")
HEADER = (
    "code",
    "booking_id",
    "offer",
    "price_category",
    "price",
    "quantity",
    "validated_at",
    "gate",
    "operator",
)


def _bounds_us(first: date, last: date, tz: ZoneInfo) -> tuple[int, int]:
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return int(start.timestamp()) * 1_000_000, int(end.timestamp()) * 1_000_000


def export_validations(
    table: type[CounterMark],
    museum: str,
    first: date,
    last: date,
    out: IO[str],
    tz: ZoneInfo = PARIS,
) -> int:
    """Write ``museum``'s validations from ``first`` to ``last`` (museum-local days,
    inclusive) as CSV; return how many. Prices are euros with two decimals."""
    low, high = _bounds_us(first, last, tz)
    t = table
    admitted = (
        t.select()
        .where(
            t.museum == museum,
            t.action == "validate",
            t.outcome == "admit",
            t.at_us >= low,
            t.at_us < high,
        )
        .order_by(t.at_us, t.id)
    )
    undone = {}
    for row in t.select(t.code, t.at_us).where(t.museum == museum, t.outcome == "undone"):
        undone[row.code] = max(undone.get(row.code, 0), row.at_us)
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for row in admitted.iterator():
        if undone.get(row.code, 0) > row.at_us:
            continue
        at = datetime.fromtimestamp(row.at_us / 1_000_000, UTC).astimezone(tz)
        price = "" if row.price is None else f"{row.price / 100:.2f}"
        writer.writerow(
            (
                row.code,
                row.booking_id,
                row.offer_name or "",
                row.price_category or "",
                price,
                row.quantity,
                at.isoformat(timespec="seconds"),
                row.gate,
                row.operator or "",
            )
        )
        count += 1
    return count
