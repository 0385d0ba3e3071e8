"""Pass orders: a counter orders passes, the office ships serials, the museum receives them.

The order itself is the counter's journal record (``pass_order``, stored in
the ``entry`` table like every record): that is state *received*. The office
then records, in the ``pass_order`` table, which serials it shipped
(*shipped*) and when the museum got them (*delivered*). Delivery makes each
serial that museum's stock on every gate: one ``stock`` delta per serial,
stored in the same transaction, so the next list or delta says whose stock
it is and the desk may sell it there, and only there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import peewee

from firmware.protocol.sales import PASS_ORDER
from hub.actions import ActionRefused, check_serial
from hub.activations import new_delta
from hub.migrations import create_tables
from hub.models import HubModels, bound_model

RECEIVED, SHIPPED, DELIVERED = "received", "shipped", "delivered"


class PassOrder(peewee.Model):
    """What the office did with one order (absent: received, nothing done yet)."""

    order = peewee.CharField(primary_key=True)  # the uuid the counter gave the order
    museum = peewee.CharField()
    state = peewee.CharField()  # shipped, delivered
    serials = peewee.TextField()  # JSON list of the chip serials shipped
    shipped_at = peewee.DoubleField()
    delivered_at = peewee.DoubleField(null=True)

    class Meta:
        table_name = "pass_order"


def orders_table(m: HubModels) -> type[PassOrder]:
    bound = bound_model(PassOrder, m.db)
    create_tables(m.db, [bound])
    return bound


@dataclass(frozen=True)
class Order:
    order: str
    museum: str
    gate: str
    seq: int
    day: str
    quantity: int
    pass_type: str
    by: str
    state: str
    serials: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"order": self.order, "museum": self.museum, "gate": self.gate, "seq": self.seq,
                "day": self.day, "quantity": self.quantity, "pass_type": self.pass_type,
                "by": self.by, "state": self.state, "serials": list(self.serials)}  # fmt: skip


def list_orders(m: HubModels, museum: str | None = None) -> list[Order]:
    """The counters' pass orders with their state, oldest first."""
    e, table = m.entry, orders_table(m)
    done = {row.order: row for row in table.select()}
    query = e.select().where(e.kind == PASS_ORDER)
    if museum:
        query = query.where(e.museum == museum)
    found = []
    for row in query.order_by(e.wall, e.gate, e.seq).iterator():
        try:
            detail = json.loads(row.detail or "{}")
            order, quantity, pass_type = str(detail["order"]), int(detail["quantity"]), \
                str(detail["pass_type"])  # fmt: skip
        except (ValueError, KeyError, TypeError):
            continue  # not an order after all; the entry table keeps it as it came
        office = done.get(order)
        found.append(Order(order, row.museum, row.gate, row.seq, row.day, quantity, pass_type,
                           row.operator or "", office.state if office else RECEIVED,
                           tuple(json.loads(office.serials)) if office else ()))  # fmt: skip
    return found


def find_order(m: HubModels, text: str) -> Order:
    """The order whose id is ``text`` or starts with it (8 characters are enough)."""
    wanted = text.strip().lower()
    matches = [o for o in list_orders(m) if wanted and o.order.startswith(wanted)]
    if not matches:
        raise ActionRefused("no_order", f"there is no pass order {text!r} "
                            "(portique-hub orders list)")  # fmt: skip
    if len(matches) > 1:
        raise ActionRefused("ambiguous_order", f"{text!r} names {len(matches)} orders: "
                            "give more of its id")  # fmt: skip
    return matches[0]


def ship(m: HubModels, text: str, serials: list[str], now: float) -> Order:
    """Record the serials shipped for an order; ActionRefused (nothing stored) if wrong."""
    order = find_order(m, text)
    if order.state != RECEIVED:
        raise ActionRefused("already_shipped", f"order {order.order[:8]} is {order.state}")
    checked = [check_serial(s) for s in serials]
    if not checked or len(checked) > order.quantity:
        raise ActionRefused(
            "bad_count",
            f"order {order.order[:8]} is for {order.quantity} "
            f"passes: ship 1 to {order.quantity} serials, not {len(checked)}",
        )
    if len(set(checked)) != len(checked):
        raise ActionRefused("duplicate_serial", "a serial is named twice")
    with m.db.atomic():
        _check_free(m, checked)
        orders_table(m).create(order=order.order, museum=order.museum, state=SHIPPED,
                               serials=json.dumps(checked), shipped_at=now)  # fmt: skip
    return find_order(m, order.order)


def _check_free(m: HubModels, serials: list[str]) -> None:
    """Refuse serials shipped in another order or already in use (activated)."""
    for row in orders_table(m).select():
        taken = set(json.loads(row.serials)) & set(serials)
        if taken:
            raise ActionRefused("serial_shipped", f"pass {sorted(taken)[0]} was already shipped "
                                f"in order {row.order[:8]} to {row.museum}")  # fmt: skip
    a = m.activation
    used = a.select(a.serial).where(a.serial.in_(serials)).first()
    if used is not None:
        raise ActionRefused("serial_in_use", f"pass {used.serial} is already activated: it "
                            "cannot go into a museum's stock")  # fmt: skip


def deliver(m: HubModels, text: str, now: float) -> tuple[Order, list[dict[str, Any]]]:
    """Mark a shipped order delivered; store and return one ``stock`` delta per serial."""
    order = find_order(m, text)
    if order.state != SHIPPED:
        raise ActionRefused("not_shipped", f"order {order.order[:8]} is {order.state}: "
                            "only a shipped order can be delivered")  # fmt: skip
    table = orders_table(m)
    with m.db.atomic():
        table.update(state=DELIVERED, delivered_at=now).where(table.order == order.order).execute()
        deltas = [new_delta(m, now, kind="stock", serial=serial, state="stock",
                            pass_type=order.pass_type, stock_of=order.museum)
                  for serial in order.serials]  # fmt: skip
    return find_order(m, order.order), deltas
