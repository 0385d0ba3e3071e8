"""The pass list in force, from the gate's side: its freshness, and lists from the hub.

A list past its signed expiry is ``stale`` (staff are warned, known-valid
passes still admitted); past ``refuse_after_s`` more it is ``expired`` and
taps are refused ``list_expired`` unless staff force the entry. A list file
received from the hub is verified and applied here; a refused one leaves
the list in force untouched.
"""

from __future__ import annotations

import logging
from typing import Any

from firmware.events import ListReceived
from firmware.gate.reactor import Reactor
from firmware.gate.timekeeping import Timekeeper
from firmware.lists.manager import ListManager
from firmware.lists.verify import ListRejected

log = logging.getLogger("portique.gate")


class ListKeeper:
    def __init__(self, reactor: Reactor, lists: ListManager, time: Timekeeper,
                 refuse_after_s: float) -> None:  # fmt: skip
        self.lists, self._time, self.refuse_after_s = lists, time, refuse_after_s
        reactor.register(ListReceived, self._on_received)

    @property
    def version(self) -> int:
        return self.lists.version

    def freshness(self, wall: float) -> str:
        """``fresh``, ``stale`` (past its signed expiry: staff are warned) or ``expired``."""
        expires = self.lists.expires_at
        if not expires or wall <= expires:
            return "fresh"
        return "stale" if wall <= expires + self.refuse_after_s else "expired"

    def _on_received(self, event: ListReceived, _eventtime: float) -> None:
        log.info("list received, %d bytes (version %d)", len(event.data), event.version)
        self.apply(event.data)

    def apply(self, data: bytes) -> bool:
        """Verify and apply a list file received from the hub; the old one stays if refused."""
        now = self._time.now()
        try:
            header = self.lists.apply_bytes(data, now.wall, self._time.latest_issue())
        except ListRejected:
            return False  # logged and counted by the list manager
        self._time.raise_floor(header.issued_at)  # no later than latest_issue: checked
        return True

    def status(self, _eventtime: float) -> dict[str, Any]:
        lists = self.lists
        return {
            "list_version": lists.version,
            "list_issued_at": lists.issued_at or None,
            "list_expires_at": lists.expires_at or None,
            "list_freshness": self.freshness(self._time.now().wall),
            "list_refusals": dict(lists.rejections),
        }
