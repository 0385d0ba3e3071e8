"""Today's figures for staff, counted from the journal's records of one day."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class DayRecord:
    """The columns of one journal record the figures need."""

    kind: str
    wall: float
    admitted: bool
    reason: str
    billable: bool
    children: int
    persons: int | None = None  # None on records from before the count was journaled


@dataclass(frozen=True)
class Figures:
    day: date
    entries: int  # admissions (one per pass or staff entry)
    children: int  # accompanying children of those admissions
    billable: int  # admissions the museum is billed for (one per pass and day)
    forced: int  # admissions forced by staff
    refusals: tuple[tuple[str, int], ...]  # (reason code, count), most frequent first
    by_hour: tuple[int, ...]  # admissions per museum-local hour, 0 to 23
    people: int = 0  # everyone let through: each pass's holders and the children


def count_day(day: date, records: Iterable[DayRecord], zone: ZoneInfo) -> Figures:
    """Figures for ``day`` from its records (decisions; other kinds are left out)."""
    entries = children = billable = forced = people = 0
    refusals: Counter[str] = Counter()
    by_hour = [0] * 24
    for record in records:
        if record.kind != "decision":
            continue
        if not record.admitted:
            refusals[record.reason] += 1
            continue
        entries += 1
        children += record.children
        people += record.persons if record.persons else 1 + record.children
        billable += record.billable
        forced += record.reason == "forced"
        by_hour[datetime.fromtimestamp(record.wall, zone).hour] += 1
    return Figures(
        day=day,
        entries=entries,
        children=children,
        billable=billable,
        forced=forced,
        refusals=tuple(sorted(refusals.items(), key=lambda item: (-item[1], item[0]))),
        by_hour=tuple(by_hour),
        people=people,
    )
