"""What the counter tells the screen: small read-only snapshots (as ``views.py``).

``firmware/gate/counter_desk.py`` builds these on the reactor's thread from the
counter's results; the screen only reads them. Amounts are whole cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class TariffChoice:
    code: str
    label: str
    price_cents: int
    reduced: bool
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class CounterPass:
    """A scanned or typed pass at the counter and what may be done with it."""

    credential_kind: str  # "chip" or "number"
    credential: str
    found: bool
    pass_number: str | None = None
    pass_type: str | None = None
    state: str | None = None  # a PassState value
    activated_on: date | None = None
    valid_until: date | None = None
    stock_of: str | None = None
    # rules.actions, limited to what the member's role may do: sell, renew, entry, information
    actions: tuple[str, ...] = ()
    tariffs: tuple[TariffChoice, ...] = ()  # the tariffs for this pass's type
    currency: str = ""
    sales_blocked: str = ""  # a TariffsUnavailable code: no sale nor renewal until fixed
    renewal_refused: str = ""  # why "renew" is not offered (a CounterRefused code)
    renewal_from: date | None = None  # for renewal_too_early: the window's first day


@dataclass(frozen=True)
class CounterDone:
    """A sale or renewal committed (and its receipt printed or not)."""

    kind: str  # "sale" or "renewal"
    seq: int
    pass_number: str | None
    due_cents: int
    currency: str
    state: str
    valid_until: date | None
    immediate_entry: bool
    hints: tuple[str, ...] = ()  # "ask_to_register", "reprint"
    printed: str = ""  # a PrintResult code; "" when no receipt was asked for


@dataclass(frozen=True)
class CounterRefusal:
    """An operation that did not happen; ``code`` is stable, ``message`` names what and why."""

    code: str
    message: str


@dataclass(frozen=True)
class ReceiptPrinted:
    """A reprint: whether the duplicate came out (a PrintResult code)."""

    seq: int
    printed: str


@dataclass(frozen=True)
class TillView:
    open: bool
    float_cents: int = 0
    expected_cents: int = 0  # the float plus cash taken since the till opened
    by_payment: tuple[tuple[str, int], ...] = ()
    currency: str = ""
    # After a close: what was counted and the difference (counted − expected).
    counted_cents: int | None = None
    difference_cents: int | None = None


@dataclass(frozen=True)
class ZReport:
    period: str
    label: str
    lines: tuple[str, ...]
    printed: str = ""


@dataclass(frozen=True)
class StatisticsView:
    period: str  # "day", "week" or "month"
    keys: tuple[str, ...]
    entries: tuple[int, ...]
    sales: tuple[int, ...]  # sales and renewals
    revenue_cents: tuple[int, ...]
    currency: str = ""


@dataclass(frozen=True)
class OrderForm:
    pass_types: tuple[str, ...]


@dataclass(frozen=True)
class OrderPlaced:
    seq: int
    quantity: int
    pass_type: str
