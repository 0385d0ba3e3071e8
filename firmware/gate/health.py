"""The reader's and the screen's health, as they report it to the reactor."""

from __future__ import annotations

import logging
from typing import Any

from firmware.events import DisplayFailed, DisplayStarted, ReaderHealth
from firmware.gate.reactor import Reactor

log = logging.getLogger("portique.gate")


class DeviceHealth:
    def __init__(self, reactor: Reactor) -> None:
        self.reader_up: bool | None = None  # None until the reader first reports
        self.reader_detail = "not started"
        self.display_up: bool | None = None  # None: no screen configured or not reported yet
        self.display_detail = "not started"
        self.reader_reconnects = 0  # times the reader came back after being lost
        self.display_failures = 0
        reactor.register(ReaderHealth, self._on_reader)
        reactor.register(DisplayStarted, self._on_display_started)
        reactor.register(DisplayFailed, self._on_display_failed)

    @property
    def screen_up(self) -> bool:
        """A screen is showing and taking touches (so it can ask for a children count)."""
        return bool(self.display_up)

    def _on_reader(self, event: ReaderHealth, _eventtime: float) -> None:
        # One line per change: a reader retried every second while unplugged stays quiet.
        if event.up != self.reader_up:
            (log.info if event.up else log.error)(
                "reader %s: %s", "up" if event.up else "down", event.detail
            )
            if event.up and self.reader_up is False:
                self.reader_reconnects += 1
        self.reader_up, self.reader_detail = event.up, event.detail

    def _on_display_started(self, event: DisplayStarted, _eventtime: float) -> None:
        log.info("display up: %s", event.detail)
        self.display_up, self.display_detail = True, event.detail

    def _on_display_failed(self, event: DisplayFailed, _eventtime: float) -> None:
        log.error(
            "display failed: %s; the gate admits without a screen "
            "(LEDs and buzzer, no children count)",
            event.detail,
        )
        self.display_up, self.display_detail = False, event.detail
        self.display_failures += 1

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {
            "reader_up": bool(self.reader_up),  # not reported yet counts as down
            "reader_detail": self.reader_detail,
            "display_up": self.display_up,
            "display_detail": self.display_detail,
            "reader_reconnects": self.reader_reconnects,
            "display_failures": self.display_failures,
        }
