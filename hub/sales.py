"""The hub's sales ledger: every sale, renewal and cancellation the counters recorded.

The counters' records reach the hub like entries (the ``entry`` table keeps
them exactly as signed); this module reads the money records out of it into
a table of its own, ``sale``, one row per record, unique by (museum, gate,
seq), so filling it twice is harmless and it can always be rebuilt from the
journal copies. Times are integer microseconds since the epoch, UTC.

``portique-hub sales export`` writes one CSV line per row; a cancellation is
a line with negative amounts that refers to the sale it cancels.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from types import SimpleNamespace
from typing import IO, Any

import peewee

from firmware.protocol.sales import MONEY_KINDS, format_cents
from hub.activations import BadDelta, new_delta
from hub.migrations import create_tables
from hub.models import HubModels, bound_model

HEADER = ("date", "pass", "tariff", "price", "voucher", "payment", "seller", "gate",
          "kind", "paid", "currency", "category", "seq", "refers_to")  # fmt: skip


class Sale(peewee.Model):
    museum = peewee.CharField()
    gate = peewee.CharField()
    seq = peewee.IntegerField()
    kind = peewee.CharField()  # sale, renewal, cancellation
    at_us = peewee.BigIntegerField()  # when the counter recorded it, microseconds UTC
    day = peewee.CharField()  # museum-local day
    pass_number = peewee.CharField(null=True)
    serial = peewee.CharField()
    tariff = peewee.CharField()
    category = peewee.CharField(null=True)
    price_cents = peewee.IntegerField()
    voucher_cents = peewee.IntegerField()
    due_cents = peewee.IntegerField()  # negative for a cancellation
    payment = peewee.CharField()
    currency = peewee.CharField()
    seller = peewee.CharField(null=True)
    refers_to = peewee.IntegerField(null=True)
    activated_on = peewee.CharField(null=True)
    expires_on = peewee.CharField(null=True)
    tse = peewee.CharField(null=True)  # signed, failed, or none

    class Meta:
        table_name = "sale"
        indexes = ((("museum", "gate", "seq"), True), (("museum", "day"), False))


def ledger(m: HubModels) -> type[Sale]:
    """The ``sale`` table bound to the hub's database (created if new)."""
    bound = bound_model(Sale, m.db)
    create_tables(m.db, [bound])
    return bound


def update_ledger(m: HubModels) -> int:
    """Copy the money records not in the ledger yet; return how many rows were added."""
    table = ledger(m)
    e = m.entry
    known = table.select(table.id).where(table.museum == e.museum, table.gate == e.gate,
                                         table.seq == e.seq)  # fmt: skip
    query = e.select().where(e.kind.in_(MONEY_KINDS), ~peewee.fn.EXISTS(known))
    added = 0
    with m.db.atomic():
        for row in query.iterator():
            values = _row(row)
            if values is not None:
                table.insert(**values).on_conflict_ignore().execute()
                added += 1
    return added


def _row(entry: Any) -> dict[str, Any] | None:
    try:
        detail = json.loads(entry.detail or "{}")
        sign = -1 if entry.kind == "cancellation" else 1
        tse = detail.get("tse")
        return {
            "museum": entry.museum, "gate": entry.gate, "seq": entry.seq, "kind": entry.kind,
            "at_us": round(entry.wall * 1_000_000), "day": entry.day,
            "pass_number": entry.pass_number, "serial": entry.credential,
            "tariff": str(detail["tariff"]), "category": detail.get("category"),
            "price_cents": sign * int(detail["price_cents"]),
            "voucher_cents": sign * int(detail.get("voucher_cents", 0)),
            "due_cents": sign * int(detail["due_cents"]), "payment": str(detail["payment"]),
            "currency": str(detail.get("currency", "")), "seller": entry.operator,
            "refers_to": entry.refers_to, "activated_on": detail.get("activated_on"),
            "expires_on": detail.get("expires_on"),
            "tse": tse.get("state") if isinstance(tse, dict) else "none",
        }  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # not a counter's record after all; the entry table still keeps it


