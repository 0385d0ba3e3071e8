"""The office's release notice on the gate: "a new version is available".

The hub carries the office's notice (version, date, notes) as a retained
``release`` message, signed in the ``release-notice`` domain by a key the
gate's root certified (``firmware/sync/client.py`` checks the signature: an
unsigned or forged notice never gets here). This module keeps the newest
notice across restarts and reports it, beside the version the gate runs, in
the health snapshot: staff see it on the status screen, technicians in
`portique status`, the office in the gates' status.

A notice older than the one kept is refused (a replayed or re-published old
notice must not hide a newer one); the same notice again (the broker hands
the retained message over at every connection) is taken without a word.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from firmware.durable import atomic_write
from firmware.events import ReleaseReceived
from firmware.gate.reactor import Reactor
from firmware.version import SOFTWARE_VERSION, newer

log = logging.getLogger("portique.gate")

RELEASE_FILE = "release.json"


@dataclass(frozen=True)
class Notice:
    issued_at: float
    version: str
    date: str
    notes: str


class ReleaseNotices:
    """Keeps the office's newest release notice and says whether it is newer than this gate."""

    def __init__(self, reactor: Reactor, path: Path, running: str = SOFTWARE_VERSION) -> None:
        self.path, self.running = path, running
        self.notice = self._load()
        reactor.register(ReleaseReceived, self._on_release)

    def _load(self) -> Notice | None:
        try:
            return Notice(**json.loads(self.path.read_text()))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            # Only a reminder is lost: the retained notice comes again at the next connection.
            log.error("release notice %s is unreadable (%s); waiting for the hub's", self.path, exc)
            return None

    def _on_release(self, event: ReleaseReceived, _eventtime: float) -> None:
        notice = Notice(event.issued_at, event.version, event.date, event.notes)
        held = self.notice
        if held == notice:
            return
        if held is not None and notice.issued_at <= held.issued_at:
            log.warning("release notice refused: version %s issued at %.0f is not newer than the "
                        "notice held (version %s issued at %.0f)", notice.version,
                        notice.issued_at, held.version, held.issued_at)  # fmt: skip
            return
        try:
            atomic_write(self.path, json.dumps(asdict(notice), sort_keys=True))
        except OSError as exc:
            log.error("release notice %s not saved: %s", self.path, exc)
        self.notice = notice
        if self.update_available:
            log.info("release notice: version %s of %s is available (this gate runs %s)",
                     notice.version, notice.date, self.running)  # fmt: skip
        else:
            log.info("release notice: version %s of %s; this gate runs %s, nothing to do",
                     notice.version, notice.date, self.running)  # fmt: skip

    @property
    def update_available(self) -> bool:
        return self.notice is not None and newer(self.notice.version, self.running)

    def status(self, _eventtime: float) -> dict[str, Any]:
        notice = self.notice
        return {
            "software_version": self.running,
            "update_available": self.update_available,
            "release_version": notice.version if notice else None,
            "release_date": notice.date if notice else None,
            "release_notes": notice.notes if notice else None,
        }
