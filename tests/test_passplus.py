"""Pass+ tickets at a museum: culture wallet, campaign dates, amount, once network-wide."""

from __future__ import annotations

from datetime import date

from firmware.passplus.rules import (
    Campaign,
    Redemption,
    Refusal,
    SeenSet,
    Ticket,
    apply,
    campaign_of,
    check,
)

CAMPAIGNS = [Campaign.yearly(2026), Campaign.yearly(2027)]


def ticket(wallet: str = "culture", amount: int = 1000, generated: date = date(2026, 3, 1),
           number: str = "PP-0001") -> Ticket:  # fmt: skip
    return Ticket(number, wallet, amount, generated)


def test_culture_ticket_pays_part_of_an_entry() -> None:
    result = check(ticket(amount=500), 1200, date(2026, 9, 1), CAMPAIGNS, SeenSet())
    assert result == Redemption("PP-0001", pays_cents=500, remaining_cents=700)


def test_ticket_larger_than_the_price_pays_the_price_and_no_change() -> None:
    assert apply(ticket(amount=2000), 1200) == Redemption("PP-0001", 1200, 0)


def test_sport_ticket_is_refused_with_the_reason() -> None:
    result = check(ticket(wallet="sport"), 1200, date(2026, 9, 1), CAMPAIGNS, SeenSet())
    assert isinstance(result, Refusal) and result.code == "sport_wallet"
    assert "culture" in result.message


def test_unknown_wallet_is_refused() -> None:
    result = check(ticket(wallet="music"), 1200, date(2026, 9, 1), CAMPAIGNS, SeenSet())
    assert isinstance(result, Refusal) and result.code == "unknown_wallet"


def test_redeemable_until_thirty_june_of_the_next_year() -> None:
    t = ticket(generated=date(2026, 6, 30))
    assert isinstance(check(t, 1200, date(2027, 6, 30), CAMPAIGNS[:1], SeenSet()), Redemption)
    late = check(t, 1200, date(2027, 7, 1), CAMPAIGNS[:1], SeenSet())
    assert isinstance(late, Refusal) and late.code == "expired"


def test_ticket_generated_after_thirty_june_belongs_to_the_next_campaign() -> None:
    assert campaign_of(ticket(generated=date(2026, 7, 1)), CAMPAIGNS) == CAMPAIGNS[1]
    t = ticket(generated=date(2026, 7, 1))
    assert isinstance(check(t, 1200, date(2027, 12, 1), CAMPAIGNS, SeenSet()), Redemption)


def test_ticket_from_no_known_campaign_is_refused() -> None:
    result = check(ticket(generated=date(2027, 7, 1)), 1200, date(2027, 8, 1), CAMPAIGNS[:1],
                   SeenSet())  # fmt: skip
    assert isinstance(result, Refusal) and result.code == "not_in_campaign"


def test_ticket_dated_in_the_future_is_refused() -> None:
    result = check(ticket(generated=date(2026, 5, 1)), 1200, date(2026, 4, 1), CAMPAIGNS,
                   SeenSet())  # fmt: skip
    assert isinstance(result, Refusal) and result.code == "not_in_campaign"


def test_zero_or_negative_amount_is_refused() -> None:
    for amount in (0, -500):
        result = check(ticket(amount=amount), 1200, date(2026, 9, 1), CAMPAIGNS, SeenSet())
        assert isinstance(result, Refusal) and result.code == "bad_amount"


def test_ticket_is_used_once_network_wide() -> None:
    seen = SeenSet()
    first = check(ticket(), 1200, date(2026, 9, 1), CAMPAIGNS, seen)
    assert isinstance(first, Redemption)
    seen.add(first.number)  # what the hub learns, and every gate with it
    again = check(ticket(), 1200, date(2026, 9, 2), CAMPAIGNS, seen)
    assert isinstance(again, Refusal) and again.code == "already_used"
