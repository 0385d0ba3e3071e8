"""Setting a gate up with the central office's access code, and taking it down.

`portique provision` first checks everything it will need (the office and
root keys readable, the config and data folders writable, the broker
reachable with the given credentials), then checks the technician's code
offline (the office's public key ships with the install), then: pins the
root key for lists and hub messages, makes the gate's Ed25519 key
(owner-readable only), writes the configuration atomically, and only then
uses the code up, before announcing the gate's public key to the hub with
the code as proof. A typo or an unreachable broker therefore never burns a
code. Wrong codes are journaled and lock out with growing delays that
survive a restart.

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
from firmware.clock import SystemClock, gate_clock
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
    broker_ca_file: Path | None = None


# -- the access code ---------------------------------------------------------------------


def _door(request: Request) -> access_state.Door:
    return access_state.Door(request.museum, request.gate, request.data_dir, request.office_key)


def _gate_now(journal: Journal):  # noqa: ANN202 - Now
    return gate_clock(SystemClock(), journal.stored_floor()).now()


def check_code(request: Request) -> access.AccessCode:
    """The code's content if it opens this gate (not used up yet); ProvisionError otherwise.

    A refused code is journaled and counts towards the lockout.
    """
    request.data_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal.open(request.data_dir / JOURNAL_FILE)
    try:
        return access_state.check(
            _door(request), request.code, _gate_now(journal), journal.append,
            refused_roles={"cash": "this code is for cash mode, not for setting a gate up"},
            operator="technician",
        )  # fmt: skip
    except access.AccessCodeError as exc:
        raise _refusal(exc) from None
    finally:
        journal.close()


def consume_code(request: Request, code: access.AccessCode) -> None:
    """Use the code up, once the gate is set up: one journal record, ``provisioned``."""
    journal = Journal.open(request.data_dir / JOURNAL_FILE)
    try:
        now = _gate_now(journal)
        access_state.consume(_door(request), request.code, code, now, journal.append,
                             opened="provisioned", operator="technician")  # fmt: skip
    except access.AccessCodeError as exc:
        raise _refusal(exc) from None
    finally:
        journal.close()


def _refusal(exc: access.AccessCodeError) -> ProvisionError:
    if exc.code == "no_office_key":
        return ProvisionError(f"{exc}; the office key is installed with portique")
    if exc.code in ("locked", "state_damaged"):
        return ProvisionError(str(exc))
    later = f"; the next try is possible in {exc.wait_s:.0f} s" if exc.wait_s else ""
    return ProvisionError(f"access code refused: {exc}{later}")


# -- checks before anything is used up ------------------------------------------------


def preflight(request: Request) -> None:
    """Everything provisioning needs, checked before the code is: ProvisionError if not."""
    from firmware.trust import TrustError, read_public_key

    for what, path in (("office key", request.office_key), ("root key", request.root_key)):
        if path is not None:
            try:
                read_public_key(path)
            except TrustError as exc:
                raise ProvisionError(f"{what}: {exc}") from None
    for what, folder in (("configuration folder", request.config_path.parent),
                         ("data folder", request.data_dir)):  # fmt: skip
        _check_writable(what, folder)
    if request.broker_password_file is not None:
        try:
            request.broker_password_file.read_text()
        except OSError as exc:
            raise ProvisionError(f"broker password file {request.broker_password_file}: "
                                 f"{exc.strerror}") from None  # fmt: skip
    if request.broker_ca_file is not None and not request.broker_ca_file.is_file():
        raise ProvisionError(f"broker CA file {request.broker_ca_file} does not exist")
    if request.broker_host:
        from firmware.sync.enrol import probe

        problem = probe(broker_settings(request))
        if problem:
            raise ProvisionError(f"{problem}; nothing was changed and the code is still good")


def _check_writable(what: str, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".portique-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ProvisionError(f"{what} {folder} is not writable ({exc.strerror}); "
                             "nothing was changed, the code is still good") from None  # fmt: skip


def broker_user(request: Request) -> str:
    return request.broker_user or f"{request.museum}/{request.gate}"


def broker_settings(request: Request):  # noqa: ANN201 - SyncSettings, imported lazily
    from firmware.config import SyncSettings

    return SyncSettings(host=request.broker_host or "", port=request.broker_port,
                        tls=request.broker_tls, ca_file=request.broker_ca_file,
                        username=broker_user(request),
                        password_file=request.broker_password_file)  # fmt: skip


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
        user = broker_user(request)
        lines.append(f'username = "{user}"')
        if request.broker_password_file:
            lines.append(f'password_file = "{request.broker_password_file}"')
        if request.broker_ca_file:
            lines.append(f'ca_file = "{request.broker_ca_file}"')
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
# daemon.lock stays: the wiping command holds it until it is done.


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
