"""Talking to systemd: READY, WATCHDOG and STATUS over the notify socket.

The protocol is a datagram of ``KEY=value`` lines sent to the socket named in
``$NOTIFY_SOCKET`` (a path, or ``@name`` in the abstract namespace). Without
that variable (not started by systemd) every call does nothing. The watchdog
ping is sent from the gate's loop, so a loop that hangs stops pinging and
systemd restarts the service after ``WatchdogSec``.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("portique.systemd")


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._socket: socket.socket | None = None
        if self._address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def watchdog_interval_s(self) -> float | None:
        """Half of systemd's ``WatchdogSec`` (``$WATCHDOG_USEC``), as systemd advises."""
        usec = os.environ.get("WATCHDOG_USEC")
        pid = os.environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        return int(usec) / 2_000_000

    def notify(self, **fields: str) -> None:
        if self._socket is None:
            return
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        try:
            self._socket.sendto(message.encode(), self._address)
        except OSError as exc:  # systemd gone or socket full: the service goes on
            log.warning("systemd notify %s failed: %s", message.split("\n")[0], exc)

    def ready(self, status: str) -> None:
        self.notify(ready="1", status=status)

    def watchdog(self) -> None:
        self.notify(watchdog="1")

    def stopping(self) -> None:
        self.notify(stopping="1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
