"""A scanner in keyboard mode, read from its own input device with python-evdev.

The device is grabbed: its keystrokes reach this reader only, never the
screen or a console. Find the device by its stable path, e.g.
``/dev/input/by-id/usb-<vendor>_<model>-event-kbd``.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import evdev

from firmware.scanner import MAX_LINE, OnLine, ScannedLine
from firmware.scanner.keymap import KeyDecoder

log = logging.getLogger("portique.scanner")


class KeyboardScanner:
    def __init__(self, path: str, layout: str, on_line: OnLine) -> None:
        self.path, self.on_line = path, on_line
        self._decoder = KeyDecoder(layout, MAX_LINE)
        self._device: evdev.InputDevice | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open and grab the device (raises OSError naming it when that fails)."""
        try:
            device = evdev.InputDevice(self.path)
            device.grab()
        except OSError as exc:
            raise OSError(f"scanner {self.path}: cannot open and grab it ({exc.strerror})") from exc
        self._device = device
        self._thread = threading.Thread(target=self._read, name="scanner-kbd", daemon=True)
        self._thread.start()
        log.info("scanner: reading %s (%s), grabbed", self.path, device.name)

    def stop(self) -> None:
        if self._device is not None:
            device, self._device = self._device, None
            with contextlib.suppress(OSError):  # unplugged: nothing to give back
                device.ungrab()
            device.close()

    def _read(self) -> None:
        device = self._device
        assert device is not None
        try:
            for event in device.read_loop():
                line = self._decoder.feed(event)
                if line:
                    data = line.encode("utf-8")[: MAX_LINE + 1]
                    self.on_line(ScannedLine(data, self.path, self._decoder.cut))
        except OSError as exc:
            if self._device is not None:
                log.warning("scanner %s: lost (%s)", self.path, exc.strerror)
