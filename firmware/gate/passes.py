"""What the gate knows about one pass, and the calendar rules of validity."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple


class PassState(StrEnum):
    STOCK = "stock"  # in a museum's stock, never sold
    SOLD = "sold"  # sold (or renewed) but not used yet: the first entry activates it
    ACTIVE = "active"  # activated: valid from activated_on through expires_on
    BLOCKED = "blocked"  # reported lost, stolen or cancelled by the central office


@dataclass(frozen=True)
class PassType:
    """A kind of pass from the hub's data: how many holders and children it admits."""

    code: str
    persons: int
    children: int


class PassRecord(NamedTuple):
    """A pass as the store knows it (a named tuple: built on every lookup, so cheap)."""

    serial: str  # chip UID, upper-case hex
    pass_number: str  # printed on the card; staff type it when the chip fails
    id_number: str  # printed ID number
    pass_type: PassType
    state: PassState
    activated_on: date | None = None
    expires_on: date | None = None  # the last valid day, inclusive
    # The museum whose stock a pass in state stock is in (the list's museum table or
    # a delivery delta); None when the hub did not say (sold passes, older lists).
    stock_of: str | None = None


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_valid_day(activated_on: date) -> date:
    """The end-date convention: valid through the day before the first anniversary.

    Activated 2026-11-22 → valid through 2027-11-21, refused from 2027-11-22.
    A pass activated on 29 February has its anniversary on 1 March of the
    next year, so it is valid through 28 February.
    """
    try:
        anniversary = activated_on.replace(year=activated_on.year + 1)
    except ValueError:  # 29 February, next year is not a leap year
        anniversary = date(activated_on.year + 1, 3, 1)
    return anniversary - timedelta(days=1)
