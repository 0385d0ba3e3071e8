"""Sale and renewal rules: pure functions of the pass, the tariffs, the basket and the day.

Nothing here reads a clock, a file or a device. Each refusal carries a
stable code (the screen turns it into words, the journal never sees a
refused sale) and a message for the cashier.

Dates follow ``firmware/gate/passes.py``: a year of validity runs through the
day before the first anniversary. No path loses a day already paid for:

- a sale with immediate entry activates today; without, the pass stays sold
  and the first entry activates it;
- a renewal (only within the window, seed) without immediate entry keeps the
  current year; the new year starts at the first entry after it (the gate's
  decision already does this for a sold pass whose dates still run);
- a renewal with immediate entry starts the new year today; the days left
  of the current year are added to its end, so the holder loses none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from firmware.counter.money import AmountError, check_cents
from firmware.counter.tariffs import Tariff, Tariffs
from firmware.gate.passes import PassRecord, PassState, add_months, last_valid_day

RENEWAL_WINDOW_MONTHS = 3


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD = "card"
    CHEQUE = "cheque"


class CounterRefused(Exception):
    """A sale, renewal or till operation that must not happen; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Basket:
    """What the cashier chose on the screen."""

    tariff: str
    payment: str
    category: str | None = None  # the reduced-tariff category the buyer belongs to
    category_confirmed: bool = False  # the cashier confirmed the buyer's proof
    voucher_cents: int = 0  # a FNAC voucher taken off the price
    immediate_entry: bool = False
    # Made when the screen shows the confirmation: a second tap on "validate" (or a
    # retried call) carries the same nonce and records nothing twice.
    nonce: str = ""


@dataclass(frozen=True)
class Priced:
    tariff: Tariff
    category: str | None
    price_cents: int
    voucher_cents: int
    due_cents: int  # what the buyer pays with ``payment``
    payment: PaymentMethod
    currency: str


@dataclass(frozen=True)
class Plan:
    """A sale or renewal that may happen: the pass after it, and what it costs."""

    kind: str  # "sale" or "renewal"
    before: PassRecord
    priced: Priced
    immediate_entry: bool
    state: PassState
    activated_on: date | None
    expires_on: date | None


def price(tariffs: Tariffs, pass_type: str, basket: Basket) -> Priced:
    """The price of ``basket`` for a pass of ``pass_type``; CounterRefused if it cannot be sold."""
    tariff = tariffs.tariffs.get(basket.tariff)
    if tariff is None:
        raise CounterRefused("unknown_tariff", f"tariff {basket.tariff!r} is not in the "
                             f"office's tariffs version {tariffs.version}")  # fmt: skip
    if tariff.pass_type != pass_type:
        raise CounterRefused("wrong_pass_type", f"tariff {tariff.code} sells {tariff.pass_type} "
                             f"passes; this pass is a {pass_type} pass")  # fmt: skip
    _check_category(tariff, basket)
    try:
        payment = PaymentMethod(basket.payment)
    except ValueError:
        methods = ", ".join(PaymentMethod)
        raise CounterRefused("unknown_payment", f"payment method {basket.payment!r} is not "
                             f"one of {methods}") from None  # fmt: skip
    try:
        voucher = check_cents(basket.voucher_cents, "the voucher")
    except AmountError as exc:
        raise CounterRefused(exc.code, str(exc)) from None
    if voucher > tariff.price_cents:
        raise CounterRefused("voucher_exceeds_price", "the voucher is larger than the price: "
                             "enter at most the price")  # fmt: skip
    due = tariff.price_cents - voucher
    return Priced(tariff, basket.category, tariff.price_cents, voucher, due, payment,
                  tariffs.currency)  # fmt: skip


def _check_category(tariff: Tariff, basket: Basket) -> None:
    if not tariff.reduced:
        if basket.category is not None:
            raise CounterRefused("category_not_reduced", f"tariff {tariff.code} is not reduced: "
                                 "no category applies")  # fmt: skip
        return
    if basket.category not in tariff.categories:
        raise CounterRefused("category_required", f"the reduced tariff {tariff.code} is only for "
                             f"{', '.join(tariff.categories)}")  # fmt: skip
    if not basket.category_confirmed:
        raise CounterRefused("category_not_confirmed", "confirm that the buyer showed proof of "
                             f"being a {basket.category}")  # fmt: skip


