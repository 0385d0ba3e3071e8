"""Ed25519 keys, key ids, canonical JSON and certificates, as both ends use them.

Defined in ``firmware/trust.py`` beside the gate's trust store; this is the
name the hub imports them by.
"""

from __future__ import annotations

from firmware.trust import (
    TrustError,
    TrustStore,
    b64,
    canonical,
    certify,
    generate_private_key,
    key_id,
    load_private_key,
    raw_public,
    read_public_key,
    unb64,
    verify_signature,
    write_public_key,
)

__all__ = ["TrustError", "TrustStore", "b64", "canonical", "certify", "generate_private_key",
           "key_id", "load_private_key", "raw_public", "read_public_key", "unb64",
           "verify_signature", "write_public_key"]  # fmt: skip
