"""The gate's own signing key: every batch it sends is signed with it.

Created at first start in the data directory (private key mode 0600, the
public half beside it for the hub's registry: ``portique-hub gate add``).
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.trust import generate_private_key, key_id, load_private_key, raw_public
from firmware.trust import write_public_key as _write_public

log = logging.getLogger("portique.sync")

PRIVATE_FILE = "gate.key"
PUBLIC_FILE = "gate.pub"


def gate_key(data_dir: Path) -> tuple[Ed25519PrivateKey, str]:
    """This gate's key and key id, made on first use; raises TrustError if unreadable."""
    private = data_dir / PRIVATE_FILE
    if private.exists():
        key = load_private_key(private)
        if private.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("gate key %s is readable by others: chmod 600 it", private)
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        key = generate_private_key(private)
        log.info("gate key created: %s (register %s with the hub)",
                 private, data_dir / PUBLIC_FILE)  # fmt: skip
    public = data_dir / PUBLIC_FILE
    if not public.exists():
        _write_public(key, public)
    return key, key_id(raw_public(key.public_key()))
