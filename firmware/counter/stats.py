"""Statistics of entries and sales by day, ISO week or month, from journal records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from firmware.counter import records as kinds
from firmware.counter.records import detail_of

PERIODS = ("day", "week", "month")


@dataclass
class Bucket:
    key: str  # "2026-12-03", "2026-W49" or "2026-12"
    entries: int = 0  # admissions (every admitted decision)
    children: int = 0
    billable: int = 0
    sales: int = 0
    renewals: int = 0
    cancellations: int = 0
    revenue_cents: int = 0  # paid, less what cancellations gave back


def period_key(day: str, period: str) -> str:
    if period == "day":
        return day
    if period == "month":
        return day[:7]
    if period == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year}-W{week:02d}"
    raise ValueError(f"period {period!r} is not one of {', '.join(PERIODS)}")


def statistics(records: Iterable[Any], period: str) -> list[Bucket]:
    """One bucket per ``period`` that has records, in order."""
    buckets: dict[str, Bucket] = {}
    for record in records:
        key = period_key(record.day, period)
        bucket = buckets.setdefault(key, Bucket(key))
        if record.kind == "decision" and record.admitted:
            bucket.entries += 1
            bucket.children += record.children
            bucket.billable += bool(record.billable)
        elif record.kind in kinds.MONEY_KINDS:
            due = int(detail_of(record).get("due_cents", 0))
            if record.kind == kinds.SALE:
                bucket.sales += 1
            elif record.kind == kinds.RENEWAL:
                bucket.renewals += 1
            else:
                bucket.cancellations += 1
                due = -due
            bucket.revenue_cents += due
    return [buckets[key] for key in sorted(buckets)]
