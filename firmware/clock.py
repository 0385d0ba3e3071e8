"""Time for the whole daemon comes from one clock object.

A Raspberry Pi has no real-time clock: after a power cut it may boot at 1970,
at the time of its last shutdown, or anywhere else. Every piece of code asks a
``Clock`` for wall and monotonic time, so tests can set both, and the
``FlooredClock`` makes sure wall time never goes below what the gate already
knows to be true (see ``docs/architecture.md``, "Time").
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

# No gate runs this firmware before it was written: a fresh gate with no
# journal yet, booting at 1970, starts from here (like systemd's TIME_EPOCH).
RELEASE_FLOOR = 1_767_225_600.0  # 2026-01-01T00:00:00Z


# How far the wall clock may fall behind the floor and still be trusted: a fixed
# margin plus what a slewing NTP client may take away (up to 0.1 %).
SLACK_S = 2.0
DRIFT = 0.001

# A wall clock more than this ahead of the floor is not believed (a Pi booting at
# 2069, an NTP glitch) until signed time agrees: a hub beacon, or a list whose issue
# time raises the floor to within this of it. Longer than any closure a gate is
# expected to sit powered off through; after a longer one the gate uses its floor
# (the time it was switched off) until it hears the hub.
TRUST_HORIZON_S = 31 * 86400.0
# A fresh gate (no journal, no list yet) knows only the firmware's release date:
# it believes a wall clock up to this long after it, the firmware's plausible life.
FRESH_HORIZON_S = 10 * 365 * 86400.0
# How far ahead of trusted time signed data may be dated (the signer's clock may be
# a little ahead of ours); anything later is refused as ``issued_in_future``.
ISSUE_SKEW_S = 600.0


class Clock(Protocol):
    """What every time source provides: epoch seconds and monotonic seconds."""

    def wall(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The operating system's clocks; the only one used on a gate."""

    def wall(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to; for tests and benchmarks.

    Like gpiozero's ``MockFactory`` it lives beside the real one, and only the
    code that builds the application chooses it.
    """

    def __init__(self, wall: float = 1_780_000_000.0, monotonic: float = 1000.0) -> None:
        self._lock = threading.Lock()
        self._wall = wall
        self._mono = monotonic

    def wall(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Let time pass: wall and monotonic move together."""
        with self._lock:
            self._wall += seconds
            self._mono += seconds

    def set_wall(self, wall: float) -> None:
        """Jump the wall clock (an NTP step, a wrong RTC) without moving monotonic time."""
        with self._lock:
            self._wall = wall


@dataclass(frozen=True)
class Now:
    """One reading of the floored clock."""

    wall: float
    monotonic: float
    trusted: bool


class FlooredClock:
    """Wall time that never goes below a floor.

    The floor is the newest moment the gate has proof of: the last time it
    persisted something, or the issue time of the newest signed data it holds.
    Once a floor is known it also advances with monotonic time, so a clock
    that jumps back while running cannot rewind the gate's idea of today.
    A reading is ``trusted`` only when the system clock needed no correction:
    not behind the floor, and not more than ``horizon_s`` ahead of it (a clock
    far in the future would otherwise raise the floor for good). The hub's
    signed beacon is the authority: ``follow_beacon`` moves the floor to it,
    downwards too, which is how a floor poisoned by a past mistake recovers.
    """

    def __init__(self, clock: Clock, floor: float = 0.0, proven: bool = True) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._floor_wall = floor
        self._floor_mono = clock.monotonic()
        # ``proven``: the floor is the gate's own proof of time (its journal, a list),
        # not only the release date; until it is, the horizon is the fresh gate's.
        # No floor at all (0): nothing to judge the wall clock by until its first reading.
        if floor <= 0:
            self.horizon_s = math.inf
        else:
            self.horizon_s = TRUST_HORIZON_S if proven else FRESH_HORIZON_S

    @property
    def source(self) -> Clock:
        return self._clock

    def raise_floor(self, wall: float) -> None:
        """Record proof that it is at least ``wall`` now (never lowers the floor)."""
        with self._lock:
            if wall > self._floor_now_locked():
                self._floor_wall = wall
                self._floor_mono = self._clock.monotonic()
                self.horizon_s = TRUST_HORIZON_S

    def floor(self) -> float:
        with self._lock:
            return self._floor_now_locked()

    def now(self) -> Now:
        with self._lock:
            mono = self._clock.monotonic()
            wall = self._clock.wall()
            floor = self._floor_now_locked()
            # Wall and monotonic clocks drift apart a little (NTP slews the wall
            # clock), so a wall clock just behind the floor is still trusted.
            slack = SLACK_S + DRIFT * max(0.0, mono - self._floor_mono)
            if floor - slack <= wall <= floor + self.horizon_s:
                # A trusted reading is itself proof: later readings may not go below it.
                wall = max(wall, floor)
                self._floor_wall, self._floor_mono = wall, mono
                self.horizon_s = TRUST_HORIZON_S
                return Now(wall=wall, monotonic=mono, trusted=True)
            return Now(wall=floor, monotonic=mono, trusted=False)

    def latest_issue(self) -> float:
        """The latest issue time signed data may carry now without being ``issued_in_future``.

        Trusted time plus a small skew; with an untrusted clock the floor plus
        the horizon, the most the gate can believe without the hub.
        """
        now = self.now()
        return now.wall + ISSUE_SKEW_S if now.trusted else now.wall + self.horizon_s

    def follow_beacon(self, beacon_at: float, lowest: float) -> bool:
        """Take the hub's signed time as the authority; return True if the floor went down.

        The floor rises to ``beacon_at`` as to any proof; a floor more than the
        skew ahead of it (poisoned by a clock or data from the future) comes
        down to it, but never below ``lowest`` (the previous beacon accepted).
        """
        with self._lock:
            floor = self._floor_now_locked()
            self.horizon_s = TRUST_HORIZON_S
            if beacon_at > floor:
                self._floor_wall, self._floor_mono = beacon_at, self._clock.monotonic()
                return False
            if floor - beacon_at <= ISSUE_SKEW_S:
                return False
            self._floor_wall = max(beacon_at, lowest)
            self._floor_mono = self._clock.monotonic()
            return True

    def _floor_now_locked(self) -> float:
        # The floor was true at _floor_mono; monotonic time since then has
        # certainly passed in the real world too.
        return self._floor_wall + max(0.0, self._clock.monotonic() - self._floor_mono)


def gate_clock(source: Clock, own_floor: float) -> FlooredClock:
    """The floored clock of a gate whose saved proof of time is ``own_floor`` (0: none)."""
    return FlooredClock(source, floor=max(own_floor, RELEASE_FLOOR), proven=own_floor > 0)
