"""Small worlds for the counter's tests: real keys, signed tariffs, a real journal file."""

from __future__ import annotations

from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.counter.tariffs import DOCUMENT_TYPE, sign_tariffs
from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.trust import TrustStore, certify, raw_public

T0 = 1_780_000_000.0  # 2026-05-28
YEAR_S = 365 * 86400.0
SINGLE = PassType("single", 1, 5)
DUO = PassType("duo", 2, 5)


def tariff_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "type": DOCUMENT_TYPE,
        "version": 3,
        "currency": "EUR",
        "issued_at": T0 - 86400,
        "not_before": T0 - 86400,
        "expires_at": T0 + YEAR_S,
        "pass_types": {"single": [1, 5], "duo": [2, 5]},
        "tariffs": {
            "normal": {"label": "Plein tarif", "pass_type": "single", "price_cents": 11900,
                       "vat_rate": "NULL"},
            "reduced": {"label": "Tarif réduit", "pass_type": "single", "price_cents": 9900,
                        "reduced": True, "categories": ["pupil", "student", "teacher",
                        "trainee", "disabled", "job_seeker", "museum_support"]},
            "duo": {"label": "Duo", "pass_type": "duo", "price_cents": 19900},
        },
    }  # fmt: skip
    body.update(overrides)
    return body


class Office:
    """The central office: a root key and a tariff signing key certified by it."""

    def __init__(self, purposes: tuple[str, ...] = ("tariffs",)) -> None:
        self.root = Ed25519PrivateKey.generate()
        self.key = Ed25519PrivateKey.generate()
        self.cert = certify(self.root, raw_public(self.key.public_key()), list(purposes),
                            T0 - YEAR_S, T0 + 2 * YEAR_S)  # fmt: skip

    def trust(self) -> TrustStore:
        return TrustStore(root=raw_public(self.root.public_key()))

    def sign(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return sign_tariffs(body or tariff_body(), self.key, self.cert)


def make_pass(
    state: PassState = PassState.STOCK,
    activated_on: date | None = None,
    expires_on: date | None = None,
    pass_type: PassType = SINGLE,
    serial: str = "04A1B2C3D4E5F6",
    number: str = "100200",
) -> PassRecord:
    return PassRecord(serial, number, "ID" + number, pass_type, state, activated_on, expires_on)