def export_sales(m: HubModels, museum: str, first: date, last: date, out: IO[str]) -> int:
    """Write ``museum``'s sales from ``first`` to ``last`` (inclusive) as CSV; return the count."""
    update_ledger(m)
    table = ledger(m)
    query = (table.select()
             .where(table.museum == museum, table.day >= first.isoformat(),
                    table.day <= last.isoformat())
             .order_by(table.day, table.at_us, table.gate, table.seq))  # fmt: skip
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for row in query.iterator():
        writer.writerow((row.day, row.pass_number or row.serial, row.tariff,
                         format_cents(row.price_cents), format_cents(row.voucher_cents),
                         row.payment, row.seller or "", row.gate, row.kind,
                         format_cents(row.due_cents), row.currency, row.category or "",
                         row.seq, row.refers_to or ""))  # fmt: skip
        count += 1
    return count


def pass_orders(m: HubModels, museum: str | None = None) -> list[dict[str, Any]]:
    """The pass orders the counters recorded, with their state (``hub/orders.py``)."""
    from hub.orders import list_orders

    return [order.as_dict() for order in list_orders(m, museum)]


def sale_delta(m: HubModels, record: dict[str, Any], now: float) -> dict[str, Any] | None:
    """The delta that tells every gate what a counter's sale, renewal or cancellation did.

    It carries the pass's state and dates after the record (for a renewal kept
    within the current year: sold, with that year's dates), so no gate starts
    a new year early and the holder loses no day. A renewal (and the
    cancellation of one) is a ``renewal`` delta: gates let it outrank the year
    their list knows. A cancelled sale puts the pass back into the museum's
    stock (a ``stock`` delta). For ingest to call on each new money record,
    inside its transaction; None for any other record. BadDelta if gates would
    refuse it.
    """
    if record.get("kind") not in MONEY_KINDS:
        return None
    try:
        detail = json.loads(record.get("detail") or "{}")
        state = str(detail["state"])
    except (ValueError, KeyError, TypeError):
        return None
    kind = {"sale": "sale", "renewal": "renewal"}.get(record["kind"])
    if kind is None:  # a cancellation: restores the state before the sale or renewal
        kind = "stock" if state == "stock" else "renewal"
    stock_of = record["museum"] if state == "stock" else None
    activated_on, expires_on = detail.get("activated_on"), detail.get("expires_on")
    _check_year(record, state, activated_on, expires_on)
    if kind == "renewal" and state == "sold" and expires_on is None:
        # An expired pass renewed for its next entry: the delta keeps the year that ran
        # out, so a gate that activated that year sees the renewal follow it (sold, after
        # its end: the next entry starts the new year) rather than keep its own record.
        before = detail.get("before") or {}
        activated_on, expires_on = before.get("activated_on"), before.get("expires_on")
    return new_delta(m, now, kind=kind, serial=record["credential"], state=state,
                     pass_number=record["pass_number"], activated_on=activated_on,
                     expires_on=expires_on, origin_museum=record["museum"],
                     origin_gate=record["gate"], stock_of=stock_of)  # fmt: skip


# A counter sells, renews or restores one year at most, plus the days a renewal with
# immediate entry carries over (less than the 3-month window): 366 + 92 days.
_LONGEST_YEAR_DAYS = 366 + 92
_STATES = {"sale": ("sold", "active"), "renewal": ("sold", "active"),
           "cancellation": ("stock", "sold", "active")}  # fmt: skip


def _check_year(record: dict[str, Any], state: str, activated_on: Any, expires_on: Any) -> None:
    """BadDelta for what no counter records: a block, or a year longer than one can be.

    A sale record is the word of a registered gate; it still may not block a pass on
    every gate or hand out a ten-year pass.
    """
    if state not in _STATES[record["kind"]]:
        raise BadDelta(f"a {record['kind']} cannot leave the pass {state}")
    if state != "active":
        return
    try:
        days = (date.fromisoformat(expires_on) - date.fromisoformat(activated_on)).days
    except (TypeError, ValueError):
        raise BadDelta("an active pass needs its activation and expiry dates") from None
    if not 0 <= days <= _LONGEST_YEAR_DAYS:
        raise BadDelta(f"a year of {days} days from {activated_on} is not one a counter sells")


