"""Staff accounts: who may use the staff screens, with which role, and their PIN.

Accounts live in ``staff.toml`` in the data directory, written by
``portique staff add``. A PIN is never stored: only a scrypt hash with a
salt of its own, and the scrypt costs, so they can be raised later without
invalidating older hashes. Wrong PINs lock the PIN pad for growing delays.

Roles follow the tablet these gates replace (seed, section III.1): Contrôle
handles entries; Caisse and Stock also see statistics. Sales, pass orders
and the cash register stay on the desk's own system: a gate does not sell.
Two more roles have no account: a session opened with an access code from
the central office is a technician's (as Stock) or the cash desk's (as Caisse).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tomllib
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from firmware.durable import atomic_write


class Role(StrEnum):
    CONTROLE = "controle"
    CAISSE = "caisse"
    STOCK = "stock"
    TECHNICIAN = "technician"  # opened by an access code only, never an account's role
    CASH = "cash"  # likewise


ACCOUNT_ROLES = (Role.CONTROLE, Role.CAISSE, Role.STOCK)

# Stable names of the staff functions, as the screen and the loop know them.
ENTRIES = "entries"  # forced entry, typed pass number, paper pass, pass information
FIGURES = "figures"  # today's figures
STATUS = "status"  # data and device status: every role must see whether data is current

FUNCTIONS: dict[Role, frozenset[str]] = {
    Role.CONTROLE: frozenset({ENTRIES, STATUS}),
    Role.CAISSE: frozenset({ENTRIES, FIGURES, STATUS}),
    Role.STOCK: frozenset({ENTRIES, FIGURES, STATUS}),
}
# An access code's session may do on the screen what the role it stands for may.
FUNCTIONS[Role.TECHNICIAN] = FUNCTIONS[Role.STOCK]
FUNCTIONS[Role.CASH] = FUNCTIONS[Role.CAISSE]

PIN_DIGITS = (4, 8)
# scrypt costs: n=2**14, r=8 is the interactive setting of the scrypt paper, about
# 0.1 s on a Raspberry Pi 4, paid once per login on the loop thread.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class StaffError(Exception):
    """A staff file or account that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: Role
    pin_hash: str = ""  # none for a session opened by an access code

    @property
    def functions(self) -> frozenset[str]:
        return FUNCTIONS[self.role]


def check_pin(pin: str) -> None:
    """Raise StaffError unless ``pin`` is 4 to 8 digits."""
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise StaffError(f"a PIN is {low} to {high} digits")


def hash_pin(pin: str, n: int = SCRYPT_N, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) for ``pin`` with a fresh random salt."""
    salt = os.urandom(16) if salt is None else salt
    digest = _scrypt(pin, salt, n, SCRYPT_R, SCRYPT_P)
    return "$".join(("scrypt", str(n), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def verify_pin(pin: str, stored: str) -> bool:
    """Whether ``pin`` matches ``stored`` (compared in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = _scrypt(pin, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(actual, base64.b64decode(digest))
    except ValueError:
        return False


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_staff(path: Path) -> dict[str, StaffMember]:
    """The accounts in ``path`` by name; no file means no accounts."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StaffError(f"staff file {path} cannot be read ({exc})") from None
    staff: dict[str, StaffMember] = {}
    for index, entry in enumerate(data.get("staff", []), start=1):
        try:
            member = StaffMember(str(entry["name"]), Role(entry["role"]), str(entry["pin"]))
            if member.role not in ACCOUNT_ROLES:
                raise ValueError(member.role)
        except (KeyError, ValueError, TypeError):
            roles = ", ".join(ACCOUNT_ROLES)
            raise StaffError(
                f"staff file {path}: account {index} needs name, role ({roles}) and pin"
            ) from None
        staff[member.name] = member
    return staff


def save_staff(path: Path, staff: dict[str, StaffMember]) -> None:
    """Write every account to ``path`` atomically, readable by its owner only."""
    lines = ["# Staff accounts of this gate: `portique staff add` writes this file.\n"]
    for member in sorted(staff.values(), key=lambda m: m.name.casefold()):
        lines.append(
            f'\n[[staff]]\nname = {_toml_str(member.name)}\nrole = "{member.role}"\n'
            f'pin = "{member.pin_hash}"\n'
        )
    atomic_write(path, "".join(lines), mode=0o600)


def _toml_str(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def name_key(name: str) -> str:
    """``name`` as typed on the screen's keyboard matches it: no case, accents or extra spaces.

    "marie-helene" finds "Marie-Hélène", so staff type their name without the
    roster ever being shown to whoever stands at the gate.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def find_member(staff: dict[str, StaffMember], typed: str) -> StaffMember | None:
    """The account whose name is ``typed`` (see ``name_key``), if exactly one matches."""
    key = name_key(typed)
    found = [member for name, member in staff.items() if name_key(name) == key]
    return found[0] if len(found) == 1 else None


class LoginPace:
    """The login screen's own rate limit: after ``FREE`` failures in a row, one try per pause.

    It slows whoever stands at the screen, whatever name they type, without
    locking any account: a visitor mashing the keypad makes everyone wait a
    few seconds, never locks the staff out. A success clears it.
    """

    FREE = 3
    PAUSE_S = 5.0

    def __init__(self) -> None:
        self.failures = 0
        self._next_try = 0.0

    def wait_for(self, monotonic: float) -> float:
        """Seconds until the screen takes another attempt (0: now)."""
        return max(0.0, self._next_try - monotonic)

    def failed(self, monotonic: float) -> float:
        self.failures += 1
        if self.failures >= self.FREE:
            self._next_try = monotonic + self.PAUSE_S
        return self.wait_for(monotonic)

    def succeeded(self) -> None:
        self.failures, self._next_try = 0, 0.0


class PinGuard:
    """Counts wrong PINs for one account and locks it for growing delays.

    The first ``FREE`` wrong PINs cost nothing; each one after that locks the
    account for twice as long as the one before (30 s, 60 s, 2 min, ...), at
    most 15 minutes. A correct PIN clears the count. Each account has its own
    guard, so a visitor guessing one name locks out that account at most, and
    ``LoginPace`` slows trying every name.
    """

    FREE = 2
    FIRST_LOCK_S = 30.0
    MAX_LOCK_S = 900.0

    def __init__(self) -> None:
        self.failures = 0
        self._locked_until = 0.0

    def locked_for(self, monotonic: float) -> float:
        """Seconds until a PIN may be tried again (0: now)."""
        return max(0.0, self._locked_until - monotonic)

    def failed(self, monotonic: float) -> float:
        """Count a wrong PIN; return how long the pad is now locked."""
        self.failures += 1
        beyond = self.failures - self.FREE - 1
        if beyond >= 0:
            lock = min(self.FIRST_LOCK_S * 2**beyond, self.MAX_LOCK_S)
            self._locked_until = monotonic + lock
        return self.locked_for(monotonic)

    def succeeded(self) -> None:
        self.failures = 0
        self._locked_until = 0.0
