"""The hub's signing key and its certificate from the central office's root.

Gates pin only the root public key; every hub message carries the hub key's
root-signed certificate (purpose "hub"), so the hub key can be replaced
without touching a gate. ``init`` makes a root too when none is given: fine
for a demonstration, while a real network keeps its root offline and hands
the hub only the certificate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.protocol.messages import seal
from firmware.protocol.signing import (
    certify,
    generate_private_key,
    key_id,
    load_private_key,
    raw_public,
    write_public_key,
)

ROOT_KEY, ROOT_PUB = "root.key", "root.pub"
# The central office's access-code key: the hub checks enrolments with the public half.
OFFICE_PUBLIC = "office.pub"
HUB_KEY, HUB_CERT = "hub.key", "hub.cert.json"
CERT_YEARS = 2


def init_keys(data_dir: Path, now: float, root_key: Path | None = None) -> Path:
    """Create the hub key and its certificate (and a root if none); return the root.pub path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if root_key is None:
        root_key = data_dir / ROOT_KEY
        root = load_private_key(root_key) if root_key.exists() else generate_private_key(root_key)
    else:
        root = load_private_key(root_key)
    root_pub = data_dir / ROOT_PUB
    write_public_key(root, root_pub)
    hub_path = data_dir / HUB_KEY
    hub = load_private_key(hub_path) if hub_path.exists() else generate_private_key(hub_path)
    cert = certify(root, raw_public(hub.public_key()), ["hub"], not_before=now - 86400,
                   not_after=now + CERT_YEARS * 365 * 86400, label="hub")  # fmt: skip
    (data_dir / HUB_CERT).write_text(json.dumps(cert, indent=1) + "\n")
    return root_pub


@dataclass(frozen=True)
class HubSigner:
    key: Ed25519PrivateKey
    key_id: str
    cert: dict[str, Any]

    @classmethod
    def load(cls, data_dir: Path) -> HubSigner:
        key = load_private_key(data_dir / HUB_KEY)
        cert = json.loads((data_dir / HUB_CERT).read_text())
        return cls(key, key_id(raw_public(key.public_key())), cert)

    def seal(self, body: dict[str, Any]) -> bytes:
        return seal(body, self.key, self.key_id, self.cert)
