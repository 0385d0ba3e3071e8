"""Amounts of money: integer cents everywhere, parsed once from what a person typed."""

from __future__ import annotations

import re

# No single pass, voucher, float or counted till holds more than this: a typo
# (an extra zero, a card number typed in the amount field) is refused, not recorded.
MAX_CENTS = 100_000_00  # 100 000.00 in the museum's currency

_AMOUNT = re.compile(r"(?P<units>[0-9]{1,9})(?:[.,](?P<cents>[0-9]{1,2}))?")


class AmountError(ValueError):
    """An amount that cannot be right; ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_amount(text: str, what: str = "amount") -> int:
    """Cents for ``text`` such as ``"12"``, ``"12.5"`` or ``"12,50"``; AmountError otherwise."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if cleaned.startswith("-"):
        raise AmountError("negative_amount", f"{what} {text!r} is negative")
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise AmountError("malformed_amount", f"{what} {text!r} is not an amount such as 12,50")
    cents = int(match["units"]) * 100 + int((match["cents"] or "0").ljust(2, "0"))
    return check_cents(cents, what)


def check_cents(cents: object, what: str = "amount") -> int:
    """``cents`` if it is a whole, non-negative, plausible number of cents."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise AmountError("malformed_amount", f"{what} {cents!r} is not a whole number of cents")
    if cents < 0:
        raise AmountError("negative_amount", f"{what} {format_cents(cents)} is negative")
    if cents > MAX_CENTS:
        raise AmountError(
            "absurd_amount",
            f"{what} {format_cents(cents)} is more than {format_cents(MAX_CENTS)}: a typo?",
        )
    return cents


def format_cents(cents: int) -> str:
    """``1250`` → ``"12.50"`` (the receipt adds the currency)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
