"""The hub's pass Culture connector against a real HTTP server playing pass Culture."""

from __future__ import annotations

import httpx
import pytest
from fake_passculture import KEY, MUSEUM, VENUE, FakePassCulture

from firmware.clock import ManualClock, SystemClock
from hub.passculture.connector import ADMIT, DESK, REFUSE, UNDONE, Connector
from hub.passculture.settings import MuseumAccount, PassCultureSettings


def connector(fake: FakePassCulture, clock, key: str = KEY) -> Connector:  # noqa: ANN001
    account = MuseumAccount(MUSEUM, key, frozenset({VENUE}))
    settings = PassCultureSettings({MUSEUM: account}, base_url=fake.url)
    pause = clock.advance if isinstance(clock, ManualClock) else None
    return Connector(settings, clock, pause=pause)


@pytest.fixture
def pc(fake_pc: FakePassCulture, pc_clock: ManualClock) -> Connector:
    c = connector(fake_pc, pc_clock)
    yield c
    c.close()


def test_confirmed_duo_booking_admits_two_and_is_used(fake_pc: FakePassCulture,
                                                      pc: Connector) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    verdict = pc.validate("ab3dk7", MUSEUM)
    assert (verdict.outcome, verdict.reason, verdict.quantity) == (ADMIT, "ok", 2)
    assert fake_pc.status("AB3DK7") == "USED"
    assert verdict.booking is not None and verdict.booking["priceCategoryLabel"] == "Plein tarif"


def test_same_code_again_is_refused_already_used(fake_pc: FakePassCulture, pc: Connector) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    assert pc.validate("AB3DK7", MUSEUM).admitted
    again = pc.validate("AB3DK7", MUSEUM)
    assert (again.outcome, again.reason) == (REFUSE, "already_used")
    assert fake_pc.count("PATCH", "/use/") == 1


@pytest.mark.parametrize(("status", "reason"), [("CANCELLED", "cancelled"),
                                                ("REIMBURSED", "reimbursed"),
                                                ("USED", "already_used")])  # fmt: skip
def test_booking_states_map_to_stable_refusals(fake_pc: FakePassCulture, pc: Connector,
                                               status: str, reason: str) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, status=status)
    verdict = pc.validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (REFUSE, reason)
    assert fake_pc.count("PATCH", "/use/") == 0
    assert fake_pc.status("AB3DK7") == status


