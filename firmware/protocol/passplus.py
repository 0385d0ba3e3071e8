"""Pass+ rules as both the gate and the hub apply them.

Defined in ``firmware/passplus/rules.py``; this is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.passplus.rules import (
    WALLETS,
    Campaign,
    Redemption,
    Refusal,
    Ticket,
    campaign_of,
    check,
)

__all__ = ["WALLETS", "Campaign", "Redemption", "Refusal", "Ticket", "campaign_of", "check"]
