"""Writing the journal from the gate: an entry is on disk before anything moves.

Every module that journals (admissions, passages, the staff desk's access
codes) goes through ``Recorder.record``. A failed write (disk full, I/O
error) is logged, lights the red LED and shows in the status; the next
write that succeeds clears it. Listeners hear every stored seq (sync pumps
the outbox after the tap is done).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from firmware.gate.outputs import Outputs
from firmware.journal.database import StorageError
from firmware.journal.journal import Entry, Journal, PassChange

log = logging.getLogger("portique.gate")


class Recorder:
    def __init__(self, journal: Journal, outputs: Outputs) -> None:
        self.journal, self._outputs = journal, outputs
        self.ok = True
        self.detail = ""
        self.time_trusted = True  # the last record's: was the clock above its floor
        self.on_stored: list[Callable[[int], None]] = []

    def record(self, entry: Entry, change: PassChange | None = None) -> int | None:
        """Journal ``entry``; its seq, or None when it could not be stored (logged, red LED)."""
        try:
            seq = self.journal.append(entry, change).seq
        except StorageError as exc:
            # Nothing durable, so nothing happens at the gate: no relay, red LED.
            log.error("%s; credential %s refused at the gate", exc, entry.credential)
            self.ok, self.detail = False, str(exc)
            self._outputs.signal_fault()
            return None
        if not self.ok:
            log.info("journal %s is writable again", self.journal.path)
            self.ok, self.detail = True, ""
            self._outputs.clear_fault()
        self.time_trusted = entry.time_trusted
        for listener in self.on_stored:
            listener(seq)
        return seq

    def status(self, _eventtime: float) -> dict[str, Any]:
        return {
            "journal_ok": self.ok,
            "journal_detail": self.detail,
            "journal_last_seq": self.journal.last_seq,
            "time_trusted": self.time_trusted,
        }