def test_unknown_code_is_refused_unknown(fake_pc: FakePassCulture, pc: Connector) -> None:
    verdict = pc.validate("ZZZZZZ", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (REFUSE, "unknown")


def test_event_booking_before_its_cancellation_limit_is_not_yet_validatable(
    fake_pc: FakePassCulture, pc: Connector, pc_clock: ManualClock
) -> None:
    fake_pc.add_booking(KEY, "EVNT22", venue_id=VENUE, validatable_from=pc_clock.wall() + 3600)
    verdict = pc.validate("EVNT22", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (REFUSE, "not_yet_validatable")
    pc_clock.advance(3601)
    assert pc.validate("EVNT22", MUSEUM).admitted


def test_booking_of_another_venue_of_the_same_provider_is_refused_wrong_venue(
    fake_pc: FakePassCulture, pc: Connector
) -> None:
    fake_pc.add_venue(KEY, 999)
    fake_pc.add_booking(KEY, "QTHER2", venue_id=999)
    verdict = pc.validate("QTHER2", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (REFUSE, "wrong_venue")
    assert fake_pc.status("QTHER2") == "CONFIRMED"


def test_another_providers_booking_is_unknown(fake_pc: FakePassCulture, pc: Connector) -> None:
    fake_pc.add_venue("key-orsay", 777)
    fake_pc.add_booking("key-orsay", "RSAYX2", venue_id=777)
    assert pc.validate("RSAYX2", MUSEUM).reason == "unknown"
    assert fake_pc.status("RSAYX2") == "CONFIRMED"


def test_bad_api_key_sends_the_museum_to_its_settings(fake_pc: FakePassCulture,
                                                      pc_clock: ManualClock) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    verdict = connector(fake_pc, pc_clock, key="revoked").validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (DESK, "bad_api_key")
    assert "passculture.toml" in verdict.message
    assert fake_pc.status("AB3DK7") == "CONFIRMED"


def test_badly_typed_code_never_reaches_pass_culture(fake_pc: FakePassCulture,
                                                     pc: Connector) -> None:  # fmt: skip
    assert pc.validate("AB3DK0", MUSEUM).reason == "bad_code"
    assert pc.validate("../../bookings?offerId=1", MUSEUM).reason == "bad_code"
    assert fake_pc.requests == []


def test_museum_without_an_account_is_told_so(pc: Connector) -> None:
    verdict = pc.validate("AB3DK7", "ORSAY")
    assert (verdict.outcome, verdict.reason) == (DESK, "not_configured")


def test_transient_failures_are_retried(fake_pc: FakePassCulture, pc: Connector) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.fail_next(503, 502)
    assert pc.validate("AB3DK7", MUSEUM).admitted
    assert fake_pc.count("GET", "/token/") == 3


def test_server_error_on_use_is_resolved_by_reading_the_booking(
    fake_pc: FakePassCulture, pc: Connector
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.fail_next(200)  # not a failure: the GET goes through
    fake_pc._failures.clear()
    booking = fake_pc.bookings["AB3DK7"]
    # The GET succeeds, the use answers 500 without doing anything: still CONFIRMED.
    original = fake_pc._use

    def use_then_fail(key, request, token):  # noqa: ANN001, ANN202
        fake_pc._use = original
        fake_pc.fail_next(500)
        return fake_pc._answer(request)

    fake_pc._use = use_then_fail
    verdict = pc.validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (DESK, "uncertain")
    assert booking.status == "CONFIRMED"
    assert "still CONFIRMED" in verdict.message


def test_api_answering_422_is_a_clear_desk_message(fake_pc: FakePassCulture,
                                                   pc: Connector) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.fail_next(422)
    verdict = pc.validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (DESK, "invalid_request")
    assert fake_pc.status("AB3DK7") == "CONFIRMED"


def test_body_breaking_the_contract_is_not_trusted(fake_pc: FakePassCulture,
                                                   pc: Connector) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.break_contract()
    verdict = pc.validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (DESK, "malformed_answer")
    assert fake_pc.status("AB3DK7") == "CONFIRMED"


def test_pass_culture_down_answers_desk_within_the_deadline(fake_pc: FakePassCulture,
                                                            pc: Connector) -> None:  # fmt: skip
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.go_down()
    verdict = pc.validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (DESK, "api_unavailable")
    fake_pc.come_back()
    assert pc.validate("AB3DK7", MUSEUM).admitted


def test_slow_pass_culture_gets_desk_and_no_validation(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.slow(30.0)
    clock = SystemClock()  # the deadline runs against real time here: the server is slow
    c = connector(fake_pc, clock)
    verdict = c.validate("AB3DK7", MUSEUM, deadline_s=0.3)
    fake_pc.stop()  # releases the held answers
    assert verdict.outcome == DESK and verdict.reason in ("api_unavailable", "deadline")
    assert fake_pc.status("AB3DK7") == "CONFIRMED"
    assert fake_pc.count("PATCH", "/use/") == 0


def test_use_that_arrived_but_whose_answer_was_lost_admits_once(
    fake_pc: FakePassCulture,
) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, quantity=2)
    fake_pc.slow(30.0, only="PATCH", after_acting=True)
    c = connector(fake_pc, SystemClock())  # real time: the answer is really held
    verdict = c.validate("AB3DK7", MUSEUM, deadline_s=1.0)
    assert (verdict.outcome, verdict.quantity) == (ADMIT, 2)
    assert fake_pc.count("PATCH", "/use/") == 1
    assert fake_pc.bookings["AB3DK7"].history == ["CONFIRMED", "USED"]


def test_rate_limit_429_holds_requests_for_retry_after(fake_pc: FakePassCulture,
                                                       pc_clock: ManualClock) -> None:  # fmt: skip
    # Another client of the same key (the museum's ticketing) used up the minute.
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}) as other:
        for _ in range(200):
            other.get(f"{fake_pc.url}/public/bookings/v1/token/ZZZZZZ")
    ours = connector(fake_pc, pc_clock)
    before = len(fake_pc.requests)
    verdict = ours.validate("AB3DK7", MUSEUM)
    assert (verdict.outcome, verdict.reason) == (DESK, "rate_limited")
    assert [s for _, _, s in fake_pc.requests[before:]] == [429]
    # Held: the next question within Retry-After sends nothing.
    assert ours.validate("AB3DK7", MUSEUM).reason == "rate_limited"
    assert len(fake_pc.requests) == before + 1
    pc_clock.advance(61)
    assert ours.validate("AB3DK7", MUSEUM).admitted


def test_token_bucket_never_lets_one_key_exceed_200_a_minute(
    fake_pc: FakePassCulture, pc: Connector, pc_clock: ManualClock
) -> None:
    start = pc_clock.monotonic()
    results = [pc.validate("ZZZZZZ", MUSEUM).reason for _ in range(260)]
    assert results == ["unknown"] * 260
    assert 429 not in [s for _, _, s in fake_pc.requests]
    # A burst of 20, then 180 a minute: 260 requests take at least 80 s.
    assert pc_clock.monotonic() - start >= (260 - 20) * 60 / 180 - 0.01


def test_undo_returns_the_booking_to_confirmed(fake_pc: FakePassCulture, pc: Connector) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    assert pc.validate("AB3DK7", MUSEUM).admitted
    assert pc.undo("AB3DK7", MUSEUM).outcome == UNDONE
    assert fake_pc.bookings["AB3DK7"].history == ["CONFIRMED", "USED", "CONFIRMED"]
    again = pc.undo("AB3DK7", MUSEUM)
    assert (again.outcome, again.reason) == (REFUSE, "cannot_undo")


def test_undo_whose_answer_was_lost_is_not_sent_twice(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    c = connector(fake_pc, SystemClock())  # real time: the answer is really held
    assert c.validate("AB3DK7", MUSEUM).admitted
    fake_pc.slow(30.0, only="PATCH", after_acting=True)
    verdict = c.undo("AB3DK7", MUSEUM, deadline_s=0.5)
    assert (verdict.outcome, verdict.reason) == (DESK, "uncertain")
    assert fake_pc.count("PATCH", "/keep/") == 1
    assert fake_pc.status("AB3DK7") == "CONFIRMED"
