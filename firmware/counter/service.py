"""The counter's service: gathers inputs, applies the pure rules, commits, then prints.

Every operation checks the staff member's role first, reads the time once
from the floored clock, commits its journal record (and the pass change it
makes, in the same transaction) and only then asks the TSE's answer to be
printed. Nothing here knows the screen or the gate's loop: the loop (or the
reactor's counter module) calls these methods on its own thread.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.clock import FlooredClock, Now
from firmware.counter import records as kinds
from firmware.counter.closures import build_closure, sign_closure
from firmware.counter.money import AmountError, check_cents
from firmware.counter.receipt import PrintResult, ReceiptPrinter, print_lines, z_report_lines
from firmware.counter.records import Stamp, counter_entry, detail_of
from firmware.counter.roles import Function, may, require
from firmware.counter.rules import (
    Basket,
    CounterRefused,
    Plan,
    actions,
    plan_renewal,
    plan_sale,
)
from firmware.counter.stats import Bucket, statistics
from firmware.counter.tariffs import Tariffs, TariffsUnavailable
from firmware.counter.till import TillState, close_figures, till_state
from firmware.counter.tse import Tse, TseTransaction, sign_or_mark
from firmware.gate.passes import PassRecord
from firmware.gate.staff import StaffMember
from firmware.journal.journal import GENESIS_HASH, Entry, Journal, PassChange
from firmware.journal.models import Record

log = logging.getLogger("portique.counter")

MAX_PASS_ORDER = 1000
_CLOSURE_KEY = "last_closure_{}"
_TARIFFS_VERSION_KEY = "counter.tariffs_version"
_LABELS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


@dataclass(frozen=True)
class Done:
    """A committed operation: its record, the entry it made, and whether the receipt printed."""

    record: Record
    entry: Record | None = None
    printed: PrintResult | None = None
    # What the screen should tell the cashier (stable codes): "ask_to_register" after a
    # sale (seed: the buyer must register the pass), "reprint" when no receipt came out.
    hints: tuple[str, ...] = ()


class Counter:
    """The counter's operations for the screen; every method runs on the owner's thread."""

    def __init__(
        self,
        journal: Journal,
        clock: FlooredClock,
        zone: ZoneInfo,
        museum: str,
        gate: str,
        tariffs: Callable[[float], Tariffs],
        gate_key: Ed25519PrivateKey,
        printer: ReceiptPrinter | None = None,
        tse: Tse | None = None,
    ) -> None:
        self.journal, self.clock, self.zone = journal, clock, zone
        self.museum, self.gate = museum, gate
        self._tariffs, self.gate_key = tariffs, gate_key
        self.printer, self.tse = printer, tse

    # -- sales -----------------------------------------------------------------

    def sell(self, member: StaffMember, record: PassRecord | None, stock_of: str | None,
             basket: Basket, credential_kind: str = "chip") -> Done:  # fmt: skip
        """Sell a stock pass; CounterRefused or TariffsUnavailable says why not."""
        require(member.role, Function.SALES)
        if record is not None and (done := self._already_done(basket.nonce, record.serial)):
            return Done(done)  # a repeated confirmation: already sold, nothing more
        now = self.clock.now()
        plan = plan_sale(record, stock_of, self.museum, self.tariffs(now.wall), basket,
                         self.today(now))  # fmt: skip
        return self._commit_plan(member, plan, now, credential_kind, basket.nonce)

    def renew(self, member: StaffMember, record: PassRecord | None, basket: Basket,
              credential_kind: str = "chip") -> Done:  # fmt: skip
        """Renew a pass within the window; CounterRefused says why not."""
        require(member.role, Function.RENEWALS)
        if record is not None and (done := self._already_done(basket.nonce, record.serial)):
            return Done(done)
        now = self.clock.now()
        tariffs = self.tariffs(now.wall)
        plan = plan_renewal(record, tariffs, basket, self.today(now))
        return self._commit_plan(member, plan, now, credential_kind, basket.nonce)

    def tariffs(self, wall: float) -> Tariffs:
        """The current tariffs; TariffsUnavailable blocks the sale (never an entry).

        A version older than one this counter already sold with is refused
        (``rollback``): an old, still-valid document must not bring old prices back.
        """
        tariffs = self._tariffs(wall)
        s = self.journal.models.setting
        row = s.get_or_none(s.key == _TARIFFS_VERSION_KEY)
        seen = int(row.value) if row else 0
        if tariffs.version < seen:
            raise TariffsUnavailable("rollback", f"tariffs version {tariffs.version} is older "
                                     f"than version {seen} already used here: install the "
                                     "current tariffs")  # fmt: skip
        if tariffs.version > seen:
            s.replace(key=_TARIFFS_VERSION_KEY, value=str(tariffs.version)).execute()
        return tariffs

    def _check_passculture(self, code: str) -> None:
        """A booking pays once, and only once validated here (firmware/gate/culture.py).

        Validated means pass Culture said so (``passculture``) or staff queued it
        while the hub was away (``pending``: the hub validates it, or reports it).
        """
        r = self.journal.models.record
        validated = r.select().where(
            r.credential_kind == "passculture",
            r.credential == code,
            r.admitted,
            r.reason.in_(("passculture", "pending")),
        )
        undone = r.select().where(r.credential_kind == "passculture", r.credential == code,
                                  r.reason == "undone")  # fmt: skip
        last_valid = max((row.seq for row in validated), default=0)
        if not last_valid or any(row.seq > last_valid for row in undone):
            raise CounterRefused("passculture_not_validated", f"pass Culture booking {code} is "
                                 "not validated at this desk: validate it first")  # fmt: skip
        sales = r.select().where(r.kind.in_(kinds.MONEY_KINDS), r.seq > last_valid)
        cancelled = {row.refers_to for row in sales if row.kind == kinds.CANCELLATION}
        for row in sales:
            if row.seq not in cancelled and detail_of(row).get("passculture_code") == code:
                raise CounterRefused("passculture_already_paid", f"pass Culture booking {code} "
                                     f"already paid for record {row.seq}")  # fmt: skip

    def _check_history(self, plan: Plan) -> None:
        """Refuse what this counter already did to the pass, whatever the caller's record says.

        The record handed in may be stale (the list is older than this counter's
        own sale or renewal): a pass sold here and not cancelled is not sold again,
        and the year a renewal here already extended is not renewed twice.
        """
        r, before = self.journal.models.record, plan.before
        rows = list(r.select().where(r.pass_number == before.pass_number,
                                     r.credential == before.serial,
                                     r.kind.in_(kinds.MONEY_KINDS)))  # fmt: skip
        cancelled = {row.refers_to for row in rows if row.kind == kinds.CANCELLATION}
        for row in rows:
            if row.seq in cancelled or row.kind != plan.kind:
                continue
            if plan.kind == kinds.SALE:
                raise CounterRefused("not_in_stock", f"pass {before.pass_number} was sold at "
                                     f"this counter (record {row.seq})")  # fmt: skip
            renewed = detail_of(row).get("before", {}).get("expires_on")
            if renewed == _iso(before.expires_on):
                raise CounterRefused("already_renewed", f"pass {before.pass_number} was "
                                     f"renewed at this counter (record {row.seq})")  # fmt: skip

    def _already_done(self, nonce: str, serial: str) -> Record | None:
        """The sale or renewal of ``serial`` already committed with ``nonce``, if any."""
        if not nonce:
            return None
        r = self.journal.models.record
        query = r.select().where(r.credential == serial, r.kind.in_(kinds.SALE_KINDS))
        for record in query.order_by(r.seq.desc()).iterator():
            if detail_of(record).get("nonce") == nonce:
                return record
        return None

    def _commit_plan(self, member: StaffMember, plan: Plan, now: Now, cred: str,
                     nonce: str) -> Done:  # fmt: skip
        self._check_history(plan)
        priced, before = plan.priced, plan.before
        if priced.passculture_code is not None:
            self._check_passculture(priced.passculture_code)
        tse = sign_or_mark(self.tse, TseTransaction(
            tx_id=str(uuid.uuid4()),
            amounts_per_vat_rate=((priced.tariff.vat_rate, priced.due_cents),),
            amounts_per_payment_type=(
                ("CASH" if priced.payment == "cash" else "NON_CASH", priced.due_cents),),
        ))  # fmt: skip
        fields: dict[str, Any] = {
            "tariff": priced.tariff.code, "tariff_label": priced.tariff.label,
            "category": priced.category, "price_cents": priced.price_cents,
            "voucher_cents": priced.voucher_cents, "due_cents": priced.due_cents,
            "payment": str(priced.payment), "currency": priced.currency,
            "immediate_entry": plan.immediate_entry, "state": str(plan.state),
            "activated_on": _iso(plan.activated_on), "expires_on": _iso(plan.expires_on),
            "before": {"state": str(before.state), "activated_on": _iso(before.activated_on),
                       "expires_on": _iso(before.expires_on)},
            "tse": tse,
            "nonce": nonce or None,
        }  # fmt: skip
        if priced.passculture_code is not None:
            fields["passculture_code"] = priced.passculture_code
        change = PassChange(before.serial, before.pass_number, before.id_number,
                            before.pass_type.code, str(plan.state), _iso(plan.activated_on),
                            _iso(plan.expires_on))  # fmt: skip
        stamp = self._stamp(member, now)
        sale = self.journal.append(counter_entry(
            plan.kind, stamp, fields, credential_kind=cred, credential=before.serial,
            pass_number=before.pass_number, valid_until=_iso(plan.expires_on),
        ), change)  # fmt: skip
        log.info("counter: %s of pass %s committed as record %s", plan.kind,
                 before.pass_number, sale.seq)  # fmt: skip
        entry = self._immediate_entry(stamp, plan, cred, sale.seq) if plan.immediate_entry else None
        printed = self.printer.print_receipt(sale) if self.printer else None
        hints = ("ask_to_register",) if plan.kind == kinds.SALE else ()
        if printed is not None and not printed.printed and printed.code != "no_printer":
            hints += ("reprint",)
        return Done(sale, entry, printed, hints)

    def _immediate_entry(self, stamp: Stamp, plan: Plan, cred: str, sale_seq: int) -> Record:
        before = plan.before
        billed = self.journal.billed_on(before.pass_number, stamp.day)
        return self.journal.append(Entry(
            kind="decision", wall=stamp.wall, monotonic=stamp.monotonic,
            time_trusted=stamp.time_trusted, day=stamp.day, museum=stamp.museum,
            gate=stamp.gate, credential_kind=cred, credential=before.serial,
            admitted=True, reason="activated", billable=not billed,
            pass_number=before.pass_number, valid_until=_iso(plan.expires_on),
            operator=stamp.operator, refers_to=sale_seq, detail="immediate_entry",
        ))  # fmt: skip

    def cancel(self, member: StaffMember, seq: int, why: str) -> Done:
        """Cancel sale or renewal ``seq`` with a compensating record; the sale stays."""
        require(member.role, Function.SALES)
        original = self.journal.models.record.get_or_none(self.journal.models.record.seq == seq)
        if original is None or original.kind not in kinds.SALE_KINDS:
            raise CounterRefused("not_a_sale", f"record {seq} is not a sale or renewal here")
        r = self.journal.models.record
        if r.select().where(r.kind == kinds.CANCELLATION, r.refers_to == seq).exists():
            raise CounterRefused("already_cancelled", f"record {seq} was already cancelled")
        if not why.strip():
            raise CounterRefused("reason_required", "say why the sale is cancelled")
        detail = detail_of(original)
        before = detail["before"]
        keep = ("tariff", "tariff_label", "category", "price_cents", "voucher_cents",
                "due_cents", "payment", "currency")  # fmt: skip
        fields = {k: detail[k] for k in keep} | {
            "why": why.strip()[:200], "state": before["state"],
            "activated_on": before["activated_on"], "expires_on": before["expires_on"],
        }  # fmt: skip
        listed = self.journal.models.local_pass.get_or_none(
            self.journal.models.local_pass.serial == original.credential
        )
        change = None if listed is None else PassChange(
            listed.serial, listed.pass_number, listed.id_number, listed.pass_type,
            before["state"], before["activated_on"], before["expires_on"])  # fmt: skip
        now = self.clock.now()
        record = self.journal.append(counter_entry(
            kinds.CANCELLATION, self._stamp(member, now), fields,
            credential_kind=original.credential_kind, credential=original.credential,
            pass_number=original.pass_number, valid_until=before["expires_on"], refers_to=seq,
        ), change)  # fmt: skip
        printed = self.printer.print_receipt(record) if self.printer else None
        return Done(record, None, printed)

    def reprint(self, member: StaffMember, seq: int) -> Done:
        """Print the receipt of record ``seq`` again, marked as a duplicate (and journaled)."""
        require(member.role, Function.SALES)
        original = self.journal.models.record.get_or_none(self.journal.models.record.seq == seq)
        if original is None or original.kind not in kinds.MONEY_KINDS:
            raise CounterRefused("not_a_sale", f"record {seq} has no receipt")
        now = self.clock.now()
        record = self.journal.append(counter_entry(
            kinds.REPRINT, self._stamp(member, now), {}, refers_to=seq,
            pass_number=original.pass_number))  # fmt: skip
        printed = self.printer.print_receipt(original, duplicate=True) if self.printer else None
        return Done(record, None, printed)

    # -- the till --------------------------------------------------------------

    def open_till(self, member: StaffMember, float_cents: int) -> Done:
        require(member.role, Function.CASH_REGISTER)
        cents = _amount(float_cents, "the float")
        if till_state(self._till_records()).open:
            raise CounterRefused("till_open", "the till is already open: close it first")
        now = self.clock.now()
        record = self.journal.append(counter_entry(
            kinds.TILL_OPEN, self._stamp(member, now), {"float_cents": cents}))  # fmt: skip
        return Done(record)

    def close_till(self, member: StaffMember, counted_cents: int) -> Done:
        """Close the till with the counted cash; the record keeps the difference."""
        require(member.role, Function.CASH_REGISTER)
        cents = _amount(counted_cents, "the counted cash")
        state = till_state(self._till_records())
        if not state.open:
            raise CounterRefused("till_closed", "the till is not open")
        fields = close_figures(state, cents) | {"opened_seq": state.opened_seq,
                                               "totals": state.totals.as_dict()}  # fmt: skip
        now = self.clock.now()
        record = self.journal.append(
            counter_entry(
                kinds.TILL_CLOSE, self._stamp(member, now), fields, refers_to=state.opened_seq
            )
        )
        return Done(record)

    def close_period(self, member: StaffMember, period: str) -> Done:
        """Sign and journal the closure of the current day, month or year (the Z report)."""
        require(member.role, Function.CASH_REGISTER)
        if period == "day" and till_state(self._till_records()).open:
            raise CounterRefused("till_open", "close the till before closing the day")
        now = self.clock.now()
        label = datetime.fromtimestamp(now.wall, self.zone).strftime(_LABELS[period])
        previous = self.last_closure(period)
        if previous and previous["closure"]["label"] == label:
            raise CounterRefused("already_closed", f"{period} {label} is already closed")
        if (
            period == "day"
            and previous
            and (self.journal.first_seq > int(previous["closure"]["last_seq"]) + 1)
        ):
            # Totals from what is left would be wrong, and a signed wrong total is worse
            # than none: the hub holds the records, the office closes from there.
            raise CounterRefused("records_pruned", "records since the last closure were "
                                 "pruned from this counter: ask the office to close the day "
                                 "from the hub's copy")  # fmt: skip
        last = self.journal.models.record.get_or_none(
            self.journal.models.record.seq == self.journal.last_seq
        )
        body = build_closure(period, label, self._till_records(), previous,
                             self.journal.last_seq, last.hash if last else GENESIS_HASH,
                             now.wall, self.museum, self.gate)  # fmt: skip
        document = sign_closure(body, self.gate_key)
        record = self.journal.append(counter_entry(
            kinds.CLOSURE, self._stamp(member, now), document))  # fmt: skip
        # Kept beside the journal too: the next closure carries the grand total on
        # even after the hub has stored and the gate pruned this record.
        self.journal.models.setting.replace(
            key=_CLOSURE_KEY.format(period), value=json.dumps(document)
        ).execute()
        printed = print_lines(self.printer, z_report_lines(document)) if self.printer else None
        return Done(record, None, printed)

    def last_closure(self, period: str) -> dict[str, Any] | None:
        s = self.journal.models.setting
        row = s.get_or_none(s.key == _CLOSURE_KEY.format(period))
        return json.loads(row.value) if row else None

    # -- stock and figures -----------------------------------------------------

    def order_passes(self, member: StaffMember, quantity: int, pass_type: str) -> Done:
        """Order ``quantity`` passes from the central office (a journal record the hub reads)."""
        require(member.role, Function.PASS_ORDERS)
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not (1 <= quantity <= MAX_PASS_ORDER)
        ):
            raise CounterRefused("bad_quantity", f"order 1 to {MAX_PASS_ORDER} passes")
        now = self.clock.now()
        types = self.tariffs(now.wall).pass_types
        if pass_type not in types:
            raise CounterRefused("unknown_pass_type", f"pass type {pass_type!r} is not one of "
                                 f"{', '.join(sorted(types))}")  # fmt: skip
        record = self.journal.append(
            counter_entry(
                kinds.PASS_ORDER,
                self._stamp(member, now),
                {"quantity": quantity, "pass_type": pass_type, "order": str(uuid.uuid4())},
            )
        )
        return Done(record)

    def actions_for(self, member: StaffMember, record: PassRecord | None,
                    stock_of: str | None) -> tuple[str, ...]:  # fmt: skip
        """What the screen offers for a scanned pass, limited to what ``member`` may do."""
        allowed = {"sell": Function.SALES, "renew": Function.RENEWALS, "entry": Function.ENTRIES}
        found = actions(record, stock_of, self.museum, self.today(self.clock.now()))
        return tuple(a for a in found if a not in allowed or may(member.role, allowed[a]))

    def till(self, member: StaffMember) -> TillState:
        """Where the till stands: open or not, float, cash expected, sales by payment method."""
        require(member.role, Function.CASH_REGISTER)
        return till_state(self._till_records())

    def statistics(self, member: StaffMember, period: str) -> list[Bucket]:
        require(member.role, Function.STATISTICS)
        return statistics(self.journal.records(), period)

    # -- internals -------------------------------------------------------------

    def _till_records(self) -> list[Record]:
        """The records the till and the closures fold over (entries are not money)."""
        r = self.journal.models.record
        wanted = (*kinds.MONEY_KINDS, kinds.TILL_OPEN, kinds.TILL_CLOSE, kinds.CLOSURE)
        return list(r.select().where(r.kind.in_(wanted)).order_by(r.seq))

    def today(self, now: Now):  # noqa: ANN201 - a date
        return datetime.fromtimestamp(now.wall, self.zone).date()

    def _stamp(self, member: StaffMember, now: Now) -> Stamp:
        return Stamp(now.wall, now.monotonic, now.trusted, self.today(now).isoformat(),
                     self.museum, self.gate, member.name)  # fmt: skip


def _amount(cents: int, what: str) -> int:
    try:
        return check_cents(cents, what)
    except AmountError as exc:
        raise CounterRefused(exc.code, str(exc)) from None


def _iso(day: Any) -> str | None:
    return None if day is None else day.isoformat()


__all__ = ["Counter", "CounterRefused", "Done", "TariffsUnavailable"]
