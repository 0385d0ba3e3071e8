"""The gate's sense of time: museum-local days and the clock floor's heartbeat.

Every other module asks this one for "now" and "today": the floored clock
(``firmware/clock.py``) gives the time, the museum's zone the day. The floor
is saved every few minutes and at the stop, so a reboot cannot fall far into
the past.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from firmware.clock import FlooredClock, Now
from firmware.gate.reactor import Reactor
from firmware.journal.database import StorageError
from firmware.journal.journal import Journal

log = logging.getLogger("portique.gate")

FLOOR_HEARTBEAT_S = 300.0


class Timekeeper:
    def __init__(self, reactor: Reactor, clock: FlooredClock, zone: ZoneInfo,
                 journal: Journal) -> None:  # fmt: skip
        self.clock, self.zone, self._journal = clock, zone, journal
        reactor.on_start(lambda eventtime: reactor.at(eventtime + FLOOR_HEARTBEAT_S,
                                                      self._heartbeat))  # fmt: skip
        reactor.on_stop(lambda _eventtime: self.save_clock_floor())

    def now(self) -> Now:
        return self.clock.now()

    def monotonic(self) -> float:
        return self.clock.source.monotonic()

    def date(self, now: Now) -> date:
        """The museum-local day of ``now``."""
        return datetime.fromtimestamp(now.wall, self.zone).date()

    def day(self, now: Now) -> str:
        return self.date(now).isoformat()

    def raise_floor(self, wall: float) -> None:
        self.clock.raise_floor(wall)

    def latest_issue(self) -> float:
        """The latest issue time a signed document may carry now (``FlooredClock``'s rule)."""
        return self.clock.latest_issue()

    def save_clock_floor(self) -> None:
        """Persist proof of the current time, so a reboot cannot fall far into the past."""
        try:
            self._journal.store_floor(self.clock.now().wall)
        except StorageError as exc:
            log.error("%s (clock floor not saved)", exc)

    def _heartbeat(self, eventtime: float) -> float:
        self.save_clock_floor()
        return eventtime + FLOOR_HEARTBEAT_S

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {"clock_trusted": self.clock.now().trusted}
