"""Tariffs: what a pass costs, as a document signed by the central office.

Like the pass list, tariffs are data the office signs, never settings a
museum types: the list of tariffs (normal, reduced, ...), their prices, the
reduced-tariff categories each accepts and the pass type each sells. The
document names its type (``portique-tariffs``), its version and its validity
period, and is signed by a key whose certificate grants the ``tariffs``
purpose, so a key that may sign lists or hub messages cannot sign prices.

A missing, unsigned, forged or expired tariff document blocks *sales* with a
clear message (``TariffsUnavailable``); it never touches entries, which do
not read it.

    {"tariffs": {body}, "signer": key id, "signature": base64,
     "certificates": [root-signed certificate of the signer]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.counter.money import AmountError, check_cents
from firmware.trust import (
    TrustError,
    TrustStore,
    b64,
    key_id,
    raw_public,
    signing_input,
    unb64,
)

DOCUMENT_TYPE = "portique-tariffs"
PURPOSE = "tariffs"
MAX_DOCUMENT_BYTES = 1 << 20

# The seed's reduced-tariff categories (tablet guide, "Vente"): the screen asks the
# cashier to confirm the buyer belongs to one of them.
CATEGORIES = (
    "pupil", "student", "teacher", "trainee", "disabled", "job_seeker", "museum_support",
)  # fmt: skip
# The VAT rates a German TSE knows (fiskaly's ``vat_rate`` values); museum entry is often
# exempt (NULL), which is the office's call, per tariff.
VAT_RATES = ("NORMAL", "REDUCED_1", "SPECIAL_RATE_1", "SPECIAL_RATE_2", "NULL")


class TariffsUnavailable(Exception):
    """No tariffs may be used for a sale; ``code`` is stable, the message says what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Tariff:
    code: str
    label: str
    pass_type: str  # the pass type this tariff sells
    price_cents: int
    reduced: bool
    categories: tuple[str, ...]  # who may have the reduced tariff; empty when not reduced
    vat_rate: str


@dataclass(frozen=True)
class Tariffs:
    version: int
    currency: str
    issued_at: float
    not_before: float
    expires_at: float
    tariffs: dict[str, Tariff]
    pass_types: dict[str, tuple[int, int]]  # code → (persons, children)
    signer: str

    def for_pass_type(self, pass_type: str) -> list[Tariff]:
        """The tariffs that sell ``pass_type``, normal ones first."""
        found = [t for t in self.tariffs.values() if t.pass_type == pass_type]
        return sorted(found, key=lambda t: (t.reduced, t.code))


# -- the office side ------------------------------------------------------------


def sign_tariffs(
    body: dict[str, Any], key: Ed25519PrivateKey, certificate: dict[str, Any]
) -> dict[str, Any]:
    """The signed document for ``body``; ``certificate`` is the key's root-signed certificate."""
    parse_body(body, signer="")  # the office never signs what a gate would refuse
    signer = key_id(raw_public(key.public_key()))
    return {
        "tariffs": body,
        "signer": signer,
        "signature": b64(key.sign(_signed_bytes(body))),
        "certificates": [certificate],
    }


# -- the gate side --------------------------------------------------------------


def _signed_bytes(body: dict[str, Any]) -> bytes:
    # Signed in the ``tariffs`` domain of firmware/trust.py: no signature made for a
    # list, a certificate or a message verifies as tariffs, nor the other way round.
    return signing_input("tariffs", body)


def verify_document(document: object, trust: TrustStore, now: float) -> dict[str, Any]:
    """The body of a tariff document signed by a key certified for ``tariffs``.

    Raises TariffsUnavailable (``unsigned``, ``bad_signature``, ``unknown_key``,
    ``wrong_purpose``, ``expired_key``, ``revoked_key``, ``malformed``).
    """
    if not isinstance(document, dict) or not isinstance(document.get("tariffs"), dict):
        raise TariffsUnavailable("malformed", "not a tariff document")
    body = document["tariffs"]
    if body.get("type") != DOCUMENT_TYPE:
        raise TariffsUnavailable("malformed", f"document type {body.get('type')!r} "
                                 f"is not {DOCUMENT_TYPE}")  # fmt: skip
    if not document.get("signature") or not document.get("signer"):
        raise TariffsUnavailable("unsigned", "the tariffs carry no signature")
    signer = str(document["signer"])
    try:
        for cert in document.get("certificates") or []:
            if isinstance(cert, dict) and cert.get("cert", {}).get("key_id") == signer:
                trust.accept_certificate(cert, now)
        signature = unb64(document["signature"], "tariff signature")
        trust.verify(_signed_bytes(body), signature, signer, PURPOSE, now)
    except TrustError as exc:
        raise TariffsUnavailable(exc.code, str(exc)) from None
    return body


