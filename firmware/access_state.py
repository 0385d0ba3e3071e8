"""One try of an access code on this gate: its lockout, the codes used here, its record.

`portique provision` and the kiosk's staff login take codes on the same gate,
so they share one state file, ``<data_dir>/access.json`` (the nonces accepted
here and the wrong-code lockout), and record every try the same way: a
journal record of kind ``access_code`` whose reason is the refusal's code or
what the code opened, and, for an accepted code, its nonce in ``detail``.
The lockout counts in wall-clock seconds, not monotonic ones, so that it
survives a restart of the gate or of the command.

**Fails closed.** The journal is append-only and hash-chained, so it is the
source of truth: a missing state file is rebuilt from the journal's
``access_code`` records (fresh only when there are none, at first
provisioning), so emptying ``access.json`` cannot make a used code work
again nor lift a lockout. A state file that cannot be read refuses every code
(``state_damaged``) with a message to move it aside, after which it is rebuilt
the same way. Every write is durable (fsync of the file and its directory).

**Consumed last.** ``check`` proves a code without using it up; ``consume``
marks it used once the work it opens has succeeded (`portique provision`
checks keys, folders and the broker before it consumes the code).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware import access, strictjson
from firmware.clock import Now
from firmware.durable import atomic_write
from firmware.journal.journal import Entry
from firmware.trust import TrustError, read_public_key

ACCESS_STATE = "access.json"
JOURNAL_FILE = "journal.sqlite"


@dataclass(frozen=True)
class Door:
    """Where codes are tried: this gate's ids, its data directory and the office's key."""

    museum: str
    gate: str
    data_dir: Path
    office_key: Path


def _damaged(path: Path, why: str) -> access.AccessCodeError:
    return access.AccessCodeError(
        "state_damaged",
        f"access-code state {path} is damaged ({why}); no code is accepted until it is "
        f"moved aside (mv {path} {path}.damaged): the gate then rebuilds it from its journal",
    )


def _load(data_dir: Path) -> dict[str, Any]:
    path = data_dir / ACCESS_STATE
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return _from_journal(data_dir)
    except OSError as exc:
        raise _damaged(path, exc.strerror or str(exc)) from None
    try:
        state = strictjson.loads(text)
        state = {
            "failures": int(state["failures"]),
            "locked_until": float(state["locked_until"]),
            "used": [int(nonce) for nonce in state["used"]],
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise _damaged(path, str(exc) or "not the expected JSON") from None
    return state


def _from_journal(data_dir: Path) -> dict[str, Any]:
    """The state the journal's access_code records imply: used nonces, the lockout."""
    lockout, used = access.Lockout(), []
    path = data_dir / JOURNAL_FILE
    if path.exists():
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                rows = db.execute("SELECT wall, admitted, detail FROM record "
                                  "WHERE kind = 'access_code' ORDER BY seq").fetchall()  # fmt: skip
            finally:
                db.close()
        except sqlite3.Error as exc:
            raise _damaged(path, f"its journal cannot be read: {exc}") from None
        for wall, admitted, detail in rows:
            if admitted:
                lockout.succeeded()
                if detail and str(detail).isdigit():
                    used.append(int(detail))
            else:
                lockout.failed(wall)
    return {"failures": lockout.failures, "locked_until": lockout.locked_until, "used": used}


def _save(data_dir: Path, state: dict[str, Any]) -> None:
    atomic_write(data_dir / ACCESS_STATE, json.dumps(state), mode=0o600)


def _entry(door: Door, text: str, now: Now, reason: str, admitted: bool,
           operator: str | None, detail: str | None = None) -> Entry:  # fmt: skip
    """The journal record of one try; it keeps only the code's first group, to find it again."""
    # Never billable; the UTC day is enough (provisioning has no time zone yet).
    day = datetime.fromtimestamp(now.wall, UTC).date().isoformat()
    return Entry(
        kind="access_code", wall=now.wall, monotonic=now.monotonic, time_trusted=now.trusted,
        day=day, museum=door.museum, gate=door.gate, credential_kind="access_code",
        credential=access.normalise(text)[: access.GROUP], admitted=admitted, reason=reason,
        operator=operator, detail=detail,
    )  # fmt: skip


def check(
    door: Door,
    text: str,
    now: Now,
    record: Callable[[Entry], object],
    refused_roles: Mapping[str, str] | None = None,
    operator: str | None = None,
) -> access.AccessCode:
    """The code's content if it opens ``door`` now, not yet used up; AccessCodeError otherwise.

    A refused try is handed to ``record`` (the journal) and counts towards the
    lockout. A code whose role is in ``refused_roles`` is refused as
    ``wrong_role`` with the message given there. ``operator`` names who
    tried; None: the code's role once its signature proved it.
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
        record(_entry(door, text, now, exc.code, False, operator or exc.role))
        _save(door.data_dir, state)
        raise
    return code


def consume(door: Door, text: str, code: access.AccessCode, now: Now,
            record: Callable[[Entry], object], opened: str,
            operator: str | None = None) -> None:  # fmt: skip
    """Use ``code`` up: journaled with ``opened`` as the reason, its nonce kept."""
    state = _load(door.data_dir)
    if code.nonce in state["used"]:
        raise access.AccessCodeError("used", "this code has already been used on this gate",
                                     code.role)  # fmt: skip
    # The journal first: it is what the state is rebuilt from.
    record(_entry(door, text, now, opened, True, operator or code.role, str(code.nonce)))
    state.update(failures=0, locked_until=0.0, used=[*state["used"], code.nonce])
    _save(door.data_dir, state)


def attempt(
    door: Door,
    text: str,
    now: Now,
    record: Callable[[Entry], object],
    opened: str,
    refused_roles: Mapping[str, str] | None = None,
    operator: str | None = None,
) -> access.AccessCode:
    """``check`` then ``consume`` at once: for a code whose use cannot fail (a staff session)."""
    code = check(door, text, now, record, refused_roles, operator)
    consume(door, text, code, now, record, opened, operator)
    return code
