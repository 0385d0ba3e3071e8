"""Sale and renewal rules, the renewal window at its edges, and the role table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from counterworld import DUO, make_pass, tariff_body

from firmware.counter.roles import PERMISSIONS, Function, NotPermitted, may, require
from firmware.counter.rules import (
    Basket,
    CounterRefused,
    actions,
    plan_renewal,
    plan_sale,
    price,
    renewal_refusal,
)
from firmware.counter.tariffs import parse_body
from firmware.gate.decision import Credential, History, Moment, Reason, Rules, decide
from firmware.gate.passes import PassState, add_months, last_valid_day
from firmware.gate.staff import Role

TODAY = date(2026, 12, 3)
TARIFFS = parse_body(tariff_body(), "k")
NORMAL = Basket("normal", "cash")


def refused(code: str, call, *args, **kwargs) -> CounterRefused:  # noqa: ANN001
    with pytest.raises(CounterRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def active_until(expires_on: date):  # noqa: ANN201
    return make_pass(PassState.ACTIVE, expires_on - timedelta(days=300), expires_on)


# -- sale -----------------------------------------------------------------------


def test_sale_of_a_stock_pass_without_immediate_entry_stays_sold_inactive() -> None:
    plan = plan_sale(make_pass(), "M1", "M1", TARIFFS, NORMAL, TODAY)
    assert (plan.state, plan.activated_on, plan.expires_on) == (PassState.SOLD, None, None)
    assert plan.priced.due_cents == 11900


def test_sale_with_immediate_entry_is_valid_one_year_from_today() -> None:
    basket = Basket("normal", "card", immediate_entry=True)
    plan = plan_sale(make_pass(), "M1", "M1", TARIFFS, basket, TODAY)
    assert plan.state is PassState.ACTIVE
    assert (plan.activated_on, plan.expires_on) == (TODAY, date(2027, 12, 2))


def test_pass_from_another_museums_stock_is_not_sold() -> None:
    error = refused("other_museums_stock", plan_sale, make_pass(), "M2", "M1", TARIFFS, NORMAL,
                    TODAY)  # fmt: skip
    assert "M2" in str(error)


@pytest.mark.parametrize("state", [PassState.SOLD, PassState.ACTIVE, PassState.BLOCKED])
def test_a_pass_that_is_not_in_stock_cannot_be_sold_again(state: PassState) -> None:
    refused("not_in_stock", plan_sale, make_pass(state), "M1", "M1", TARIFFS, NORMAL, TODAY)


def test_unknown_pass_cannot_be_sold() -> None:
    refused("unknown_pass", plan_sale, None, "M1", "M1", TARIFFS, NORMAL, TODAY)


def test_reduced_tariff_needs_a_category_it_accepts() -> None:
    refused("category_required", price, TARIFFS, "single", Basket("reduced", "cash"))
    refused(
        "category_required",
        price,
        TARIFFS,
        "single",
        Basket("reduced", "cash", category="pensioner", category_confirmed=True),
    )


def test_reduced_tariff_needs_the_cashier_to_confirm_the_category() -> None:
    refused(
        "category_not_confirmed",
        price,
        TARIFFS,
        "single",
        Basket("reduced", "cash", category="student"),
    )
    ok = price(TARIFFS, "single", Basket("reduced", "cash", "student", True))
    assert ok.price_cents == 9900 and ok.category == "student"


def test_normal_tariff_takes_no_category() -> None:
    refused("category_not_reduced", price, TARIFFS, "single", Basket("normal", "cash", "student"))


def test_fnac_voucher_comes_off_the_price() -> None:
    priced = price(TARIFFS, "single", Basket("normal", "card", voucher_cents=2000))
    assert (priced.price_cents, priced.voucher_cents, priced.due_cents) == (11900, 2000, 9900)


def test_voucher_equal_to_the_price_leaves_nothing_to_pay() -> None:
    assert price(TARIFFS, "single", Basket("normal", "cash", voucher_cents=11900)).due_cents == 0


def test_voucher_larger_than_the_price_is_refused() -> None:
    refused(
        "voucher_exceeds_price",
        price,
        TARIFFS,
        "single",
        Basket("normal", "cash", voucher_cents=11901),
    )


@pytest.mark.parametrize(("voucher", "code"), [
    (-1, "negative_amount"), (10**12, "absurd_amount"), (12.5, "malformed_amount"),
    ("500", "malformed_amount"), (True, "malformed_amount"),
])  # fmt: skip
def test_negative_or_absurd_voucher_is_refused(voucher: object, code: str) -> None:
    refused(code, price, TARIFFS, "single", Basket("normal", "cash", voucher_cents=voucher))


def test_unknown_payment_method_and_tariff_are_refused() -> None:
    refused("unknown_payment", price, TARIFFS, "single", Basket("normal", "bitcoin"))
    refused("unknown_tariff", price, TARIFFS, "single", Basket("gratis", "cash"))


def test_a_tariff_for_another_pass_type_is_refused() -> None:
    refused("wrong_pass_type", plan_sale, make_pass(pass_type=DUO), "M1", "M1", TARIFFS,
            NORMAL, TODAY)  # fmt: skip


# -- renewal window at its edges ------------------------------------------------


def test_renewal_three_months_minus_a_day_before_expiry_is_allowed() -> None:
    assert renewal_refusal(active_until(add_months(TODAY, 3) - timedelta(days=1)), TODAY) is None


def test_renewal_exactly_three_months_before_expiry_is_refused_with_the_opening_day() -> None:
    expires = add_months(TODAY, 3)
    error = renewal_refusal(active_until(expires), TODAY)
    assert error is not None and error.code == "renewal_too_early"
    assert (TODAY + timedelta(days=1)).isoformat() in str(error)
    assert renewal_refusal(active_until(expires), TODAY + timedelta(days=1)) is None


def test_expired_pass_may_be_renewed() -> None:
    assert renewal_refusal(active_until(TODAY - timedelta(days=1)), TODAY) is None


def test_stock_blocked_and_never_used_passes_are_not_renewed() -> None:
    assert renewal_refusal(make_pass(), TODAY).code == "not_sold"
    blocked = make_pass(PassState.BLOCKED, TODAY, TODAY)
    assert renewal_refusal(blocked, TODAY).code == "blocked"
    assert renewal_refusal(make_pass(PassState.SOLD), TODAY).code == "not_activated"


def test_a_pass_already_renewed_is_not_renewed_twice() -> None:
    once = make_pass(PassState.SOLD, TODAY - timedelta(days=300), TODAY + timedelta(days=30))
    assert renewal_refusal(once, TODAY).code == "already_renewed"


# -- renewal: no path loses a day ----------------------------------------------


def decide_on(record, day: date):  # noqa: ANN001, ANN201
    return decide(Credential("chip", record.serial), record, History(),
                  Moment(wall=0.0, today=day, trusted=True), Rules())  # fmt: skip


def renewed_record(plan):  # noqa: ANN001, ANN201
    return plan.before._replace(state=plan.state, activated_on=plan.activated_on,
                                expires_on=plan.expires_on)  # fmt: skip


def test_renewal_without_entry_keeps_the_current_year_then_starts_at_the_next_entry() -> None:
    expires = TODAY + timedelta(days=40)
    plan = plan_renewal(active_until(expires), TARIFFS, NORMAL, TODAY)
    after = renewed_record(plan)
    assert plan.state is PassState.SOLD and plan.expires_on == expires
    # Still the old year on its last day ...
    last_day = decide_on(after, expires)
    assert last_day.admit and last_day.reason is Reason.OK and last_day.valid_until == expires
    # ... and the new year from the first entry after it, however late.
    later = expires + timedelta(days=20)
    first = decide_on(after, later)
    assert first.reason is Reason.ACTIVATED and first.valid_until == last_valid_day(later)


def test_renewal_of_an_expired_pass_without_entry_starts_at_the_next_entry() -> None:
    plan = plan_renewal(active_until(TODAY - timedelta(days=5)), TARIFFS, NORMAL, TODAY)
    assert (plan.state, plan.activated_on, plan.expires_on) == (PassState.SOLD, None, None)
    assert decide_on(renewed_record(plan), TODAY + timedelta(days=3)).reason is Reason.ACTIVATED


def test_renewal_with_immediate_entry_starts_today_and_keeps_the_days_left() -> None:
    expires = TODAY + timedelta(days=40)
    basket = Basket("normal", "cash", immediate_entry=True)
    plan = plan_renewal(active_until(expires), TARIFFS, basket, TODAY)
    assert plan.state is PassState.ACTIVE and plan.activated_on == TODAY
    assert plan.expires_on == last_valid_day(TODAY) + timedelta(days=40)
    assert plan.expires_on > expires  # nothing paid for is lost


def test_renewal_with_immediate_entry_of_an_expired_pass_is_one_year_from_today() -> None:
    basket = Basket("normal", "cash", immediate_entry=True)
    plan = plan_renewal(active_until(TODAY - timedelta(days=1)), TARIFFS, basket, TODAY)
    assert (plan.activated_on, plan.expires_on) == (TODAY, last_valid_day(TODAY))


def test_renewal_outside_the_window_is_refused_even_with_a_valid_basket() -> None:
    refused("renewal_too_early", plan_renewal, active_until(add_months(TODAY, 6)), TARIFFS,
            NORMAL, TODAY)  # fmt: skip


# -- actions offered for a scanned pass ------------------------------------------


def test_actions_follow_the_seed() -> None:
    assert actions(make_pass(), "M1", "M1", TODAY) == ("sell", "information")
    assert actions(make_pass(), "M2", "M1", TODAY) == ("information",)
    ending = active_until(TODAY + timedelta(days=10))
    assert actions(ending, None, "M1", TODAY) == ("renew", "entry", "information")
    assert actions(active_until(add_months(TODAY, 6)), None, "M1", TODAY) == (
        "entry", "information")  # fmt: skip
    assert actions(None, None, "M1", TODAY) == ()


# -- roles ----------------------------------------------------------------------

TABLE = {
    Role.CONTROLE: {Function.ENTRIES},
    Role.CAISSE: {Function.ENTRIES, Function.SALES, Function.RENEWALS, Function.STATISTICS},
    Role.STOCK: set(Function),
}


@pytest.mark.parametrize("role", list(TABLE))
@pytest.mark.parametrize("function", list(Function))
def test_each_role_may_use_exactly_its_functions(role: Role, function: Function) -> None:
    allowed = function in TABLE[role]
    assert may(role, function) is allowed
    if allowed:
        require(role, function)
    else:
        with pytest.raises(NotPermitted, match=str(role)):
            require(role, function)


def test_access_code_sessions_map_to_the_seed_roles() -> None:
    assert PERMISSIONS[Role.TECHNICIAN] == PERMISSIONS[Role.STOCK]
    assert may(Role.CASH, Function.CASH_REGISTER) and not may(Role.CASH, Function.PASS_ORDERS)


# -- amounts typed by a person ---------------------------------------------------


@pytest.mark.parametrize(("text", "cents"), [
    ("12", 1200), ("12.5", 1250), ("12,50", 1250), (" 1 250,00 ", 125000), ("0", 0),
])  # fmt: skip
def test_typed_amounts_become_cents(text: str, cents: int) -> None:
    from firmware.counter.money import parse_amount

    assert parse_amount(text) == cents


@pytest.mark.parametrize(("text", "code"), [
    ("-5", "negative_amount"), ("1e9", "malformed_amount"), ("12.345", "malformed_amount"),
    ("", "malformed_amount"), ("abc", "malformed_amount"), ("100000.01", "absurd_amount"),
    ("12..5", "malformed_amount"), ("١٢", "malformed_amount"),
])  # fmt: skip
def test_bad_typed_amounts_are_refused_with_a_code(text: str, code: str) -> None:
    from firmware.counter.money import AmountError, parse_amount

    with pytest.raises(AmountError) as caught:
        parse_amount(text, "the voucher")
    assert caught.value.code == code and "the voucher" in str(caught.value)
