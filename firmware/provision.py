"""Setting a gate up with the central office's access code, and taking it down.

`portique provision` checks the technician's code offline (the office's
public key ships with the install), then: pins the root key for lists and
hub messages, makes the gate's Ed25519 key (owner-readable only), writes the
configuration atomically, and announces the gate's public key to the hub
with the code as proof. Wrong codes are journaled and lock out with growing
delays that survive a restart.

`portique deprovision` wipes keys and local data only when the hub has
acknowledged every record, or with ``--force`` after exporting the records
it has not acknowledged to a file.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware import access, access_state
from firmware.access_state import ACCESS_STATE
from firmware.clock import RELEASE_FLOOR, FlooredClock, SystemClock
from firmware.durable import atomic_write
from firmware.journal.journal import COLUMNS, Journal

SERVICE_USER = "portique"
JOURNAL_FILE = "journal.sqlite"


class ProvisionError(Exception):
    """Provisioning cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Request:
    museum: str
    gate: str
    code: str
    office_key: Path
    config_path: Path
    data_dir: Path
    root_key: Path | None = None
    reader: str = "tty:AMA0:pn532"
    pin_factory: str = "lgpio"
    display: bool = True
    broker_host: str | None = None
    broker_port: int = 8883
    broker_tls: bool = True
    broker_user: str | None = None
    broker_password_file: Path | None = None


# -- the access code ---------------------------------------------------------------------


def check_code(request: Request) -> access.AccessCode:
    """The code's content if it opens this gate; ProvisionError (journaled) otherwise."""
    door = access_state.Door(request.museum, request.gate, request.data_dir, request.office_key)
    request.data_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal.open(request.data_dir / JOURNAL_FILE)
    try:
        now = FlooredClock(SystemClock(), floor=max(journal.stored_floor(), RELEASE_FLOOR)).now()
        return access_state.attempt(
            door, request.code, now, journal.append, opened="provisioned",
            refused_roles={"cash": "this code is for cash mode, not for setting a gate up"},
            operator="technician",
        )  # fmt: skip
    except access.AccessCodeError as exc:
        if exc.code == "no_office_key":
            raise ProvisionError(f"{exc}; the office key is installed with portique") from None
        if exc.code == "locked":
            raise ProvisionError(str(exc)) from None
        later = f"; the next try is possible in {exc.wait_s:.0f} s" if exc.wait_s else ""
        raise ProvisionError(f"access code refused: {exc}{later}") from None
    finally:
        journal.close()


# -- the gate's files -----------------------------------------------------------------


def config_text(request: Request, root_key: Path | None) -> str:
    lines = [
        "# Written by `portique provision`; every key is documented in",
        "# /opt/portique/provisioning/portique.example.toml.",
        "",
        "[gate]",
        f'museum = "{request.museum}"',
        f'gate = "{request.gate}"',
        f'data_dir = "{request.data_dir}"',
        "",
        "[reader]",
        f'path = "{request.reader}"',
        "",
        "[gpio]",
        f'pin_factory = "{request.pin_factory}"',
        "",
        "[lists]",
    ]
    if root_key is not None:
        lines.append(f'root_key = "{root_key}"')
    # A gate has its touch screen unless the technician says otherwise (--no-display).
    lines += ["", "[display]", f"enabled = {'true' if request.display else 'false'}"]
    if request.broker_host:
        lines += ["", "[sync]", f'host = "{request.broker_host}"', f"port = {request.broker_port}",
                  f"tls = {'true' if request.broker_tls else 'false'}"]  # fmt: skip
        user = request.broker_user or f"{request.museum}/{request.gate}"
        lines.append(f'username = "{user}"')
        if request.broker_password_file:
            lines.append(f'password_file = "{request.broker_password_file}"')
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text, mode)


def hand_to_service_user(paths: list[Path]) -> None:
    """Give the daemon's files to its user when it exists (install.sh creates it)."""
    try:
        user = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        return
    for path in paths:
        if path.exists():
            os.chown(path, user.pw_uid, user.pw_gid)


# -- deprovisioning ---------------------------------------------------------------------

WIPED = ("gate.key", "gate.pub", "journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm",
         "lists.sqlite", "lists.sqlite-wal", "lists.sqlite-shm", "trust.json", "staff.toml",
         "status.json", ACCESS_STATE)  # fmt: skip


def unacknowledged(journal: Journal) -> list[dict[str, Any]]:
    from firmware.journal.outbox import Outbox

    outbox = Outbox(journal)
    return outbox.records(outbox.acked_seq, max(0, journal.last_seq - outbox.acked_seq))


def export_records(records: list[dict[str, Any]], path: Path) -> None:
    text = "".join(json.dumps({c: r[c] for c in COLUMNS}, sort_keys=True) + "\n" for r in records)
    write_atomically(path, text, mode=0o600)


def wipe(data_dir: Path, config_path: Path) -> list[Path]:
    removed = []
    for name in WIPED:
        path = data_dir / name
        if path.exists():
            path.unlink()
            removed.append(path)
    if (data_dir / "lists").exists():
        shutil.rmtree(data_dir / "lists")
        removed.append(data_dir / "lists")
    if config_path.exists():
        config_path.unlink()
        removed.append(config_path)
    return removed