def plan_sale(
    record: PassRecord | None,
    stock_of: str | None,
    museum: str,
    tariffs: Tariffs,
    basket: Basket,
    today: date,
) -> Plan:
    """A sale of ``record`` from this museum's stock; CounterRefused if it may not happen.

    ``stock_of`` is the museum whose stock the list says the pass is in.
    """
    if record is None:
        raise CounterRefused("unknown_pass", "this pass is not in the counter's list")
    if record.state is not PassState.STOCK:
        raise CounterRefused("not_in_stock", f"pass {record.pass_number} is {record.state}, "
                             "not in stock: it cannot be sold again")  # fmt: skip
    if stock_of != museum:
        raise CounterRefused("other_museums_stock", f"pass {record.pass_number} belongs to the "
                             f"stock of {stock_of or 'no museum'}, not of {museum}")  # fmt: skip
    priced = price(tariffs, record.pass_type.code, basket)
    if basket.immediate_entry:
        return Plan("sale", record, priced, True, PassState.ACTIVE, today, last_valid_day(today))
    return Plan("sale", record, priced, False, PassState.SOLD, None, None)


def renewal_refusal(
    record: PassRecord | None, today: date, window_months: int = RENEWAL_WINDOW_MONTHS
) -> CounterRefused | None:
    """Why ``record`` may not be renewed ``today``, or None when it may (seed: < 3 months left)."""
    if record is None:
        return CounterRefused("unknown_pass", "this pass is not in the counter's list")
    if record.state is PassState.BLOCKED:
        return CounterRefused("blocked", f"pass {record.pass_number} is blocked by the central "
                              "office: the holder must contact it")  # fmt: skip
    if record.state is PassState.STOCK:
        return CounterRefused("not_sold", f"pass {record.pass_number} is in stock: sell it")
    if record.expires_on is None:
        return CounterRefused("not_activated", f"pass {record.pass_number} has not been used "
                              "yet: its year starts at its first entry")  # fmt: skip
    limit = add_months(today, window_months)
    if record.expires_on >= limit:
        return CounterRefused("renewal_too_early", f"pass {record.pass_number} is valid until "
                              f"{record.expires_on.isoformat()}: it can be renewed from "
                              f"{_window_opens(record.expires_on, window_months)}")  # fmt: skip
    if record.state is PassState.SOLD:
        return CounterRefused("already_renewed", f"pass {record.pass_number} was already "
                              "renewed: its new year starts at its next entry")  # fmt: skip
    return None


def _window_opens(expires_on: date, months: int) -> str:
    """The first day on which ``expires_on`` is less than ``months`` away."""
    day = add_months(expires_on, -months)
    while expires_on >= add_months(day, months):
        day += timedelta(days=1)
    return day.isoformat()


def plan_renewal(
    record: PassRecord | None,
    tariffs: Tariffs,
    basket: Basket,
    today: date,
    window_months: int = RENEWAL_WINDOW_MONTHS,
) -> Plan:
    """A renewal of ``record`` within the window; CounterRefused otherwise."""
    refusal = renewal_refusal(record, today, window_months)
    if refusal is not None:
        raise refusal
    assert record is not None and record.expires_on is not None
    priced = price(tariffs, record.pass_type.code, basket)
    state, activated_on, expires_on = renewed(record, today, basket.immediate_entry)
    return Plan("renewal", record, priced, basket.immediate_entry, state, activated_on,
                expires_on)  # fmt: skip


def renewed(record: PassRecord, today: date,
            immediate_entry: bool) -> tuple[PassState, date | None, date | None]:  # fmt: skip
    """The state and dates of ``record`` renewed ``today`` (the counter's and the office's).

    Call after ``renewal_refusal`` said yes (the pass has an expiry date).
    """
    assert record.expires_on is not None
    running = today <= record.expires_on
    if immediate_entry:
        # Days still paid for (after today, which both years cover) go onto the new year.
        left = (record.expires_on - today).days if running else 0
        return PassState.ACTIVE, today, last_valid_day(today) + timedelta(days=left)
    if running:
        # Sold again with the current year's dates: the gate admits under them and
        # activates the new year at the first entry after them.
        return PassState.SOLD, record.activated_on, record.expires_on
    return PassState.SOLD, None, None


def actions(
    record: PassRecord | None,
    stock_of: str | None,
    museum: str,
    today: date,
    window_months: int = RENEWAL_WINDOW_MONTHS,
) -> tuple[str, ...]:
    """The actions the counter offers for a scanned pass (seed: "the possible actions").

    ``information`` is always there; "no action possible" shows only it.
    """
    if record is None:
        return ()
    found = []
    if record.state is PassState.STOCK and stock_of == museum:
        found.append("sell")
    if renewal_refusal(record, today, window_months) is None:
        found.append("renew")
    if record.state in (PassState.SOLD, PassState.ACTIVE) and (
        record.expires_on is None or today <= record.expires_on or record.state is PassState.SOLD
    ):
        found.append("entry")
    found.append("information")
    return tuple(found)
