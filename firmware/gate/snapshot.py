"""One health snapshot of the gate, built from every module's ``status(eventtime)``.

Each module reports its own health (as Klipper's ``get_status``); this
collector merges them, and every consumer renders that one snapshot:
``status.json`` and the Prometheus text file (``firmware/status.py``), the
MQTT status message (``firmware/sync/link.py``) and the staff's status
screen (``firmware/gate/desk.py``). A new status field is added to the
module that owns it, and appears everywhere.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from firmware import status as status_file
from firmware.gate.reactor import Reactor
from firmware.gate.timekeeping import Timekeeper

log = logging.getLogger("portique.gate")


class Reports(Protocol):
    def status(self, eventtime: float) -> dict[str, Any]: ...


class StatusCollector:
    def __init__(self, reactor: Reactor, time: Timekeeper, where: tuple[str, str]) -> None:
        self._reactor, self._time = reactor, time
        self.museum, self.gate = where
        self.modules: list[Reports] = []
        # Called with the snapshot every few seconds and at the stop (the status file).
        self.on_status: Callable[[dict[str, Any]], None] | None = None
        self._reported_health: tuple[object, ...] | None = None
        reactor.on_start(lambda eventtime: reactor.at(eventtime, self._tick))
        reactor.on_stop(lambda _eventtime: self.report(running=False))
        reactor.after_each_event(lambda _eventtime: self._report_health_change())

    def add(self, modules: Sequence[Reports]) -> None:
        self.modules.extend(modules)

    def health(self) -> dict[str, Any]:
        """Every module's status, merged; a key reported twice is a programming error."""
        eventtime = self._reactor.monotonic()
        merged: dict[str, Any] = {}
        for module in self.modules:
            items = module.status(eventtime)
            if twice := merged.keys() & items.keys():
                raise ValueError(f"status keys {sorted(twice)} reported twice")
            merged.update(items)
        return merged

    def snapshot(self, running: bool = True) -> dict[str, Any]:
        """The health snapshot with who wrote it and when, read on the reactor's thread."""
        return {
            "museum": self.museum,
            "gate": self.gate,
            "running": running,
            "pid": os.getpid(),
            "written_at": self._time.now().wall,
            **self.health(),
        }

    def report(self, running: bool = True) -> None:
        """Hand the snapshot to ``on_status`` (the status file, Prometheus)."""
        if self.on_status is None:
            return
        try:
            document = self.snapshot(running)
            self._reported_health = _health_key(document)
            self.on_status(document)
        except OSError as exc:  # a full disk must not stop the gate
            log.error("status not written: %s", exc)

    def _report_health_change(self) -> None:
        # Health changes (reader, display, journal, sync, clock, list) are written
        # at once: a monitor must not read "reader up" during an unplug.
        if self.on_status is not None and _health_key(self.health()) != self._reported_health:
            self.report()

    def _tick(self, eventtime: float) -> float:
        self.report()
        return eventtime + status_file.INTERVAL_S


def _health_key(document: dict[str, Any]) -> tuple[object, ...]:
    """The health items whose change is written at once, not at the next heartbeat."""
    return tuple(document.get(key) for key in status_file.HEALTH_KEYS)
