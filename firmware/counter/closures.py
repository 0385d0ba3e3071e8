"""Signed daily, monthly and yearly closures, with a perpetual grand total.

The French anti-fraud rule for tills (CGI art. 286 I 3° bis) asks for
inalterable records, periodic closures with cumulative totals, and
archives that can be checked. The journal already chains every record by
hash; a closure adds, for a period:

- the period's totals (``till.Totals``) and the range of records it covers
  (from one past the previous closure of the same period to ``last_seq``),
- the hash of its last record, which pins every record before it,
- a perpetual grand total (net, and in absolute value: sales plus what
  cancellations gave back), carried from the previous closure of its kind,
- an Ed25519 signature by the gate's own key (``firmware/sync/keys.py``).

A day is closed from its money records; a month from the day closures since
the last month closure, a year from the month closures, so a closure never
needs records that were pruned after the hub stored them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.counter import records as kinds
from firmware.counter.records import detail_of
from firmware.counter.till import Totals, totals
from firmware.trust import b64, canonical, key_id, raw_public, unb64, verify_signature

DOCUMENT_TYPE = "portique-closure"
PERIODS = ("day", "month", "year")
_BELOW = {"month": "day", "year": "month"}


def closures_of(records: Iterable[Any], period: str) -> list[dict[str, Any]]:
    """The signed closure documents of ``period`` among ``records``, oldest first."""
    found = []
    for record in records:
        kind = record["kind"] if isinstance(record, dict) else record.kind
        if kind == kinds.CLOSURE:
            document = detail_of(record)
            if document.get("closure", {}).get("period") == period:
                found.append(document)
    return found


def period_totals(period: str, records: list[Any], after_seq: int) -> tuple[Totals, int]:
    """Totals of ``period`` over ``records`` after ``after_seq``, and how many parts made them."""
    later = [r for r in records if (r["seq"] if isinstance(r, dict) else r.seq) > after_seq]
    if period == "day":
        money = [r for r in later if (r["kind"] if isinstance(r, dict) else r.kind)
                 in kinds.MONEY_KINDS]  # fmt: skip
        return totals(money), len(money)
    result = Totals()
    parts = closures_of(later, _BELOW[period])
    for document in parts:
        result.add(Totals.from_dict(document["closure"]["totals"]))
    return result, len(parts)


def build_closure(
    period: str,
    label: str,
    records: list[Any],
    previous: dict[str, Any] | None,
    last_seq: int,
    last_hash: str,
    wall: float,
    museum: str,
    gate: str,
) -> dict[str, Any]:
    """The unsigned body of the closure of ``period`` ``label`` (e.g. day 2026-12-03)."""
    if period not in PERIODS:
        raise ValueError(f"period {period!r} is not one of {', '.join(PERIODS)}")
    before = previous["closure"] if previous else None
    after_seq = int(before["last_seq"]) if before else 0
    period_sum, parts = period_totals(period, records, after_seq)
    grand = int(before["grand_total_cents"]) if before else 0
    absolute = int(before["grand_total_absolute_cents"]) if before else 0
    return {
        "type": DOCUMENT_TYPE,
        "period": period,
        "label": label,
        "number": (int(before["number"]) + 1) if before else 1,
        "museum": museum,
        "gate": gate,
        "closed_at": wall,
        "first_seq": after_seq + 1,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "parts": parts,
        "totals": period_sum.as_dict(),
        "grand_total_cents": grand + period_sum.net_cents,
        "grand_total_absolute_cents": absolute
        + period_sum.net_cents
        + 2 * period_sum.cancelled_cents,
        "previous_signature": previous["signature"] if previous else None,
    }


def sign_closure(body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    public = raw_public(key.public_key())
    return {
        "closure": body,
        "key_id": key_id(public),
        "public_key": b64(public),
        "signature": b64(key.sign(canonical(body))),
    }


def closure_problems(document: dict[str, Any], public: bytes) -> list[str]:
    """What is wrong with a closure document, checked with the gate's ``public`` key."""
    body = document.get("closure")
    if not isinstance(body, dict) or body.get("type") != DOCUMENT_TYPE:
        return ["not a closure document"]
    name = f"{body.get('period')} closure {body.get('label')} (no. {body.get('number')})"
    try:
        signature = unb64(document.get("signature"), "closure signature")
    except Exception as exc:  # TrustError: malformed base64
        return [f"{name}: {exc}"]
    if not verify_signature(public, signature, canonical(body)):
        return [f"{name}: signature does not match the gate's key {key_id(public)}"]
    return []


def chain_problems(documents: list[dict[str, Any]]) -> list[str]:
    """Breaks in a run of closures of one period: numbering, links and the grand total.

    The first closure in the run may follow ones not shown (an archive that
    starts later); every later one must follow the one before it.
    """
    problems = []
    for before, after in zip(documents, documents[1:], strict=False):
        b, a = before["closure"], after["closure"]
        name = f"{a['period']} closure {a['label']} (no. {a['number']})"
        if a["number"] != b["number"] + 1:
            problems.append(f"{name} does not follow no. {b['number']}")
        if a["previous_signature"] != before["signature"]:
            problems.append(f"{name} is not linked to the closure before it")
        if a["grand_total_cents"] != b["grand_total_cents"] + a["totals"]["net_cents"]:
            problems.append(f"{name}: the grand total does not carry on from no. {b['number']}")
    return problems
