"""FlooredClock over a ManualClock: wall time never below what the gate knows to be true."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from firmware.clock import FlooredClock, ManualClock, Now
from firmware.gate.decision import Credential, Decision, History, Moment, Reason, Rules, decide
from firmware.gate.passes import PassRecord, PassState, PassType

PARIS = ZoneInfo("Europe/Paris")
DAY = 86_400.0
# The persisted floor: the last time the gate wrote something, 15 June 2026 at noon in Paris.
FLOOR = datetime(2026, 6, 15, 12, 0, tzinfo=PARIS).timestamp()
EPOCH_1970 = 0.0
BOOT_MONO = 5.0  # monotonic time restarts near zero at boot


def booted(wall: float, floor: float = FLOOR) -> tuple[ManualClock, FlooredClock]:
    """A gate just booted with the system clock at ``wall`` and a persisted ``floor``."""
    system = ManualClock(wall=wall, monotonic=BOOT_MONO)
    return system, FlooredClock(system, floor=floor)


def today(now: Now) -> date:
    return datetime.fromtimestamp(now.wall, PARIS).date()


def moment_of(now: Now) -> Moment:
    return Moment(wall=now.wall, today=today(now), trusted=now.trusted)


# --- booting with a wrong clock ----------------------------------------------------------


@pytest.mark.parametrize(
    "boot_wall",
    [
        pytest.param(EPOCH_1970, id="1970"),
        pytest.param(FLOOR - 120 * DAY, id="months-in-the-past"),
        pytest.param(FLOOR - 10, id="ten-seconds-in-the-past"),
    ],
)
def test_boot_with_clock_behind_the_floor_reads_the_floor_untrusted(boot_wall: float) -> None:
    _, clock = booted(boot_wall)
    now = clock.now()
    assert now.wall == FLOOR
    assert now.trusted is False
    assert now.monotonic == BOOT_MONO


@pytest.mark.parametrize(
    "boot_wall",
    [
        pytest.param(EPOCH_1970, id="1970"),
        pytest.param(FLOOR - 120 * DAY, id="months-in-the-past"),
    ],
)
def test_boot_with_clock_behind_the_floor_still_moves_forward_with_monotonic_time(
    boot_wall: float,
) -> None:
    system, clock = booted(boot_wall)
    first = clock.now()
    system.advance(90)
    second = clock.now()
    system.advance(3600)
    third = clock.now()
    assert (first.wall, second.wall, third.wall) == (FLOOR, FLOOR + 90, FLOOR + 3690)
    assert not (first.trusted or second.trusted or third.trusted)
    assert clock.floor() == FLOOR + 3690


def test_floor_advances_with_monotonic_time_without_any_reading() -> None:
    system, clock = booted(EPOCH_1970)
    system.advance(600)
    assert clock.floor() == FLOOR + 600
    assert clock.now().wall == FLOOR + 600


def test_clock_corrected_after_boot_reads_trusted_again() -> None:
    system, clock = booted(EPOCH_1970)
    system.advance(60)
    assert clock.now().trusted is False
    system.set_wall(FLOOR + 3600)  # NTP steps the clock to the real time
    now = clock.now()
    assert now.wall == FLOOR + 3600
    assert now.trusted is True


# --- a correct clock ---------------------------------------------------------------------


def test_correct_clock_reads_trusted_wall_time() -> None:
    system, clock = booted(FLOOR + 2 * DAY)
    now = clock.now()
    assert now == Now(wall=FLOOR + 2 * DAY, monotonic=BOOT_MONO, trusted=True)
    system.advance(1.5)
    assert clock.now() == Now(wall=FLOOR + 2 * DAY + 1.5, monotonic=BOOT_MONO + 1.5, trusted=True)


def test_clock_exactly_at_the_floor_reads_trusted() -> None:
    _, clock = booted(FLOOR)
    assert clock.now() == Now(wall=FLOOR, monotonic=BOOT_MONO, trusted=True)


def test_trusted_reading_raises_the_floor() -> None:
    _, clock = booted(FLOOR + DAY)
    clock.now()
    assert clock.floor() == FLOOR + DAY


# --- a clock jumping back while running --------------------------------------------------


@pytest.mark.parametrize(
    "jump_to",
    [
        pytest.param(lambda last: last - 10, id="ten-seconds-back"),
        pytest.param(lambda last: last - 3600, id="one-hour-back"),
        pytest.param(lambda last: last - 200 * DAY, id="months-back"),
        pytest.param(lambda last: EPOCH_1970, id="to-1970"),
    ],
)
def test_clock_jumping_back_never_goes_below_last_trusted_reading_plus_elapsed_time(
    jump_to: Callable[[float], float],
) -> None:
    start = FLOOR + 10 * DAY  # well above the persisted floor: every reading is trusted
    system, clock = booted(start)
    system.advance(45)
    last = clock.now()
    assert last.trusted is True
    assert last.wall == start + 45

    system.set_wall(jump_to(last.wall))
    after_jump = clock.now()
    assert after_jump.wall == last.wall
    assert after_jump.trusted is False

    system.advance(30)
    later = clock.now()
    assert later.wall == last.wall + 30
    assert later.trusted is False


def test_readings_never_decrease_whatever_the_system_clock_does() -> None:
    system, clock = booted(FLOOR + 100)
    readings = [clock.now().wall]
    for step, wall in [(1, FLOOR + 50), (2, FLOOR + 500), (1, EPOCH_1970), (5, FLOOR + 400)]:
        system.advance(step)
        system.set_wall(wall)
        readings.append(clock.now().wall)
    assert readings == sorted(readings)
    assert readings == [FLOOR + 100, FLOOR + 101, FLOOR + 500, FLOOR + 501, FLOOR + 506]


# --- raise_floor -------------------------------------------------------------------------


def test_raise_floor_never_lowers_the_floor() -> None:
    _, clock = booted(EPOCH_1970)
    clock.raise_floor(FLOOR - DAY)
    assert clock.floor() == FLOOR
    clock.raise_floor(EPOCH_1970)
    assert clock.floor() == FLOOR
    assert clock.now() == Now(wall=FLOOR, monotonic=BOOT_MONO, trusted=False)


def test_raise_floor_below_the_advanced_floor_is_ignored() -> None:
    system, clock = booted(EPOCH_1970)
    system.advance(100)  # the floor is now FLOOR + 100
    clock.raise_floor(FLOOR + 20)
    assert clock.floor() == FLOOR + 100
    system.advance(10)
    assert clock.now().wall == FLOOR + 110


def test_raise_floor_above_the_floor_moves_it_and_keeps_advancing() -> None:
    system, clock = booted(EPOCH_1970)
    clock.raise_floor(FLOOR + DAY)  # e.g. the issue time of a newly received signed list
    assert clock.floor() == FLOOR + DAY
    system.advance(60)
    assert clock.now() == Now(wall=FLOOR + DAY + 60, monotonic=BOOT_MONO + 60, trusted=False)


def test_raise_floor_above_a_slow_clock_makes_readings_untrusted() -> None:
    system, clock = booted(FLOOR + 3600)
    assert clock.now().trusted is True
    clock.raise_floor(FLOOR + 3610)
    now = clock.now()
    assert now.wall == FLOOR + 3610
    assert now.trusted is False


# --- what it means for the admission decision --------------------------------------------


def make_pass(
    state: PassState = PassState.ACTIVE,
    activated_on: date | None = date(2025, 9, 1),
    expires_on: date | None = date(2026, 8, 31),
) -> PassRecord:
    return PassRecord(
        serial="04A23B1C",
        pass_number="123456",
        id_number="ID-0042",
        pass_type=PassType(code="SOLO", persons=1, children=5),
        state=state,
        activated_on=activated_on,
        expires_on=expires_on,
    )


def decide_at(record: PassRecord, now: Now) -> Decision:
    return decide(Credential("chip", "04A23B1C"), record, History(), moment_of(now), Rules())


def test_floored_reading_turns_into_the_floors_day_in_paris() -> None:
    _, clock = booted(EPOCH_1970)
    now = clock.now()
    assert today(now) == date(2026, 6, 15)
    assert moment_of(now).trusted is False


def test_pass_expired_per_the_floor_stays_expired_when_the_wall_clock_says_1970() -> None:
    expired = make_pass(activated_on=date(2025, 6, 14), expires_on=date(2026, 6, 13))
    _, clock = booted(EPOCH_1970)

    raw_day = datetime.fromtimestamp(EPOCH_1970, PARIS).date()
    assert raw_day == date(1970, 1, 1)
    raw = decide(
        Credential("chip", "04A23B1C"),
        expired,
        History(),
        Moment(wall=EPOCH_1970, today=raw_day, trusted=False),
        Rules(),
    )
    assert raw.admit is True  # what trusting the raw wall clock would do

    decision = decide_at(expired, clock.now())
    assert decision.reason is Reason.EXPIRED
    assert decision.admit is False


def test_pass_valid_per_the_floor_stays_valid_when_the_wall_clock_says_1970() -> None:
    _, clock = booted(EPOCH_1970)
    decision = decide_at(make_pass(expires_on=date(2026, 8, 31)), clock.now())
    assert decision.reason is Reason.OK
    assert decision.admit is True
    assert decision.renewal_hint is True  # 31 Aug is within three months of 15 June 2026


def test_pass_expires_at_midnight_paris_as_the_floor_advances_with_monotonic_time() -> None:
    last_evening = datetime(2026, 6, 14, 23, 59, tzinfo=PARIS).timestamp()
    system, clock = booted(EPOCH_1970, floor=last_evening)
    record = make_pass(activated_on=date(2025, 6, 15), expires_on=date(2026, 6, 14))
    assert decide_at(record, clock.now()).reason is Reason.OK
    system.advance(120)  # 00:01 on 15 June in Paris, while the system clock says 1970
    assert decide_at(record, clock.now()).reason is Reason.EXPIRED


def test_sold_pass_activated_under_a_1970_clock_is_dated_from_the_floor() -> None:
    _, clock = booted(EPOCH_1970)
    sold = make_pass(state=PassState.SOLD, activated_on=None, expires_on=None)
    decision = decide_at(sold, clock.now())
    assert decision.reason is Reason.ACTIVATED
    assert decision.activated_on == date(2026, 6, 15)
    assert decision.valid_until == date(2027, 6, 14)


def test_wall_clock_a_little_behind_the_floor_by_drift_is_still_trusted() -> None:
    # NTP slews the wall clock, so it drifts from monotonic time by fractions of a
    # second: that alone must not mark every decision untrusted.
    clock = ManualClock(wall=FLOOR, monotonic=500.0)
    floored = FlooredClock(clock, floor=FLOOR)
    first = floored.now()
    clock.advance(60)
    clock.set_wall(clock.wall() - 0.5)
    reading = floored.now()
    assert reading.trusted
    assert reading.wall >= first.wall + 60  # never below the floor, even when trusted
