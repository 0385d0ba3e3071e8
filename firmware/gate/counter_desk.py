"""The counter on the reactor: the screen's sale, renewal, till and order requests.

A module like the others (``app.py`` builds it): it registers the counter's
events, checks that a staff member is logged in, runs ``firmware/counter``'s
``Counter`` on the reactor's thread and answers with a view
(``counter_views.py``). On a counter desk (``[gate] mode = "desk"``) a tap
looks the pass up for the cashier instead of admitting it; an entry is
recorded only when the cashier asks, through the admissions path.

The ``Counter`` (its printer and TSE) is built at the first request, so a gate
that never sells opens no printer and reads no tariffs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from firmware.config import Settings
from firmware.counter.devices import DeviceError, make_printer, make_tse
from firmware.counter.receipt import z_report_lines
from firmware.counter.records import detail_of
from firmware.counter.roles import NotPermitted
from firmware.counter.rules import RENEWAL_WINDOW_MONTHS, Basket, CounterRefused, renewal_refusal
from firmware.counter.rules import _window_opens as window_opens
from firmware.counter.service import Counter, Done
from firmware.counter.stats import PERIODS
from firmware.counter.tariffs import Tariffs, TariffsUnavailable, load_tariffs
from firmware.events import (
    CardTapped,
    CounterEntry,
    CounterLookup,
    CounterSale,
    OrderFormRequest,
    PassOrder,
    PeriodClose,
    ReceiptReprint,
    StatisticsRequest,
    TillClose,
    TillOpen,
    TillRequest,
)
from firmware.gate.admissions import Admissions
from firmware.gate.counter_views import (
    CounterDone,
    CounterPass,
    CounterRefusal,
    OrderForm,
    OrderPlaced,
    ReceiptPrinted,
    StatisticsView,
    TariffChoice,
    TillView,
    ZReport,
)
from firmware.gate.decision import VALID_SERIAL_BYTES, Credential, CredentialKind
from firmware.gate.passes import PassRecord
from firmware.gate.reactor import Reactor
from firmware.gate.staff import ENTRIES, StaffMember
from firmware.gate.timekeeping import Timekeeper
from firmware.gate.views import Views
from firmware.journal.database import StorageError
from firmware.journal.journal import Journal
from firmware.store.store import PassStore
from firmware.sync.keys import gate_key

log = logging.getLogger("portique.counter")

STATISTICS_SHOWN = 12  # buckets on the chart: a year of months, twelve weeks or days


class CounterDesk:
    """The counter's requests from the screen; built by ``app.py``, run on the reactor."""

    def __init__(self, reactor: Reactor, *, settings: Settings, time: Timekeeper,
                 store: PassStore, journal: Journal, admissions: Admissions, views: Views,
                 member: Callable[[], StaffMember | None], desk_mode: bool,
                 stored: list[Callable[[int], None]] | None = None) -> None:  # fmt: skip
        self._settings, self._time, self._store = settings, time, store
        self._journal, self._admissions, self._views = journal, admissions, views
        # Told the last seq after the counter journaled (the Recorder's listeners: sync pumps).
        self._stored = stored if stored is not None else []
        self._member = member
        self._counter: Counter | None = None
        # Whose stock a pass is in: the list and the hub's deltas say so (PassRecord.stock_of).
        self.stock_owner: Callable[[PassRecord], str | None] = lambda record: record.stock_of
        handlers: list[tuple[type, Callable]] = [
            (CounterLookup, self._on_lookup),
            (CounterSale, self._on_sale),
            (CounterEntry, self._on_entry),
            (ReceiptReprint, self._on_reprint),
            (TillRequest, self._on_till),
            (TillOpen, self._on_till_open),
            (TillClose, self._on_till_close),
            (PeriodClose, self._on_period_close),
            (StatisticsRequest, self._on_statistics),
            (OrderFormRequest, self._on_order_form),
            (PassOrder, self._on_order),
        ]
        if desk_mode:
            handlers.append((CardTapped, self._on_tap))
        for event_type, handler in handlers:
            reactor.register(
                event_type, lambda event, _t, handle=handler: self._safely(handle, event)
            )

    # -- plumbing ------------------------------------------------------------

    def counter(self) -> Counter:
        """The counter, built at the first use (DeviceError: a printer or TSE setting)."""
        if self._counter is None:
            s, zone = self._settings, self._settings.zone
            trust = self._store.lists.trust
            path = s.counter.tariffs
            key, _key_id = gate_key(s.gate.data_dir)
            self._counter = Counter(
                self._journal, self._time.clock, zone, s.gate.museum, s.gate.gate,
                lambda now: load_tariffs(path, trust, now), key,
                make_printer(s.counter, zone) if s.counter.printer != "none" else None,
                make_tse(s.counter, self._time.clock.source, s.gate.gate),
            )  # fmt: skip
        return self._counter

    def _safely(self, handle: Callable[[StaffMember, object], None], event: object) -> None:
        """Run ``handle`` for the member logged in; every refusal becomes a clear view."""
        member = self._member()
        if member is None:
            log.warning("counter request %s refused: nobody logged in", type(event).__name__)
            self._refuse("login_first", "log in at the counter first")
            return
        before = self._journal.last_seq
        try:
            handle(member, event)
        except StorageError as exc:
            # Nothing was committed, so nothing was sold: the cashier must know at once.
            log.error("counter: %s refused: %s", type(event).__name__, exc)
            self._refuse("not_stored", str(exc))
        except (CounterRefused, TariffsUnavailable) as exc:
            log.info("counter: %s refused for %s: %s", type(event).__name__, member.name, exc)
            self._refuse(exc.code, str(exc))
        except NotPermitted as exc:
            log.warning("counter: %s", exc)
            self._refuse(exc.code, str(exc))
        except DeviceError as exc:
            log.error("counter: %s", exc)
            self._refuse("device", str(exc))
        if (last := self._journal.last_seq) != before:
            for listener in self._stored:
                listener(last)

    def _refuse(self, code: str, message: str) -> None:
        self._views.publish(CounterRefusal(code, message))

    def _lookup(self, kind: str, value: str) -> PassRecord | None:
        value = value.strip()
        if kind == CredentialKind.CHIP:
            return self._store.lookup(value.upper())
        if kind == CredentialKind.NUMBER:
            return self._store.lookup_number(value)
        return None

    def _tariffs(self) -> Tariffs:
        return self.counter().tariffs(self._time.now().wall)

    # -- the pass --------------------------------------------------------------

    def _on_tap(self, member: StaffMember, event: CardTapped) -> None:
        serial = event.serial.hex().upper()
        if len(event.serial) not in VALID_SERIAL_BYTES:
            self._refuse("invalid_serial", f"card {serial} is not a pass (its UID has "
                         f"{len(event.serial)} bytes)")  # fmt: skip
            return
        self._show(member, CredentialKind.CHIP, serial)

    def _on_lookup(self, member: StaffMember, event: CounterLookup) -> None:
        self._show(member, event.credential_kind, event.credential.strip())

    def _show(self, member: StaffMember, kind: str, value: str) -> None:
        record = self._lookup(kind, value)
        if record is None:
            self._views.publish(CounterPass(str(kind), value, found=False))
            return
        counter = self.counter()
        stock_of = self.stock_owner(record)
        actions = counter.actions_for(member, record, stock_of)
        blocked, choices, currency = "", (), ""
        if "sell" in actions or "renew" in actions:
            try:
                tariffs = self._tariffs()
                currency = tariffs.currency
                choices = tuple(TariffChoice(t.code, t.label, t.price_cents, t.reduced,
                                             t.categories)
                                for t in tariffs.for_pass_type(record.pass_type.code))  # fmt: skip
            except TariffsUnavailable as exc:
                log.warning("counter: sales blocked: %s", exc)
                blocked = exc.code
        refusal = renewal_refusal(record, counter.today(self._time.now()))
        opens = None
        if refusal is not None and refusal.code == "renewal_too_early":
            assert record.expires_on is not None
            opens = date.fromisoformat(window_opens(record.expires_on, RENEWAL_WINDOW_MONTHS))
        self._views.publish(CounterPass(
            str(kind), value, True, record.pass_number, record.pass_type.code,
            record.state.value, record.activated_on, record.expires_on, stock_of, actions,
            choices, currency, blocked, refusal.code if refusal else "", opens,
        ))  # fmt: skip

    def _on_entry(self, member: StaffMember, event: CounterEntry) -> None:
        if ENTRIES not in member.functions:
            raise NotPermitted(f"the role {member.role} may not record entries")
        record = self._lookup(event.credential_kind, event.credential)
        credential = Credential(event.credential_kind, event.credential.strip())
        self._admissions.present(credential, record, member.name, children=event.children)

    # -- sales -------------------------------------------------------------------

    def _on_sale(self, member: StaffMember, event: CounterSale) -> None:
        record = self._lookup(event.credential_kind, event.credential)
        basket = Basket(event.tariff, event.payment, event.category, event.category_confirmed,
                        event.voucher_cents, event.immediate_entry,
                        nonce=event.nonce)  # fmt: skip
        counter = self.counter()
        kind = str(event.credential_kind)
        if event.renewal:
            done = counter.renew(member, record, basket, kind)
        else:
            stock_of = self.stock_owner(record) if record is not None else None
            done = counter.sell(member, record, stock_of, basket, kind)
        self._views.publish(_done_view(done))

    def _on_reprint(self, member: StaffMember, event: ReceiptReprint) -> None:
        done = self.counter().reprint(member, event.seq)
        self._views.publish(ReceiptPrinted(event.seq, _printed(done)))

    # -- the till ----------------------------------------------------------------

    def _currency(self) -> str:
        try:
            return self._tariffs().currency
        except TariffsUnavailable:
            return ""

    def _till_view(self, member: StaffMember) -> TillView:
        state = self.counter().till(member)
        payments = tuple(sorted(state.totals.by_payment.items())) if state.totals else ()
        return TillView(state.open, state.float_cents, state.expected_cents, payments,
                        self._currency())  # fmt: skip

    def _on_till(self, member: StaffMember, _event: TillRequest) -> None:
        self._views.publish(self._till_view(member))

    def _on_till_open(self, member: StaffMember, event: TillOpen) -> None:
        self.counter().open_till(member, event.float_cents)
        self._views.publish(self._till_view(member))

    def _on_till_close(self, member: StaffMember, event: TillClose) -> None:
        done = self.counter().close_till(member, event.counted_cents)
        detail = detail_of(done.record)
        self._views.publish(TillView(
            False, detail["float_cents"], detail["expected_cents"],
            tuple(sorted(detail["totals"]["by_payment"].items())), self._currency(),
            detail["counted_cents"], detail["difference_cents"],
        ))  # fmt: skip

    def _on_period_close(self, member: StaffMember, event: PeriodClose) -> None:
        if event.period not in ("day", "month", "year"):
            raise CounterRefused("unknown_period", f"period {event.period!r} is not day, "
                                 "month or year")  # fmt: skip
        done = self.counter().close_period(member, event.period)
        document = detail_of(done.record)
        body = document["closure"]
        lines = tuple(z_report_lines(document, self._currency()))
        self._views.publish(ZReport(body["period"], body["label"], lines, _printed(done)))

    # -- figures and orders --------------------------------------------------------

    def _on_statistics(self, member: StaffMember, event: StatisticsRequest) -> None:
        if event.period not in PERIODS:
            raise CounterRefused("unknown_period", f"period {event.period!r} is not one of "
                                 f"{', '.join(PERIODS)}")  # fmt: skip
        buckets = self.counter().statistics(member, event.period)[-STATISTICS_SHOWN:]
        self._views.publish(StatisticsView(
            event.period, tuple(b.key for b in buckets), tuple(b.entries for b in buckets),
            tuple(b.sales + b.renewals for b in buckets),
            tuple(b.revenue_cents for b in buckets), self._currency(),
        ))  # fmt: skip

    def _on_order_form(self, _member: StaffMember, _event: OrderFormRequest) -> None:
        self._views.publish(OrderForm(tuple(sorted(self._tariffs().pass_types))))

    def _on_order(self, member: StaffMember, event: PassOrder) -> None:
        done = self.counter().order_passes(member, event.quantity, event.pass_type)
        self._views.publish(OrderPlaced(done.record.seq, event.quantity, event.pass_type))


def _printed(done: Done) -> str:
    return "" if done.printed is None else done.printed.code


def _done_view(done: Done) -> CounterDone:
    detail = detail_of(done.record)
    expires = detail.get("expires_on")
    return CounterDone(
        done.record.kind, done.record.seq, done.record.pass_number, int(detail["due_cents"]),
        str(detail.get("currency", "")), str(detail["state"]),
        date.fromisoformat(expires) if expires else None, bool(detail["immediate_entry"]),
        done.hints, _printed(done),
    )  # fmt: skip
