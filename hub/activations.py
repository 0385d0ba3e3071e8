"""Pass changes the hub passes on to every gate: activations, blocks, sales.

Two gates may activate the same pass before either hears of the other (the
network was down). The earliest activation stands, by museum-local day then
wall time; the other is reported as a conflict. Every change becomes a delta
numbered without gaps, which each gate applies once, in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import peewee

from firmware.protocol.messages import ANY, ProtocolError, validate
from hub.concurrency import lock_deltas
from hub.models import HubModels

Report = Callable[[str, str, str, int | None, str], None]


def activation_delta(m: HubModels, record: dict[str, Any], now: float,
                     report: Report) -> dict[str, Any] | None:  # fmt: skip
    """Merge one activation record; return the delta to broadcast if it now stands.

    A pass typed by its printed number is resolved to its chip serial first
    (``hub/passmap.py``): gates know passes by serial.
    """
    a = m.activation
    serial, day = record["credential"], record["day"]
    if record["credential_kind"] != "chip":
        from hub.passmap import serial_for_number

        serial = serial_for_number(m, record["pass_number"] or record["credential"])
        if serial is None:
            report(record["museum"], record["gate"], "unknown_number", record["seq"],
                   f"pass number {record['credential']} was activated by hand, but no pass "
                   "the hub knows has that number; not passed on to the gates")  # fmt: skip
            return None
    current = a.get_or_none(a.serial == serial)
    if current is not None and current.expires_on is not None and day > current.expires_on:
        current.delete_instance()  # the first entry of a renewed pass's new year: no conflict
        current = None
    if current is not None:
        here = (current.museum, current.gate)
        if here == (record["museum"], record["gate"]) and current.seq in (
            record["seq"],
            record.get("refers_to"),
        ):
            return None  # already merged, or the entry a renewal's immediate entry made
        earlier = (day, record["wall"]) < (current.activated_on, current.wall)
        winner = "this one" if earlier else f"{current.museum}/{current.gate} seq {current.seq}"
        report(record["museum"], record["gate"], "activation_conflict", record["seq"],
               f"pass {serial} was also activated at {current.museum}/{current.gate} on "
               f"{current.activated_on}; the earliest stands ({winner})")  # fmt: skip
        if not earlier:
            return None
        current.delete_instance()
    try:
        check_item({"dseq": 1, "kind": "activation", "serial": serial, "state": "active",
                    "pass_number": record["pass_number"], "id_number": None, "pass_type": None,
                    "activated_on": day, "expires_on": record["valid_until"],
                    "origin_museum": record["museum"], "origin_gate": record["gate"]},
                   now)  # fmt: skip
    except BadDelta as exc:
        report(record["museum"], record["gate"], "bad_activation", record["seq"],
               f"pass {serial}: {exc}; not passed on to the gates")  # fmt: skip
        return None
    a.create(serial=serial, pass_number=record["pass_number"], activated_on=day,
             expires_on=record["valid_until"], wall=record["wall"], museum=record["museum"],
             gate=record["gate"], seq=record["seq"])  # fmt: skip
    return new_delta(m, now, kind="activation", serial=serial, state="active",
                     pass_number=record["pass_number"], activated_on=day,
                     expires_on=record["valid_until"], origin_museum=record["museum"],
                     origin_gate=record["gate"])  # fmt: skip


class BadDelta(ValueError):
    """A pass change gates would refuse; never stored, never signed."""


def check_item(item: dict[str, Any], now: float) -> None:
    """Raise BadDelta unless ``item`` fits the schema every gate checks deltas against.

    Deltas are numbered without gaps and each gate applies them in order, so one
    item a gate refuses would stop every later change on every gate: it must
    never be stored.
    """
    try:
        validate("deltas", {"type": "deltas", "museum": ANY, "gate": ANY, "issued_at": now,
                            "items": [item]})  # fmt: skip
    except ProtocolError as exc:
        raise BadDelta(f"pass change refused, gates would not accept it: {exc}") from None


def new_delta(m: HubModels, now: float, *, kind: str, serial: str, state: str,
              **fields: Any) -> dict[str, Any]:  # fmt: skip
    """Store the next delta (call inside a transaction) and return its item.

    Raises BadDelta, storing nothing, for an item the gates would refuse.
    """
    # Gap-free across hub workers: the next number is taken under a lock held to commit.
    lock_deltas(m.db)
    last = m.delta.select(peewee.fn.MAX(m.delta.dseq)).scalar() or 0
    item = {
        "dseq": last + 1, "kind": kind, "serial": serial, "state": state,
        "pass_number": None, "id_number": None, "pass_type": None, "activated_on": None,
        "expires_on": None, "origin_museum": None, "origin_gate": None, **fields,
    }  # fmt: skip
    check_item(item, now)
    m.delta.create(dseq=item["dseq"], serial=serial, item=json.dumps(item), created_at=now)
    return item


def deltas_after(m: HubModels, dseq: int, limit: int) -> list[dict[str, Any]]:
    d = m.delta
    rows = d.select(d.item).where(d.dseq > dseq).order_by(d.dseq).limit(limit).tuples()
    return [json.loads(item) for (item,) in rows]
