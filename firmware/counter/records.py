"""The counter's journal records: new kinds in the existing hash-chained journal.

The journal's columns stay as they are (its hash, the sync schema and the
hub need no change): a counter record sets the columns that mean the same
thing (pass, operator, day, ``refers_to``, ``valid_until``), is never
``admitted``, and carries its own fields as canonical JSON in ``detail``.
A sale's voucher and payment are fields of the sale's record, so a sale is
never half recorded; a cancellation is a new record that refers to the sale
and carries the negated amounts (a record is never changed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from firmware.journal.journal import Entry
from firmware.trust import canonical

SALE = "sale"
RENEWAL = "renewal"
CANCELLATION = "cancellation"
TILL_OPEN = "till_open"
TILL_CLOSE = "till_close"
CLOSURE = "closure"
PASS_ORDER = "pass_order"
REPRINT = "receipt_reprint"

SALE_KINDS = (SALE, RENEWAL)
MONEY_KINDS = (SALE, RENEWAL, CANCELLATION)
KINDS = (SALE, RENEWAL, CANCELLATION, TILL_OPEN, TILL_CLOSE, CLOSURE, PASS_ORDER, REPRINT)


@dataclass(frozen=True)
class Stamp:
    """Who and when: what every counter record shares with an entry record."""

    wall: float
    monotonic: float
    time_trusted: bool
    day: str
    museum: str
    gate: str
    operator: str
    list_version: int = 0


def detail_text(fields: dict[str, Any]) -> str:
    return canonical(fields).decode()


def detail_of(record: Any) -> dict[str, Any]:
    """The JSON fields of a counter record (empty for a record that has none)."""
    text = getattr(record, "detail", None) if not isinstance(record, dict) else record["detail"]
    if not text or not text.startswith("{"):
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def counter_entry(
    kind: str,
    stamp: Stamp,
    fields: dict[str, Any],
    *,
    credential_kind: str = "none",
    credential: str = "",
    pass_number: str | None = None,
    valid_until: str | None = None,
    refers_to: int | None = None,
) -> Entry:
    """A journal entry of ``kind``; ``reason`` repeats the kind so old readers see what it is."""
    return Entry(
        kind=kind,
        wall=stamp.wall,
        monotonic=stamp.monotonic,
        time_trusted=stamp.time_trusted,
        day=stamp.day,
        museum=stamp.museum,
        gate=stamp.gate,
        credential_kind=credential_kind,
        credential=credential,
        admitted=False,
        reason=kind,
        pass_number=pass_number,
        valid_until=valid_until,
        list_version=stamp.list_version,
        operator=stamp.operator,
        refers_to=refers_to,
        detail=detail_text(fields),
    )
