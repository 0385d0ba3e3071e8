"""Access codes from the central office, checked by the gate offline.

A technician sets a gate up (and staff open cash mode) with a code the
central office issues for one museum, one gate and one role, with an
expiry. The office signs it with its access key (Ed25519); the gate carries
only the public half. The museum and gate ids are bound by the signature
but not carried in the code (the technician types them anyway), which keeps
the code to 24 groups of five characters:

    version | role | expires (minutes since 2000, 4 bytes) | nonce (4 bytes) | signature (64)

in base32 without padding. A code is used once per gate: the gate keeps
the nonces it has accepted. Wrong codes lock out with growing delays
(``Lockout``) and are journaled by the caller.
"""

from __future__ import annotations

import base64
import os
import re
import string
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.trust import signing_input, verify_signature

VERSION = 1
ROLES = ("technician", "cash")
_EPOCH = 946_684_800  # 2000-01-01T00:00:00Z
_BODY = struct.Struct(">BBII")
GROUP = 5
ALPHABET = string.ascii_uppercase + "234567"  # base32's
# Characters in a code: the body and the 64-byte signature in base32 without padding.
CODE_CHARS = -(-(_BODY.size + 64) * 8 // 5)
# Base32 has no 0, 1 or 8: a person typing them meant O, I or B.
_LOOKALIKES = str.maketrans("018", "OIB")


class AccessCodeError(Exception):
    """A code that does not open this gate; ``code`` is stable, the message is for people.

    ``role`` is the code's role once its signature proved it (expired, used), else None.
    ``wait_s`` is how long the lockout makes the next try wait. Besides the
    codes ``check`` gives, a try can fail as ``locked`` (nothing was tried) or
    ``no_office_key`` (nothing can be checked): see ``access_state.attempt``.
    """

    def __init__(self, code: str, message: str, role: str | None = None,
                 wait_s: float = 0.0) -> None:  # fmt: skip
        super().__init__(message)
        self.code, self.role, self.wait_s = code, role, wait_s


@dataclass(frozen=True)
class AccessCode:
    museum: str
    gate: str
    role: str
    expires_at: float
    nonce: int


def _message(museum: str, gate: str, role: str, expires_minutes: int, nonce: int) -> bytes:
    return signing_input("access-code", {
        "type": "access-code", "version": VERSION, "museum": museum, "gate": gate,
        "role": role, "expires": expires_minutes, "nonce": nonce,
    })  # fmt: skip


def issue(key: Ed25519PrivateKey, museum: str, gate: str, role: str, expires_at: float) -> str:
    """A new code, formatted in groups of five for reading aloud or typing."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    minutes = int((expires_at - _EPOCH) // 60)
    nonce = int.from_bytes(os.urandom(4), "big")
    signature = key.sign(_message(museum, gate, role, minutes, nonce))
    raw = _BODY.pack(VERSION, ROLES.index(role), minutes, nonce) + signature
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i : i + GROUP] for i in range(0, len(text), GROUP))


def check(text: str, office_key: bytes, museum: str, gate: str, now: float,
          used: set[int]) -> AccessCode:  # fmt: skip
    """The code's content if it opens ``museum``/``gate`` now; AccessCodeError otherwise."""
    raw = _decode(text)
    if len(raw) != _BODY.size + 64:
        raise AccessCodeError("malformed", "the code is too short or too long: check every group")
    version, role_index, minutes, nonce = _BODY.unpack(raw[: _BODY.size])
    if version != VERSION or role_index >= len(ROLES):
        raise AccessCodeError("malformed", "this code is not for this kind of gate")
    role = ROLES[role_index]
    if not verify_signature(office_key, raw[_BODY.size :],
                            _message(museum, gate, role, minutes, nonce)):  # fmt: skip
        raise AccessCodeError(
            "wrong_code", f"this code was not issued for museum {museum}, gate {gate}"
        )
    expires_at = _EPOCH + minutes * 60.0
    if now > expires_at:
        raise AccessCodeError(
            "expired", "this code has expired: ask the central office for a new one", role
        )
    if nonce in used:
        raise AccessCodeError("used", "this code has already been used on this gate", role)
    return AccessCode(museum, gate, role, expires_at, nonce)


def normalise(text: str) -> str:
    """``text`` as the code's base32 letters: no spaces or dashes, upper case, 0/1/8 as O/I/B."""
    return re.sub(r"[\s-]", "", text).upper().translate(_LOOKALIKES)


def _decode(text: str) -> bytes:
    letters = normalise(text)
    try:
        return base64.b32decode(letters + "=" * (-len(letters) % 8))
    except ValueError:
        raise AccessCodeError("malformed", "the code has characters that cannot be in it") from None


class Lockout:
    """Growing delays after wrong codes: 0, 0, 0, then 30 s doubling up to an hour.

    Times come from the caller's monotonic clock; the state is small enough
    for the caller to persist it, so a restart does not reset the count.
    """

    FREE_TRIES = 3
    FIRST_DELAY_S = 30.0
    MAX_DELAY_S = 3600.0

    def __init__(self, failures: int = 0, locked_until: float = 0.0) -> None:
        self.failures = failures
        self.locked_until = locked_until

    def wait_s(self, now: float) -> float:
        """Seconds before another try is allowed (0 when allowed now)."""
        return max(0.0, self.locked_until - now)

    def failed(self, now: float) -> float:
        """Record a wrong code; return the delay before the next try."""
        self.failures += 1
        extra = self.failures - self.FREE_TRIES
        delay = 0.0 if extra <= 0 else min(self.FIRST_DELAY_S * 2 ** (extra - 1), self.MAX_DELAY_S)
        self.locked_until = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures, self.locked_until = 0, 0.0
