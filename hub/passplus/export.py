"""Pass+ redemptions per museum and period, for the partner portal (CSV)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
HEADER = ("number", "wallet", "amount", "paid", "price", "generated_on", "campaign",
          "redeemed_at", "gate", "operator")  # fmt: skip


def export_redemptions(table: Any, museum: str, first: date, last: date, out: IO[str],
                       tz: ZoneInfo = PARIS) -> int:  # fmt: skip
    """Write ``museum``'s redemptions from ``first`` to ``last`` (local days, inclusive)."""
    low = int(datetime.combine(first, time(), tz).timestamp()) * 1_000_000
    high = int(datetime.combine(last + timedelta(days=1), time(), tz).timestamp()) * 1_000_000
    t = table
    rows = (t.select().where(t.museum == museum, t.at_us >= low, t.at_us < high)
            .order_by(t.at_us, t.id))  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for row in rows.iterator():
        at = datetime.fromtimestamp(row.at_us / 1_000_000, UTC).astimezone(tz)
        writer.writerow((row.number, row.wallet, _euros(row.amount_cents), _euros(row.pays_cents),
                         _euros(row.price_cents), row.generated_on, row.campaign,
                         at.isoformat(timespec="seconds"), row.gate, row.operator))  # fmt: skip
        count += 1
    return count


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f}"
