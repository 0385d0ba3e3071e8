"""Who may use the console and what each role may do.

- ``admin``, the central office: everything, every museum.
- ``manager``, one museum's manager: that museum's data, access codes for its
  gates, resolving its problems; network-wide actions (blocking a pass,
  publishing a list, shipping and delivering pass orders) stay with the office.
- ``viewer``: that museum's data, read only.

Passwords are argon2id hashes (argon2-cffi's defaults). A login is a random
token in the session cookie whose hash is stored (``console_session``), so
logging out ends it. Wrong passwords lock the name and the address out with
growing delays (the gates' ``Lockout``: three free tries, then 30 s doubling).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from firmware.protocol.access_codes import Lockout
from hub.console.models import ROLES, ConsoleModels

SESSION_IDLE_S = 8 * 3600.0

# What each role may do; every route names the one permission it needs.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"view", "block", "publish", "issue", "resolve", "audit", "orders"}),
    "manager": frozenset({"view", "issue", "resolve", "audit"}),
    "viewer": frozenset({"view"}),
}
_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(Exception):
    """An account that cannot be created as asked."""


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    museum: str | None  # None: every museum

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]

    def sees(self, museum: str | None) -> bool:
        """Whether this person may see ``museum``'s data (None: every museum's)."""
        return self.museum is None or self.museum == museum


def add_user(cm: ConsoleModels, name: str, role: str, museum: str | None, password: str,
             now: float) -> None:  # fmt: skip
    """Create an account; a manager or viewer belongs to exactly one museum."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if role == "admin" and museum:
        raise UserError("an office administrator sees every museum: give no --museum")
    if role != "admin" and not museum:
        raise UserError(f"a museum {role} needs --museum")
    if len(password) < 10:
        raise UserError("the password needs at least 10 characters")
    if not name or len(name) > 64 or not name.isprintable():
        raise UserError("the name must be 1 to 64 printable characters")
    if cm.user.get_or_none(cm.user.name == name) is not None:
        raise UserError(f"there is already an account {name!r}")
    cm.user.create(name=name, password_hash=_hasher.hash(password), role=role,
                   museum=museum or None, created_at=now)  # fmt: skip


def check_password(cm: ConsoleModels, name: str, password: str) -> Person | None:
    user = cm.user.get_or_none(cm.user.name == name)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return Person(user.name, user.role, user.museum) if user else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(cm: ConsoleModels, person: Person, now: float) -> str:
    token = secrets.token_urlsafe(32)
    cm.session.create(token_hash=_token_hash(token), user=person.name, created_at=now,
                      seen_at=now)  # fmt: skip
    return token


def session_person(cm: ConsoleModels, token: str | None, now: float) -> Person | None:
    """The person logged in with ``token``, if the session is still open."""
    if not token:
        return None
    s = cm.session
    row = s.get_or_none(s.token_hash == _token_hash(token))
    if row is None or now - row.seen_at > SESSION_IDLE_S:
        return None
    user = cm.user.get_or_none(cm.user.name == row.user)
    if user is None:
        return None
    s.update(seen_at=now).where(s.id == row.id).execute()
    return Person(user.name, user.role, user.museum)


def close_session(cm: ConsoleModels, token: str | None) -> None:
    if token:
        cm.session.delete().where(cm.session.token_hash == _token_hash(token)).execute()


class LoginThrottle:
    """Lockouts per account name and per client address (in memory: a restart forgives)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lockouts: dict[str, Lockout] = {}

    def wait_s(self, keys: tuple[str, ...], now: float) -> float:
        with self._lock:
            return max((self._lockouts[k].wait_s(now) for k in keys if k in self._lockouts),
                       default=0.0)  # fmt: skip

    def failed(self, keys: tuple[str, ...], now: float) -> None:
        with self._lock:
            for key in keys:
                self._lockouts.setdefault(key, Lockout()).failed(now)

    def succeeded(self, keys: tuple[str, ...]) -> None:
        with self._lock:
            for key in keys:
                self._lockouts.pop(key, None)
