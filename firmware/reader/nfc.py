"""The reader thread: polls a PN532 (or nfcpy's UDP simulation) and posts taps and health.

Only the card's UID, read during NFC-A discovery, is used. The gate decides
from the serial alone, so the card is never activated (no ``clf.connect``, no
``nfc.tag.activate``): a poll stays short, and a card whose memory cannot be
read still gives its serial.

The thread never dies on its own: a reader that cannot be opened, stops
answering, answers garbage or raises anything unexpected is reported
(``ReaderHealth``; the loop logs the change in one line), closed, and opened
again after a back-off that doubles up to ``retry_max_s`` (1 s by default, so
a reader plugged back in is polling again within about a second).

A card resting on the reader through such a glitch stays one tap: the time
the reader was away does not count as the card being away (``Presence``).

Under systemd the daemon is a session leader without a controlling terminal,
and a tty opened without ``O_NOCTTY`` becomes its controlling terminal: a USB
reader unplugged then hangs it up and the kernel sends SIGHUP, which kills
the process. pyserial opens with ``O_NOCTTY``, but nfcpy 1.0.4 probes each
candidate port with a plain ``open()`` first (``transport.TTY.find``);
``_probe_without_ctty`` replaces that one ``open`` (see below).
"""

from __future__ import annotations

import logging
import os
import termios
import threading
from collections.abc import Callable
from typing import IO, Any

import nfc
import nfc.clf
import nfc.clf.transport
from nfc.clf import RemoteTarget

from firmware.clock import Clock
from firmware.config import ReaderSettings
from firmware.events import CardTapped, ReaderHealth
from firmware.protocol.serials import VALID_SERIAL_BYTES
from firmware.reader.presence import Presence

log = logging.getLogger("portique.reader")

# NFCID1 lengths allowed by ISO/IEC 14443-3 (single, double, triple size).
VALID_SERIAL_LENGTHS = VALID_SERIAL_BYTES  # the reader's name for it

# One sense may block for 1.0 s (nfcpy's udp driver waiting for a card, the
# PN532 command timeout); stop() waits for that one, not more.
STOP_JOIN_S = 1.2


# What a reader that went away or talks nonsense raises inside nfcpy: OSError
# (pyserial's SerialException too) for a port that vanished or a reply that never
# came, termios.error when flushing a hung-up port, IndexError and ValueError for
# a reply cut short or malformed. Each is a lost reader, not a bug: one line, reopen.
_READER_LOST = (OSError, termios.error, IndexError, ValueError, nfc.clf.Error)


def _probe_without_ctty(file: str, *args: Any, **kwargs: Any) -> IO[Any]:
    """``open`` as nfcpy's port probe calls it, plus ``O_NOCTTY`` (see the module docstring)."""
    if args or kwargs:
        return open(file, *args, **kwargs)  # noqa: SIM115 - not the probe: unchanged
    return os.fdopen(os.open(file, os.O_RDONLY | os.O_NOCTTY | os.O_CLOEXEC))


# A module global shadows the builtin for that module alone; the probe is the only
# open() in nfc.clf.transport (checked by tests/test_reader_tty.py).
nfc.clf.transport.open = _probe_without_ctty  # type: ignore[attr-defined]


class _ReaderDown(Exception):
    """The reader could not be opened or stopped answering; the message is the health detail."""


class _Backoff:
    """Delays between reopening attempts: doubling from ``initial_s`` up to ``max_s``."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self._initial_s = initial_s
        self._max_s = max(max_s, initial_s)
        self._delay_s = initial_s

    def next(self) -> float:
        delay = self._delay_s
        self._delay_s = min(delay * 2, self._max_s)
        return delay

    def reset(self) -> None:
        self._delay_s = self._initial_s


def format_serial(serial: bytes) -> str:
    """A serial as the gate's logs write it: 04:A1:B2:C3."""
    return serial.hex(":").upper() if serial else "(empty)"


