"""The cash register: folds over the journal's counter records, nothing else.

A till session opens with a float and closes with a counted amount; the
expected cash is the float plus the cash taken (less cash given back on
cancellations) since it opened. Totals of a period add up sales, renewals
and cancellations by payment method; these are the figures of the Z report
and of the signed closures (``closures.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from firmware.counter import records as kinds
from firmware.counter.records import detail_of


@dataclass
class Totals:
    """Money of a period, in cents; the keys of ``by_payment`` are payment methods."""

    sales: int = 0  # number of sales and renewals
    cancellations: int = 0
    gross_cents: int = 0  # prices of sales and renewals, before vouchers
    vouchers_cents: int = 0
    cancelled_cents: int = 0  # what cancellations gave back (positive)
    net_cents: int = 0  # taken less given back, all payment methods
    by_payment: dict[str, int] = field(default_factory=dict)

    def add_record(self, kind: str, detail: dict[str, Any]) -> None:
        due, payment = int(detail.get("due_cents", 0)), str(detail.get("payment", ""))
        if kind in kinds.SALE_KINDS:
            self.sales += 1
            self.gross_cents += int(detail.get("price_cents", 0))
            self.vouchers_cents += int(detail.get("voucher_cents", 0))
            self.net_cents += due
            self.by_payment[payment] = self.by_payment.get(payment, 0) + due
        elif kind == kinds.CANCELLATION:
            self.cancellations += 1
            self.cancelled_cents += due
            self.net_cents -= due
            self.by_payment[payment] = self.by_payment.get(payment, 0) - due

    def add(self, other: Totals) -> None:
        self.sales += other.sales
        self.cancellations += other.cancellations
        self.gross_cents += other.gross_cents
        self.vouchers_cents += other.vouchers_cents
        self.cancelled_cents += other.cancelled_cents
        self.net_cents += other.net_cents
        for method, cents in other.by_payment.items():
            self.by_payment[method] = self.by_payment.get(method, 0) + cents

    def as_dict(self) -> dict[str, Any]:
        return {
            "sales": self.sales, "cancellations": self.cancellations,
            "gross_cents": self.gross_cents, "vouchers_cents": self.vouchers_cents,
            "cancelled_cents": self.cancelled_cents, "net_cents": self.net_cents,
            "by_payment": dict(sorted(self.by_payment.items())),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Totals:
        fields = {k: int(data.get(k, 0)) for k in (
            "sales", "cancellations", "gross_cents", "vouchers_cents", "cancelled_cents",
            "net_cents")}  # fmt: skip
        return cls(**fields, by_payment={str(k): int(v) for k, v in
                                         data.get("by_payment", {}).items()})  # fmt: skip


def totals(records: Iterable[Any]) -> Totals:
    """Totals of the money records among ``records`` (journal records or their dicts)."""
    result = Totals()
    for record in records:
        kind = record["kind"] if isinstance(record, dict) else record.kind
        if kind in kinds.MONEY_KINDS:
            result.add_record(kind, detail_of(record))
    return result


@dataclass(frozen=True)
class TillState:
    open: bool
    opened_seq: int | None = None
    float_cents: int = 0
    cash_cents: int = 0  # cash taken less cash given back since the till opened
    totals: Totals | None = None

    @property
    def expected_cents(self) -> int:
        return self.float_cents + self.cash_cents


def till_state(records: Iterable[Any]) -> TillState:
    """Where the till stands after ``records`` (in journal order)."""
    state = TillState(open=False)
    session: list[Any] = []
    for record in records:
        kind = record["kind"] if isinstance(record, dict) else record.kind
        seq = record["seq"] if isinstance(record, dict) else record.seq
        if kind == kinds.TILL_OPEN:
            state = TillState(True, seq, int(detail_of(record)["float_cents"]))
            session = []
        elif kind == kinds.TILL_CLOSE:
            state, session = TillState(open=False), []
        elif state.open and kind in kinds.MONEY_KINDS:
            session.append(record)
    if not state.open:
        return state
    session_totals = totals(session)
    cash = session_totals.by_payment.get("cash", 0)
    return TillState(True, state.opened_seq, state.float_cents, cash, session_totals)


def close_figures(state: TillState, counted_cents: int) -> dict[str, int]:
    """What a till close records: the float, cash expected and counted, and the difference."""
    return {
        "float_cents": state.float_cents,
        "expected_cents": state.expected_cents,
        "counted_cents": counted_cents,
        "difference_cents": counted_cents - state.expected_cents,
    }
