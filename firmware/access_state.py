"""One try of an access code on this gate: its lockout, the codes used here, its record.

`portique provision` and the kiosk's staff login take codes on the same gate,
so they share one state file, ``<data_dir>/access.json`` (the nonces accepted
here and the wrong-code lockout), and record every try the same way: a
journal record of kind ``access_code`` whose reason is the refusal's code or
what the code opened. The lockout counts in wall-clock seconds, not
monotonic ones, so that it survives a restart of the gate or of the command.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware import access
from firmware.clock import Now
from firmware.durable import atomic_write
from firmware.journal.journal import Entry
from firmware.trust import TrustError, read_public_key

ACCESS_STATE = "access.json"


@dataclass(frozen=True)
class Door:
    """Where codes are tried: this gate's ids, its data directory and the office's key."""

    museum: str
    gate: str
    data_dir: Path
    office_key: Path


def _load(data_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((data_dir / ACCESS_STATE).read_text())
    except (OSError, ValueError):
        return {"failures": 0, "locked_until": 0.0, "used": []}


def _save(data_dir: Path, state: dict[str, Any]) -> None:
    atomic_write(data_dir / ACCESS_STATE, json.dumps(state))


def _entry(door: Door, text: str, now: Now, reason: str, admitted: bool,
                  operator: str | None) -> Entry:  # fmt: skip
    """The journal record of one try; it keeps only the code's first group, to find it again."""
    # Never billable; the UTC day is enough (provisioning has no time zone yet).
    day = datetime.fromtimestamp(now.wall, UTC).date().isoformat()
    return Entry(
        kind="access_code", wall=now.wall, monotonic=now.monotonic, time_trusted=now.trusted,
        day=day, museum=door.museum, gate=door.gate, credential_kind="access_code",
        credential=access.normalise(text)[: access.GROUP], admitted=admitted, reason=reason,
        operator=operator,
    )  # fmt: skip


def attempt(
    door: Door,
    text: str,
    now: Now,
    record: Callable[[Entry], object],
    opened: str,
    refused_roles: Mapping[str, str] | None = None,
    operator: str | None = None,
) -> access.AccessCode:
    """The code's content if it opens ``door`` now; AccessCodeError otherwise.

    Every try that gets as far as the check is handed to ``record`` (the
    journal), with ``opened`` as the reason of an accepted code. A code whose
    role is in ``refused_roles`` is refused as ``wrong_role`` with the
    message given there. ``operator`` names who tried; None: the code's
    role once its signature proved it.
    """
    door.data_dir.mkdir(parents=True, exist_ok=True)
    state = _load(door.data_dir)
    lockout = access.Lockout(state["failures"], state["locked_until"])
    wait = lockout.wait_s(now.wall)
    if wait:
        message = f"too many wrong codes: try again in {wait:.0f} s"
        raise access.AccessCodeError("locked", message, wait_s=wait)
    try:
        office_key = read_public_key(door.office_key)
    except TrustError as exc:
        raise access.AccessCodeError("no_office_key", str(exc)) from None
    try:
        code = access.check(text, office_key, door.museum, door.gate, now.wall,
                            set(state["used"]))  # fmt: skip
        if code.role in (refused_roles or {}):
            raise access.AccessCodeError("wrong_role", (refused_roles or {})[code.role], code.role)
    except access.AccessCodeError as exc:
        exc.wait_s = lockout.failed(now.wall)
        state.update(failures=lockout.failures, locked_until=lockout.locked_until)
        _save(door.data_dir, state)
        record(_entry(door, text, now, exc.code, False, operator or exc.role))
        raise
    lockout.succeeded()
    state.update(failures=0, locked_until=0.0, used=[*state["used"], code.nonce])
    _save(door.data_dir, state)
    record(_entry(door, text, now, opened, True, operator or code.role))
    return code
