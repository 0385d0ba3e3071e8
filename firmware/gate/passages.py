"""People walking through: each grant expects 1 + children of them.

With a passage sensor, a grant waits for someone to break the beam. If
nobody does within the timeout, a ``not_passed`` record is appended that
refers to the grant's seq; the grant itself is never changed. Someone
walking through with no grant waiting is counted and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.events import PersonPassed
from firmware.gate.reactor import Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.timekeeping import Timekeeper
from firmware.journal.journal import Entry

log = logging.getLogger("portique.gate")


@dataclass
class Grant:
    """A committed admission waiting for people to walk through."""

    seq: int
    expected: int
    credential_kind: str
    credential: str
    pass_number: str | None
    passed: int = 0


class Passages:
    def __init__(self, reactor: Reactor, recorder: Recorder, time: Timekeeper,
                 where: tuple[str, str], timeout_s: float | None,
                 list_version: Callable[[], int]) -> None:  # fmt: skip
        self._reactor, self._recorder, self._time = reactor, recorder, time
        self.museum, self.gate = where
        self.timeout_s = timeout_s
        self._list_version = list_version  # the list in force now
        self._waiting: list[Grant] = []
        self.unexpected = 0
        reactor.register(PersonPassed, self._on_passed)

    def expect(self, grant: Grant) -> None:
        """Wait for ``grant.expected`` people (only with a sensor configured)."""
        if self.timeout_s is None:
            return
        self._waiting.append(grant)
        self._reactor.schedule(self.timeout_s, lambda _t: self._timeout(grant))

    def _on_passed(self, _event: PersonPassed, _eventtime: float) -> None:
        waiting = next((g for g in self._waiting if g.passed < g.expected), None)
        if waiting is None:
            self.unexpected += 1
            log.warning("passage sensor: someone walked through with no entry granted")
            return
        waiting.passed += 1

    def _timeout(self, grant: Grant) -> None:
        if grant not in self._waiting:
            return
        self._waiting.remove(grant)
        if grant.passed:
            return
        now = self._time.now()
        entry = Entry(
            kind="not_passed", wall=now.wall, monotonic=now.monotonic, time_trusted=now.trusted,
            day=self._time.day(now), museum=self.museum, gate=self.gate,
            credential_kind=grant.credential_kind, credential=grant.credential,
            pass_number=grant.pass_number, admitted=False, reason="not_passed",
            list_version=self._list_version(), refers_to=grant.seq,
        )  # fmt: skip
        if (stored := self._recorder.record(entry)) is not None:
            log.info("entry %d: nobody walked through; recorded as %d not_passed",
                     grant.seq, stored)  # fmt: skip

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {"unexpected_passages": self.unexpected}
