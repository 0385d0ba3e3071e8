"""pass Culture booking codes as both the gate's scanner and the hub's connector read them.

Defined in ``firmware/passculture/codes.py``; this is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.passculture.codes import CodeError, normalise

__all__ = ["CodeError", "normalise"]
