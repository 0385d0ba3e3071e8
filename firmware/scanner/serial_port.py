"""A scanner in serial mode (USB CDC or RS-232), read with pyserial."""

from __future__ import annotations

import logging
import threading

import serial

from firmware.scanner import LineBuffer, OnLine

log = logging.getLogger("portique.scanner")


class SerialScanner:
    def __init__(self, port: str, on_line: OnLine, baudrate: int = 9600) -> None:
        self.port, self.baudrate = port, baudrate
        self._lines = LineBuffer(port, on_line)
        self._serial: serial.Serial | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            # A short read timeout so stop() is noticed; lines end at CR/LF, not at timeouts.
            self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2)
        except serial.SerialException as exc:
            raise OSError(f"scanner {self.port}: cannot open it ({exc})") from exc
        self._thread = threading.Thread(target=self._read, name="scanner-serial", daemon=True)
        self._thread.start()
        log.info("scanner: reading %s at %d baud", self.port, self.baudrate)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._serial is not None:
            self._serial.close()

    def _read(self) -> None:
        assert self._serial is not None
        while not self._stop.is_set():
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except (serial.SerialException, OSError) as exc:
                log.warning("scanner %s: lost (%s)", self.port, exc)
                return
            if data:
                self._lines.feed(data)
