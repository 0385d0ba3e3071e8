"""The admission rules of firmware.gate.decision, one test per rule and per edge."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from firmware.gate.decision import (
    Credential,
    Decision,
    History,
    Moment,
    Reason,
    Rules,
    decide,
    decide_forced,
    decide_paper_pass,
)
from firmware.gate.passes import PassRecord, PassState, PassType, add_months, last_valid_day

PARIS = ZoneInfo("Europe/Paris")
SERIAL = "04A23B1C"  # a 4-byte UID
TODAY = date(2026, 6, 15)
SOLO = PassType(code="SOLO", persons=1, children=5)
RULES = Rules()  # 120 s anti-passback, 3-month renewal window, paper passes through 2023-03-31


def make_pass(
    state: PassState = PassState.ACTIVE,
    activated_on: date | None = date(2026, 1, 10),
    expires_on: date | None = date(2027, 1, 9),
    children: int = 5,
    persons: int = 1,
    serial: str = SERIAL,
) -> PassRecord:
    return PassRecord(
        serial=serial,
        pass_number="123456",
        id_number="ID-0042",
        pass_type=PassType(code=f"T{persons}-{children}", persons=persons, children=children),
        state=state,
        activated_on=activated_on,
        expires_on=expires_on,
    )


def moment(day: date = TODAY, wall: float | None = None, trusted: bool = True) -> Moment:
    """A moment on ``day``; wall time defaults to noon, Paris time, on that day."""
    if wall is None:
        wall = datetime.combine(day, time(12, 0), PARIS).timestamp()
    return Moment(wall=wall, today=day, trusted=trusted)


def chip(serial: str = SERIAL) -> Credential:
    return Credential(kind="chip", value=serial)


def decide_now(
    record: PassRecord | None,
    day: date = TODAY,
    history: History | None = None,
    wall: float | None = None,
    rules: Rules = RULES,
    credential: Credential | None = None,
) -> Decision:
    return decide(
        credential or chip(),
        record,
        history or History(),
        moment(day, wall=wall),
        rules,
    )


def assert_refused(decision: Decision, reason: Reason) -> None:
    assert decision.reason is reason
    assert decision.admit is False
    assert decision.billable is False
    assert decision.activated_on is None


# --- the credential ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "serial",
    [
        "04A23B1C",  # 4 bytes
        "04a23b1c",  # lower case is still hex
        "04A23B1C2D3E80",  # 7 bytes
        "04A23B1C2D3E8091A2B3",  # 10 bytes
    ],
)
def test_serial_of_four_seven_or_ten_bytes_is_well_formed(serial: str) -> None:
    decision = decide_now(make_pass(serial=serial), credential=chip(serial))
    assert decision.reason is Reason.OK
    assert decision.admit is True


@pytest.mark.parametrize(
    "serial",
    [
        "04A23B1C2D",  # 5 bytes
        "04A23B1C2D3E",  # 6 bytes
        "",  # 0 bytes
        "04A23B1",  # odd number of digits
        "04A23B1G",  # not hex
        "0x04A23B1C",  # prefixed
    ],
)
def test_malformed_serial_is_refused_as_invalid_serial(serial: str) -> None:
    # Even when the loop somehow found a record: the serial's shape is checked first.
    decision = decide_now(make_pass(), credential=chip(serial))
    assert_refused(decision, Reason.INVALID_SERIAL)
    assert decision.record is None


def test_typed_pass_number_is_not_checked_as_a_serial() -> None:
    decision = decide_now(make_pass(), credential=Credential(kind="number", value="123456"))
    assert decision.reason is Reason.OK
    assert decision.admit is True


def test_unknown_serial_is_refused_as_unknown_pass() -> None:
    decision = decide_now(None)
    assert_refused(decision, Reason.UNKNOWN_PASS)
    assert decision.record is None


def test_unknown_typed_pass_number_is_refused_as_unknown_pass() -> None:
    decision = decide_now(None, credential=Credential(kind="number", value="999999"))
    assert_refused(decision, Reason.UNKNOWN_PASS)


# --- pass states -------------------------------------------------------------------------


def test_blocked_pass_is_refused_as_blocked_even_within_its_dates() -> None:
    record = make_pass(state=PassState.BLOCKED)
    decision = decide_now(record)
    assert_refused(decision, Reason.BLOCKED)
    assert decision.record == record


def test_pass_in_stock_is_refused_as_not_sold() -> None:
    record = make_pass(state=PassState.STOCK, activated_on=None, expires_on=None)
    decision = decide_now(record)
    assert_refused(decision, Reason.NOT_SOLD)
    assert decision.record == record


def test_sold_pass_first_entry_is_admitted_and_activated_for_one_year() -> None:
    record = make_pass(state=PassState.SOLD, activated_on=None, expires_on=None, children=3)
    decision = decide_now(record, day=date(2026, 11, 22))
    assert decision.reason is Reason.ACTIVATED
    assert decision.admit is True
    assert decision.billable is True
    assert decision.activated_on == date(2026, 11, 22)
    assert decision.valid_until == date(2027, 11, 21)  # through the day before the anniversary
    assert decision.valid_until == last_valid_day(date(2026, 11, 22))
    assert decision.renewal_hint is False
    assert decision.renewal_possible is False
    assert decision.children_allowed == 3
    assert decision.record == record


def test_pass_renewed_before_it_ran_out_is_used_under_its_current_year() -> None:
    record = make_pass(state=PassState.SOLD, expires_on=date(2027, 1, 9))
    decision = decide_now(record, day=date(2026, 12, 1))
    assert decision.reason is Reason.OK
    assert decision.valid_until == date(2027, 1, 9)
    assert decision.activated_on is None
    assert decision.renewal_hint is False  # the renewal is already bought


def test_renewed_pass_activates_its_new_year_at_the_first_entry_after_the_old_one() -> None:
    record = make_pass(state=PassState.SOLD, expires_on=date(2027, 1, 9))
    decision = decide_now(record, day=date(2027, 1, 10))
    assert decision.reason is Reason.ACTIVATED
    assert decision.activated_on == date(2027, 1, 10)
    assert decision.valid_until == date(2028, 1, 9)


def test_active_pass_is_admitted_ok_and_billable() -> None:
    record = make_pass(expires_on=date(2027, 1, 9))
    decision = decide_now(record)
    assert decision.reason is Reason.OK
    assert decision.admit is True
    assert decision.billable is True
    assert decision.valid_until == date(2027, 1, 9)
    assert decision.activated_on is None  # already active: this entry activates nothing
    assert decision.renewal_hint is False
    assert decision.record == record


def test_expired_pass_is_refused_with_renewal_possible() -> None:
    record = make_pass(activated_on=date(2025, 3, 1), expires_on=date(2026, 2, 28))
    decision = decide_now(record)
    assert_refused(decision, Reason.EXPIRED)
    assert decision.renewal_possible is True
    assert decision.valid_until == date(2026, 2, 28)
    assert decision.record == record


def test_last_valid_day_is_admitted() -> None:
    decision = decide_now(make_pass(expires_on=TODAY))
    assert decision.reason is Reason.OK
    assert decision.admit is True


def test_first_day_after_the_last_valid_day_is_refused_as_expired() -> None:
    decision = decide_now(make_pass(expires_on=TODAY), day=date(2026, 6, 16))
    assert_refused(decision, Reason.EXPIRED)
    assert decision.renewal_possible is True


# --- renewal window ----------------------------------------------------------------------


def test_pass_expiring_within_three_months_is_admitted_with_renewal_hint() -> None:
    decision = decide_now(make_pass(expires_on=date(2026, 7, 31)))
    assert decision.reason is Reason.OK
    assert decision.admit is True
    assert decision.renewal_hint is True
    assert decision.renewal_possible is False


def test_pass_expiring_in_more_than_three_months_has_no_renewal_hint() -> None:
    decision = decide_now(make_pass(expires_on=date(2026, 12, 31)))
    assert decision.admit is True
    assert decision.renewal_hint is False


@pytest.mark.parametrize(
    ("today", "expires_on", "hint"),
    [
        # add_months(2026-06-15, 3) == 2026-09-15; the hint needs expires_on < that day.
        (date(2026, 6, 15), date(2026, 9, 14), True),
        (date(2026, 6, 15), date(2026, 9, 15), False),
        # A month-end: add_months(2025-11-30, 3) == 2026-02-28 (clamped).
        (date(2025, 11, 30), date(2026, 2, 27), True),
        (date(2025, 11, 30), date(2026, 2, 28), False),
        # Across a leap day: add_months(2023-11-30, 3) == 2024-02-29.
        (date(2023, 11, 30), date(2024, 2, 28), True),
        (date(2023, 11, 30), date(2024, 2, 29), False),
        # The last valid day itself is within the window.
        (date(2026, 6, 15), date(2026, 6, 15), True),
    ],
)
def test_renewal_hint_edge_is_exactly_three_months_ahead(
    today: date, expires_on: date, hint: bool
) -> None:
    assert add_months(today, 3) >= expires_on  # all cases sit at or just before the edge
    decision = decide_now(make_pass(activated_on=None, expires_on=expires_on), day=today)
    assert decision.reason is Reason.OK
    assert decision.renewal_hint is hint


def test_renewal_window_comes_from_the_rules() -> None:
    record = make_pass(expires_on=date(2026, 7, 31))
    assert decide_now(record, rules=Rules(renewal_window_months=1)).renewal_hint is False
    assert decide_now(record, rules=Rules(renewal_window_months=2)).renewal_hint is True


# --- re-entry, billing and anti-passback -------------------------------------------------


def test_pass_already_billed_today_at_this_museum_is_admitted_as_reentry_not_billable() -> None:
    noon = moment().wall
    history = History(last_admitted_here=noon - 3 * 3600, billed_today=True)
    decision = decide_now(make_pass(), history=history)
    assert decision.reason is Reason.REENTRY
    assert decision.admit is True
    assert decision.billable is False
    assert decision.valid_until == date(2027, 1, 9)


def test_pass_billed_today_at_another_gate_of_this_museum_is_reentry() -> None:
    decision = decide_now(make_pass(), history=History(last_admitted_here=None, billed_today=True))
    assert decision.reason is Reason.REENTRY
    assert decision.admit is True
    assert decision.billable is False


def test_same_pass_again_at_this_gate_within_anti_passback_window_is_already_entered() -> None:
    noon = moment().wall
    history = History(last_admitted_here=noon - 30, billed_today=True)
    decision = decide_now(make_pass(), history=history, wall=noon)
    assert_refused(decision, Reason.ALREADY_ENTERED)
    assert decision.valid_until == date(2027, 1, 9)


@pytest.mark.parametrize(
    ("elapsed", "reason"),
    [
        (0, Reason.ALREADY_ENTERED),
        (RULES.anti_passback_s - 1, Reason.ALREADY_ENTERED),
        (RULES.anti_passback_s - 0.001, Reason.ALREADY_ENTERED),
        (RULES.anti_passback_s, Reason.REENTRY),
        (RULES.anti_passback_s + 1, Reason.REENTRY),
    ],
)
def test_anti_passback_window_is_half_open(elapsed: float, reason: Reason) -> None:
    last = moment().wall
    history = History(last_admitted_here=last, billed_today=True)
    decision = decide_now(make_pass(), history=history, wall=last + elapsed)
    assert decision.reason is reason
    assert decision.admit is (reason is Reason.REENTRY)


def test_anti_passback_window_comes_from_the_rules() -> None:
    last = moment().wall
    history = History(last_admitted_here=last, billed_today=True)
    rules = Rules(anti_passback_s=600)
    assert decide_now(make_pass(), history=history, wall=last + 599, rules=rules).reason is (
        Reason.ALREADY_ENTERED
    )
    assert decide_now(make_pass(), history=history, wall=last + 600, rules=rules).reason is (
        Reason.REENTRY
    )


def test_entry_recorded_in_the_future_is_refused_as_already_entered() -> None:
    noon = moment().wall
    history = History(last_admitted_here=noon + 3600, billed_today=True)
    decision = decide_now(make_pass(), history=history, wall=noon)
    assert_refused(decision, Reason.ALREADY_ENTERED)


def test_expired_pass_is_refused_as_expired_even_within_anti_passback_window() -> None:
    noon = moment().wall
    history = History(last_admitted_here=noon - 10, billed_today=True)
    decision = decide_now(make_pass(expires_on=date(2026, 6, 14)), history=history, wall=noon)
    assert_refused(decision, Reason.EXPIRED)


# --- children ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persons", "children"),
    [(1, 5), (2, 5), (1, 0), (2, 3)],
)
def test_children_allowance_comes_from_the_pass_type(persons: int, children: int) -> None:
    decision = decide_now(make_pass(persons=persons, children=children))
    assert decision.admit is True
    assert decision.children_allowed == children


def test_refused_pass_allows_no_children() -> None:
    decision = decide_now(make_pass(expires_on=date(2026, 1, 1), children=5))
    assert decision.admit is False
    assert decision.children_allowed == 0


# --- activation dates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("activated_on", "valid_until"),
    [
        (date(2026, 11, 22), date(2027, 11, 21)),
        (date(2024, 2, 29), date(2025, 2, 28)),  # leap day: anniversary taken as 1 March
        (date(2025, 12, 31), date(2026, 12, 30)),
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2023, 3, 1), date(2024, 2, 29)),  # the year of validity holds a leap day
    ],
)
def test_last_valid_day_is_the_day_before_the_first_anniversary(
    activated_on: date, valid_until: date
) -> None:
    assert last_valid_day(activated_on) == valid_until


def test_pass_activated_on_29_february_is_valid_through_28_february() -> None:
    sold = make_pass(state=PassState.SOLD, activated_on=None, expires_on=None)
    decision = decide_now(sold, day=date(2024, 2, 29))
    assert decision.reason is Reason.ACTIVATED
    assert decision.activated_on == date(2024, 2, 29)
    assert decision.valid_until == date(2025, 2, 28)

    active = make_pass(activated_on=decision.activated_on, expires_on=decision.valid_until)
    assert decide_now(active, day=date(2025, 2, 28)).reason is Reason.OK
    assert decide_now(active, day=date(2025, 3, 1)).reason is Reason.EXPIRED


def test_pass_activated_on_31_december_is_valid_through_30_december() -> None:
    sold = make_pass(state=PassState.SOLD, activated_on=None, expires_on=None)
    decision = decide_now(sold, day=date(2025, 12, 31))
    assert decision.reason is Reason.ACTIVATED
    assert decision.activated_on == date(2025, 12, 31)
    assert decision.valid_until == date(2026, 12, 30)

    active = make_pass(activated_on=decision.activated_on, expires_on=decision.valid_until)
    assert decide_now(active, day=date(2026, 12, 30)).reason is Reason.OK
    assert decide_now(active, day=date(2026, 12, 31)).reason is Reason.EXPIRED


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 10, 31), 3, date(2026, 1, 31)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 12, 31), 12, date(2026, 12, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 6, 15), 0, date(2026, 6, 15)),
        (date(2026, 6, 15), 3, date(2026, 9, 15)),
    ],
)
def test_add_months_keeps_the_day_or_clamps_to_the_months_last_day(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


# --- paper passes ------------------------------------------------------------------------


@pytest.mark.parametrize("day", [date(2020, 5, 1), date(2023, 3, 30), date(2023, 3, 31)])
def test_paper_pass_is_admitted_through_31_march_2023(day: date) -> None:
    decision = decide_paper_pass("P-0042", moment(day), RULES)
    assert decision.reason is Reason.PAPER_PASS
    assert decision.admit is True
    assert decision.billable is True


@pytest.mark.parametrize("day", [date(2023, 4, 1), date(2023, 4, 2), date(2026, 6, 15)])
def test_paper_pass_is_refused_as_withdrawn_from_1_april_2023(day: date) -> None:
    decision = decide_paper_pass("P-0042", moment(day), RULES)
    assert_refused(decision, Reason.PAPER_PASS_WITHDRAWN)


def test_paper_pass_cut_off_comes_from_the_rules() -> None:
    rules = Rules(paper_pass_last_day=date(2023, 6, 30))
    assert decide_paper_pass("P-1", moment(date(2023, 6, 30)), rules).admit is True
    assert decide_paper_pass("P-1", moment(date(2023, 7, 1)), rules).admit is False


# --- forced entry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        make_pass(),
        make_pass(state=PassState.BLOCKED),
        make_pass(state=PassState.STOCK, activated_on=None, expires_on=None),
        make_pass(state=PassState.SOLD, activated_on=None, expires_on=None),
        make_pass(expires_on=date(2020, 1, 1)),
        None,
    ],
    ids=["active", "blocked", "stock", "sold", "expired", "unknown"],
)
def test_forced_entry_admits_any_pass_and_is_billable(record: PassRecord | None) -> None:
    decision = decide_forced(record, History())
    assert decision.reason is Reason.FORCED
    assert decision.admit is True
    assert decision.billable is True
    assert decision.record == record
    assert decision.valid_until == (record.expires_on if record else None)


def test_forced_entry_of_a_pass_billed_today_is_not_billable() -> None:
    decision = decide_forced(make_pass(), History(billed_today=True))
    assert decision.reason is Reason.FORCED
    assert decision.admit is True
    assert decision.billable is False


def test_forced_entry_ignores_anti_passback() -> None:
    noon = moment().wall
    decision = decide_forced(make_pass(), History(last_admitted_here=noon - 1))
    assert decision.admit is True
    assert decision.reason is Reason.FORCED


def test_forced_entry_children_allowance_comes_from_the_pass_type() -> None:
    assert decide_forced(make_pass(children=2), History()).children_allowed == 2
    # No pass at hand: the holder's usual allowance, as for an old paper pass.
    assert decide_forced(None, History()).children_allowed == 5
    assert decide_forced(make_pass(persons=2), History()).holders == 2
