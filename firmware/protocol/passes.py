"""A pass as both ends judge it: its record, state and type (the office renews by the
counter's rule, ``hub/renewals.py``).

Defined in ``firmware/gate/passes.py``; this is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.gate.passes import PassRecord, PassState, PassType

__all__ = ["PassRecord", "PassState", "PassType"]