def _why(exc: BaseException) -> str:
    """An exception in a few words: its type and message (nfcpy raises some without one)."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _not_found_hint(path: str) -> str:
    # nfcpy says the same for an unplugged reader and for a mistyped path; tell them apart.
    if path.split(":")[0] in ("tty", "usb", "udp", "com"):
        return "no reader found there"
    return "not a reader path (expected e.g. tty:AMA0:pn532, tty:USB0:pn532 or udp:HOST:PORT)"


class NfcReader:
    """Owns the contactless frontend in one daemon thread; ``start()`` once, ``stop()`` once."""

    def __init__(
        self, settings: ReaderSettings, post: Callable[[object], None], clock: Clock
    ) -> None:
        self._settings = settings
        self._path = settings.path
        self._post = post
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._presence = Presence(settings.removal_ms / 1000)
        self._backoff = _Backoff(settings.retry_initial_s, settings.retry_max_s)

    def start(self) -> None:
        """Start polling in a daemon thread (which opens the reader)."""
        if self._thread is not None:
            raise RuntimeError(f"reader {self._path}: already started")
        # A daemon thread, so a sense blocked in the driver never holds up the process exit.
        self._thread = threading.Thread(target=self._run, name="portique-reader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_JOIN_S) -> None:
        """Stop polling and close the reader; returns within ``timeout`` seconds."""
        self._stop.set()
        if self._thread is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            # nfcpy's close() takes the lock held by a running sense(), so closing
            # from here would block too; the thread closes it when the sense returns.
            log.warning(
                "reader %s: still in a poll after %.1f s; it closes when done", self._path, timeout
            )

    # Everything below runs in the reader thread.

    def _run(self) -> None:
        log.info("reader %s: thread started", self._path)
        while not self._stop.is_set():
            detail = self._attempt()
            if detail is not None:
                self._wait_before_retry(detail)
        log.info("reader %s: thread stopped", self._path)

    def _attempt(self) -> str | None:
        """Open the reader and poll until stopped; return what went wrong, None when stopped."""
        try:
            self._session()
        except _ReaderDown as down:
            return str(down)
        except Exception as exc:  # anything else must not end the thread: report and retry
            log.exception("reader %s: unexpected error", self._path)
            return f"reader {self._path} failed unexpectedly: {exc!r}"
        return None

    def _session(self) -> None:
        clf = self._open()
        try:
            log.debug("reader %s: ready (%s)", self._path, clf)
            # The time it was away does not count as cards being away: one held
            # through the glitch is still the same tap.
            self._presence.resume(self._clock.monotonic())
            self._post_safely(
                ReaderHealth(True, f"reader {self._path} ready ({clf})", self._clock.monotonic())
            )
            self._poll(clf)
        except _READER_LOST as exc:  # unplugged, silent or talking nonsense
            self._presence.pause(self._clock.monotonic())
            raise _ReaderDown(f"reader {self._path} stopped answering: {_why(exc)}") from exc
        finally:
            self._close(clf)

    def _open(self) -> nfc.ContactlessFrontend:
        clf = nfc.ContactlessFrontend()
        try:
            found = clf.open(self._path)
        except Exception as exc:  # OSError (EACCES, EBUSY...), or ValueError for a malformed path
            raise _ReaderDown(f"reader {self._path} cannot be opened: {_why(exc)}") from exc
        if not found:
            raise _ReaderDown(
                f"reader {self._path} cannot be opened: {_not_found_hint(self._path)}"
            )
        return clf

    def _poll(self, clf: nfc.ContactlessFrontend) -> None:
        interval_s = self._settings.poll_interval_ms / 1000
        while not self._stop.is_set():
            serial = self._sense(clf)
            # The reader answered, so a later failure starts again from the shortest delay.
            self._backoff.reset()
            now = self._clock.monotonic()
            if serial is None:
                self._presence.nothing_seen(now)
            elif self._presence.seen(serial, now):
                self._tap(serial, now)
            self._stop.wait(interval_s)

    def _sense(self, clf: nfc.ContactlessFrontend) -> bytes | None:
        """The UID of a card in the field, None when there is none."""
        try:
            # iterations=1: we pace the polls ourselves (nfcpy would sleep between iterations).
            target = clf.sense(RemoteTarget("106A"), iterations=1)
        except nfc.clf.CommunicationError as exc:
            # nfcpy already swallows most of these: a card taken away mid-read is no card.
            log.debug("reader %s: card lost during discovery: %s", self._path, exc)
            return None
        if target is None:
            return None
        # A Type 1 tag gives no NFCID1 at discovery; an empty serial lets the gate
        # journal and refuse it like any other serial it cannot use.
        return bytes(target.sdd_res) if target.sdd_res is not None else b""

    def _tap(self, serial: bytes, now: float) -> None:
        if len(serial) not in VALID_SERIAL_LENGTHS:
            # Still posted: the gate journals and refuses it, so the visitor gets an answer.
            log.warning(
                "reader %s: card serial %s has %d bytes, not 4, 7 or 10",
                self._path,
                format_serial(serial),
                len(serial),
            )
        else:
            log.debug("reader %s: card %s tapped", self._path, format_serial(serial))
        self._post_safely(CardTapped(serial, now))

    def _wait_before_retry(self, detail: str) -> None:
        delay_s = self._backoff.next()
        # The loop logs the change of health once; every retry would flood the journal.
        log.debug("%s; retrying in %.1f s", detail, delay_s)
        self._post_safely(ReaderHealth(False, detail, self._clock.monotonic()))
        self._stop.wait(delay_s)  # wakes at once on stop()

    def _close(self, clf: nfc.ContactlessFrontend) -> None:
        try:
            clf.close()
        except Exception as exc:  # a reader that is gone fails to close; nothing left to do
            log.debug("reader %s: closing failed: %s", self._path, _why(exc))

    def _post_safely(self, event: object) -> None:
        # A failing consumer must not be mistaken for a failing reader.
        try:
            self._post(event)
        except Exception:
            log.exception("reader %s: posting %r failed", self._path, event)
