"""Whether a Pass+ ticket may pay at a museum, and how much it pays.

Pass+ has no public API: staff type (or scan) the ticket's number and amount.
The rules (DOMAIN.md, seed 004): a ticket comes from the culture or the sport
wallet, never both, and only culture pays at a museum; it is generated during a
campaign and redeemable until a date that is data from the hub (today: tickets
generated until 30 June, redeemable until 30 June of the next year); it is used
once in the whole network. Each refusal has a stable code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

WALLETS = ("culture", "sport")


@dataclass(frozen=True)
class Campaign:
    """One Pass+ campaign's dates (from the hub's data, not hard-coded)."""

    name: str
    generated_until: date  # last day tickets can be generated
    redeemable_until: date  # last day a partner may take them

    @classmethod
    def yearly(cls, year: int) -> Campaign:
        """The usual shape: generated until 30 June of ``year``, redeemable a year later."""
        return cls(f"{year - 1}-{year}", date(year, 6, 30), date(year + 1, 6, 30))


@dataclass(frozen=True)
class Ticket:
    number: str
    wallet: str  # "culture" or "sport"
    amount_cents: int
    generated_on: date


@dataclass(frozen=True)
class Redemption:
    """A ticket accepted: what it pays and what is left to pay."""

    number: str
    pays_cents: int
    remaining_cents: int  # of the price, to pay another way


@dataclass(frozen=True)
class Refusal:
    code: str  # sport_wallet, unknown_wallet, bad_amount, not_in_campaign, expired, already_used
    message: str


class SeenTickets(Protocol):
    """The tickets already used, network-wide (the hub's record; a gate's local copy)."""

    def seen(self, number: str) -> bool: ...


def campaign_of(ticket: Ticket, campaigns: list[Campaign]) -> Campaign | None:
    """The campaign a ticket was generated in: the earliest still generating on that day."""
    fitting = [c for c in campaigns if ticket.generated_on <= c.generated_until]
    return min(fitting, key=lambda c: c.generated_until, default=None)


def check(ticket: Ticket, price_cents: int, today: date, campaigns: list[Campaign],
          seen: SeenTickets) -> Redemption | Refusal:  # fmt: skip
    """Whether ``ticket`` may pay for something costing ``price_cents`` on ``today``."""
    if ticket.wallet == "sport":
        return Refusal("sport_wallet", "a Pass+ sport ticket cannot pay at a museum: "
                       "only the culture wallet can")  # fmt: skip
    if ticket.wallet not in WALLETS:
        return Refusal("unknown_wallet", f"Pass+ has no {ticket.wallet!r} wallet")
    if ticket.amount_cents <= 0:
        return Refusal("bad_amount", f"a ticket of {ticket.amount_cents} cents pays nothing")
    campaign = campaign_of(ticket, campaigns)
    if campaign is None:
        return Refusal("not_in_campaign", f"no Pass+ campaign generated tickets on "
                       f"{ticket.generated_on.isoformat()}")  # fmt: skip
    if today > campaign.redeemable_until:
        return Refusal("expired", f"campaign {campaign.name} tickets were redeemable until "
                       f"{campaign.redeemable_until.isoformat()}")  # fmt: skip
    if today < ticket.generated_on:
        return Refusal("not_in_campaign", "the ticket is dated after today: check the date")
    if seen.seen(ticket.number):
        return Refusal("already_used", f"Pass+ ticket {ticket.number} was already used")
    return apply(ticket, price_cents)


def apply(ticket: Ticket, price_cents: int) -> Redemption:
    """The ticket pays up to the price; any excess is lost, never given back as change."""
    pays = min(ticket.amount_cents, max(price_cents, 0))
    return Redemption(ticket.number, pays, max(price_cents, 0) - pays)


class SeenSet:
    """The simplest ``SeenTickets``: a set (a gate's local memory; the hub keeps a table)."""

    def __init__(self, numbers: set[str] | None = None) -> None:
        self._numbers = set(numbers or ())

    def seen(self, number: str) -> bool:
        return number in self._numbers

    def add(self, number: str) -> None:
        self._numbers.add(number)