def ingest_money(m: HubModels, records: list[dict[str, Any]], now: float,
                 report: Any) -> list[dict[str, Any]]:  # fmt: skip
    """Enter a batch's new money records in the ledger and return the deltas they make.

    Called by ingest inside the batch's transaction, with records stored for
    the first time only (a re-sent batch brings none), so each sale reaches the
    ledger and the gates once; the ledger's unique key makes sure of it anyway.
    """
    table, deltas = None, []
    for record in records:
        if record.get("kind") not in MONEY_KINDS:
            continue
        table = table or ledger(m)
        values = _row(SimpleNamespace(**record))
        if values is None:
            report(record["museum"], record["gate"], "bad_sale", record["seq"],
                   f"{record['kind']} record is not a counter's sale: not in the "
                   "ledger")  # fmt: skip
            continue
        table.insert(**values).on_conflict_ignore().execute()
        try:
            delta = sale_delta(m, record, now)
        except BadDelta as exc:
            report(record["museum"], record["gate"], "bad_sale", record["seq"],
                   f"pass {record['credential']}: {exc}; not passed on to the gates")  # fmt: skip
            continue
        if delta is not None:
            deltas.append(delta)
            _stand(m, record, delta)
    return deltas


def _stand(m: HubModels, record: dict[str, Any], delta: dict[str, Any]) -> None:
    """A renewal (or its cancellation) with dates is the year that stands for the pass."""
    if delta["kind"] != "renewal" or delta["state"] != "active":
        return
    a = m.activation
    a.delete().where(a.serial == delta["serial"]).execute()
    a.create(serial=delta["serial"], pass_number=delta["pass_number"],
             activated_on=delta["activated_on"], expires_on=delta["expires_on"],
             wall=record["wall"], museum=record["museum"], gate=record["gate"],
             seq=record["seq"])  # fmt: skip


def closures(m: HubModels, museum: str) -> list[tuple[dict[str, Any], list[str]]]:
    """Each closure (Z report) of ``museum``'s counters, with what is wrong with it.

    Signatures are checked with the gate's key from the hub's registry, and each
    gate's closures of one period must follow one another.
    """
    from firmware.protocol.sales import chain_problems, closure_problems
    from firmware.protocol.signing import unb64

    e, g = m.entry, m.gate_key
    keys = {row.gate: unb64(row.public_key, "gate key")
            for row in g.select().where(g.museum == museum)}  # fmt: skip
    found: list[tuple[dict[str, Any], list[str]]] = []
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    query = e.select().where(e.museum == museum, e.kind == "closure").order_by(e.gate, e.seq)
    for row in query.iterator():
        try:
            document = json.loads(row.detail or "{}")
            period = document["closure"]["period"]
        except (ValueError, KeyError, TypeError):
            found.append(({}, [f"{row.gate} seq {row.seq}: not a closure document"]))
            continue
        key = keys.get(row.gate)
        problems = (closure_problems(document, key) if key is not None
                    else [f"gate {row.gate} is not registered: signature not checked"])  # fmt: skip
        run = runs.setdefault((row.gate, period), [])
        if run:
            problems += chain_problems([run[-1], document])
        run.append(document)
        found.append((document, problems))
    return found


def statistics_of(m: HubModels, museum: str, first: date, last: date, period: str) -> list[Any]:
    """Entries and sales of ``museum`` by day, week or month, from every gate and counter."""
    from firmware.protocol.sales import statistics

    e = m.entry
    query = e.select().where(e.museum == museum, e.day >= first.isoformat(),
                             e.day <= last.isoformat()).order_by(e.day)  # fmt: skip
    return statistics(query.iterator(), period)