def parse_body(body: dict[str, Any], signer: str) -> Tariffs:
    """Typed tariffs from a (verified) body; TariffsUnavailable("malformed") names the field."""
    try:
        types = {str(code): (int(p), int(c)) for code, (p, c) in body["pass_types"].items()}
        tariffs = {}
        for code, raw in body["tariffs"].items():
            tariffs[code] = _tariff(str(code), raw, types)
        version = int(body["version"])
        window = float(body["issued_at"]), float(body["not_before"]), float(body["expires_at"])
        currency = str(body["currency"])
    except TariffsUnavailable:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TariffsUnavailable("malformed", f"tariffs: missing or bad field ({exc})") from None
    if not tariffs:
        raise TariffsUnavailable("malformed", "tariffs: the document holds no tariff")
    if len(currency) != 3 or not currency.isalpha():
        raise TariffsUnavailable("malformed", f"tariffs: currency {currency!r} is not ISO 4217")
    return Tariffs(version, currency.upper(), *window, tariffs, types, signer)


def _tariff(code: str, raw: dict[str, Any], types: dict[str, tuple[int, int]]) -> Tariff:
    where = f"tariffs: tariff {code!r}"
    categories = tuple(str(c) for c in raw.get("categories", ()))
    reduced = bool(raw.get("reduced", False))
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise TariffsUnavailable("malformed", f"{where}: unknown categories {unknown} "
                                 f"(known: {', '.join(CATEGORIES)})")  # fmt: skip
    if reduced != bool(categories):
        raise TariffsUnavailable("malformed", f"{where}: a reduced tariff names its "
                                 "categories, a normal one none")  # fmt: skip
    if raw["pass_type"] not in types:
        raise TariffsUnavailable("malformed", f"{where}: unknown pass type {raw['pass_type']!r}")
    vat = str(raw.get("vat_rate", "NULL"))
    if vat not in VAT_RATES:
        raise TariffsUnavailable("malformed", f"{where}: VAT rate {vat!r} is not one of "
                                 f"{', '.join(VAT_RATES)}")  # fmt: skip
    try:
        price = check_cents(raw["price_cents"], f"{where} price")
    except AmountError as exc:
        raise TariffsUnavailable("malformed", str(exc)) from None
    return Tariff(code, str(raw.get("label", code)), str(raw["pass_type"]), price, reduced,
                  categories, vat)  # fmt: skip


def current(tariffs: Tariffs, now: float) -> Tariffs:
    """``tariffs`` if they are valid at ``now``; TariffsUnavailable otherwise."""
    if now < tariffs.not_before:
        raise TariffsUnavailable("not_yet_valid", f"tariffs version {tariffs.version} are "
                                 "not valid yet: check the counter's clock")  # fmt: skip
    if now > tariffs.expires_at:
        raise TariffsUnavailable(
            "expired",
            f"tariffs version {tariffs.version} have expired: "
            "synchronise the counter to receive the current tariffs",
        )
    return tariffs


def load_tariffs(path: Path, trust: TrustStore, now: float) -> Tariffs:
    """The verified, current tariffs in ``path``; TariffsUnavailable says why not."""
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise TariffsUnavailable("too_large", f"tariff file {path} is too large")
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise TariffsUnavailable("missing", f"no tariffs at {path}: sales are blocked until "
                                 "the counter receives the office's tariffs") from None  # fmt: skip
    except OSError as exc:
        raise TariffsUnavailable("missing", f"tariff file {path} cannot be read "
                                 f"({exc.strerror})") from None  # fmt: skip
    except (ValueError, UnicodeDecodeError) as exc:
        raise TariffsUnavailable("malformed", f"tariff file {path} is not JSON ({exc})") from None
    try:
        body = verify_document(document, trust, now)
        return current(parse_body(body, str(document["signer"])), now)
    except TariffsUnavailable as exc:
        raise TariffsUnavailable(exc.code, f"tariff file {path}: {exc}") from None
