"""Building and signing list files: used by `portique list build` and by the hub.

The signing key never lives on a gate: this runs at the central office or on
the hub, with a signing key and the root-signed certificate for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.gate.passes import PassType
from firmware.lists import format as fmt
from firmware.trust import TrustError, key_id, load_private_key, raw_public


@dataclass
class Signer:
    """A signing key with its root-signed certificate (and what else to ship with lists)."""

    key: Ed25519PrivateKey
    certificate: dict[str, Any]
    revocations: dict[str, Any] | None = None
    root_rotation: dict[str, Any] | None = None
    extra_certificates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key_id(self) -> str:
        return key_id(raw_public(self.key.public_key()))

    @classmethod
    def from_files(cls, key_path: Path, cert_path: Path) -> Signer:
        key = load_private_key(key_path)
        try:
            certificate = json.loads(cert_path.read_text())
        except (OSError, ValueError) as exc:
            raise TrustError(
                "malformed", f"certificate {cert_path} cannot be read ({exc})"
            ) from None
        signer = cls(key, certificate)
        if certificate.get("cert", {}).get("key_id") != signer.key_id:
            raise TrustError("malformed", f"certificate {cert_path} is not for key {key_path}")
        return signer

    def extras(self) -> dict[str, Any]:
        return {
            "certificates": [self.certificate, *self.extra_certificates],
            "revocations": self.revocations,
            "root": self.root_rotation,
        }


def build_snapshot(
    rows: Iterable[fmt.Row],
    types: dict[str, PassType],
    version: int,
    issued_at: float,
    expires_at: float,
    signer: Signer,
) -> bytes:
    """A signed snapshot of every pass in ``rows`` (format 3: with whose stock each is in)."""
    rows = list(rows)
    museums = fmt.museum_table(rows)
    payload = fmt.encode_records(rows, types, museums)
    count = len(payload) // fmt.RECORD.size
    signed = fmt.metadata(
        "snapshot", version, None, issued_at, expires_at, payload, types, signer.key_id, count,
        museums,
    )  # fmt: skip
    return fmt.assemble(signed, signer.key.sign(fmt.signed_bytes(signed)), signer.extras(), payload)


def build_delta(
    rows: list[fmt.Row],
    types: dict[str, PassType],
    base_version: int,
    version: int,
    issued_at: float,
    expires_at: float,
    signer: Signer,
) -> bytes:
    """A signed delta: the passes in ``rows`` changed between ``base_version`` and ``version``."""
    if version <= base_version:
        raise ValueError(f"delta version {version} must be above its base {base_version}")
    payload = fmt.encode_delta(rows)
    signed = fmt.metadata(
        "delta", version, base_version, issued_at, expires_at, payload, types, signer.key_id,
        len(rows),
    )  # fmt: skip
    return fmt.assemble(signed, signer.key.sign(fmt.signed_bytes(signed)), signer.extras(), payload)
