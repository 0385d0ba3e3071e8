"""Applying the hub's pass changes (other gates' activations, blocks, sales) on the gate.

The hub numbers its deltas without gaps (``dseq``) across the whole network.
The gate applies them in that order, each once: one already applied is a
replay and skipped, one beyond the next expected means some were missed and
the gate asks the hub again (the hello). They land in the ``remote_pass``
table, beside this gate's own activations, never in the received list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from firmware.journal.journal import Journal

DELTA_SEQ_KEY = "sync.delta_seq"
_FIELDS = ("pass_number", "id_number", "pass_type", "state", "activated_on", "expires_on",
           "origin_museum", "origin_gate", "stock_of", "kind")  # fmt: skip
# What the hub says outright about a pass (its sale, renewal, or return to a stock):
# it replaces whatever the gate kept, dates included.
_STATEMENTS = ("sale", "renewal", "stock")


@dataclass(frozen=True)
class DeltaOutcome:
    applied: int  # changes stored
    duplicates: int  # already applied before: replays, or a catch-up overlapping a broadcast
    delta_seq: int  # the newest dseq applied now
    missing_from: int | None  # the first dseq not received, when the items skip some


def merge_remote(existing: dict[str, Any] | None, item: dict[str, Any]) -> dict[str, Any]:
    """What the gate keeps for a pass after ``item``: the earliest activation wins.

    A block stays until a sale re-issues the pass; an activation later than
    one already known changes nothing (the hub reports such conflicts). A sale,
    renewal or stock delivery states the pass's state and dates: it replaces.
    """
    new = {name: item.get(name) for name in _FIELDS}
    if existing is None or item["kind"] in _STATEMENTS:
        return new
    if item["kind"] == "activation":
        if existing["state"] == "blocked":
            return existing
        if existing["state"] == "active" and existing["activated_on"] <= item["activated_on"]:
            return existing
        return new
    # A block keeps what is known of the pass and changes its state.
    return {**existing, "state": "blocked", **{k: v for k, v in new.items() if v is not None}}


def apply_deltas(journal: Journal, items: tuple[dict[str, Any], ...], delta_seq: int,
                 museum: str, gate: str) -> DeltaOutcome:  # fmt: skip
    """Store the items that follow ``delta_seq``, in one transaction."""
    remote = journal.models.remote_pass
    applied = duplicates = 0
    missing_from = None
    changed: list[str] = []
    with journal.db.atomic():
        for item in sorted(items, key=lambda i: i["dseq"]):
            if item["dseq"] <= delta_seq:
                duplicates += 1
                continue
            if item["dseq"] > delta_seq + 1:
                missing_from = delta_seq + 1
                break
            delta_seq = item["dseq"]
            mine = (item["origin_museum"], item["origin_gate"]) == (museum, gate)
            if mine and item["kind"] == "activation":
                continue  # our own activation, already in local_pass
            # Our own sale or renewal is kept too: the hub's word that it outranks the
            # year in our list (our local_pass alone would lose to its earlier activation).
            row = remote.get_or_none(remote.serial == item["serial"])
            existing = {name: getattr(row, name) for name in _FIELDS} if row else None
            merged = merge_remote(existing, item)
            remote.replace(serial=item["serial"], dseq=item["dseq"], **merged).execute()
            changed.append(item["serial"])
            applied += 1
        journal.models.setting.replace(key=DELTA_SEQ_KEY, value=repr(float(delta_seq))).execute()
    journal.remote_serials.update(changed)  # only once the transaction is committed
    return DeltaOutcome(applied, duplicates, delta_seq, missing_from)
