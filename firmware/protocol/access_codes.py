"""The central office's access codes: issued by the office (``portique-hub``), checked by gates.

Defined in ``firmware/access.py``; this is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.access import (
    ROLES,
    AccessCode,
    AccessCodeError,
    Lockout,
    check,
    issue,
    normalise,
)

__all__ = ["ROLES", "AccessCode", "AccessCodeError", "Lockout", "check", "issue", "normalise"]
