"""The German technical security unit (TSE, KassenSichV § 146a AO) behind a small interface.

A TSE signs each till transaction; the receipt shows its signature data as
a QR code. The counter asks its TSE (``Tse.sign``) before it commits a sale
and writes the answer into the sale's record. A TSE that does not answer, or
answers an error, never stops a sale: the record is marked ``tse: failed``
with the reason, and the receipt says the TSE failed (the law asks the
museum to document such outages; see ``docs/operations.md``).

Backends, chosen by name in config: ``none`` (France, Switzerland) and
``fiskaly`` (fiskaly's SIGN DE cloud TSE, ``fiskaly.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol


class TseError(Exception):
    """The TSE could not sign; ``code`` is stable (``unreachable``, ``refused``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TseTransaction:
    """What the TSE signs: one receipt's amounts by VAT rate and by payment type."""

    tx_id: str  # a UUID the counter chooses, so a repeated call is harmless
    amounts_per_vat_rate: tuple[tuple[str, int], ...]  # (VAT rate code, cents)
    amounts_per_payment_type: tuple[tuple[str, int], ...]  # ("CASH" or "NON_CASH", cents)
    receipt_type: str = "RECEIPT"


@dataclass(frozen=True)
class TseSignature:
    serial: str  # the TSE's serial number
    client: str  # the till's serial number as the TSE knows it
    number: int  # the TSE's transaction number
    counter: int  # the signature counter
    value: str  # the signature, base64
    algorithm: str
    time_start: str
    time_end: str
    qr_data: str  # what the receipt's QR code holds

    def as_dict(self) -> dict[str, Any]:
        return {"state": "signed", **asdict(self)}


class Tse(Protocol):
    """A backend must sign one transaction or raise TseError, within a bounded time."""

    name: str

    def sign(self, transaction: TseTransaction) -> TseSignature: ...


class NoTse:
    """No TSE: France and Switzerland do not ask for one."""

    name = "none"

    def sign(self, transaction: TseTransaction) -> TseSignature:  # pragma: no cover - never called
        raise TseError("none", "this counter has no TSE")


def sign_or_mark(tse: Tse | None, transaction: TseTransaction) -> dict[str, Any] | None:
    """The TSE's answer for a record: its signature data, or the failure; None without a TSE."""
    if tse is None or isinstance(tse, NoTse):
        return None
    try:
        return tse.sign(transaction).as_dict()
    except TseError as exc:
        return {"state": "failed", "code": exc.code, "message": str(exc)[:300]}
