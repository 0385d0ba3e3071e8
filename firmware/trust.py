"""Who may sign what the gate believes: a pinned root key certifies signing keys.

The central office keeps the root private key offline. A gate pins the root
public key at provisioning and nothing else. The root signs *certificates*
for the keys that sign lists and hub messages, each with its purposes and a
validity period, so a signing key can be rotated, or revoked by a signed
revocation list, without touching the gates. A new root is accepted only
from a document of type ``root`` naming the current root as its previous
one, signed by the current root and by itself. No private key lives on a
gate.

Every signed document has a type, and every signature is Ed25519 over
``signing_input(type, body)``: a domain prefix naming the type, then the
body's canonical JSON (sorted keys, no spaces). A signature made for one type
therefore never verifies as another (TUF's typed metadata): a certificate's
signature is not a root rotation's, a list header's is not a hub message's.

See ``docs/validity-list.md`` for the formats and the threats they answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from firmware.durable import atomic_write

PURPOSES = ("list", "hub", "tariffs")  # tariffs: the counter's prices (firmware/counter)

# Every kind of signed document; each is its own signature domain. ``release-notice``
# is the office's "a new version is available", signed by the hub's key and carried to
# gates as the ``release`` message (``firmware/gate/release.py``).
DOMAINS = (
    "root", "certificate", "revocations", "list", "hub-message", "gate-message",
    "access-code", "release-notice", "tariffs",
)  # fmt: skip
_DOMAIN_PREFIX = b"portique-signed/v2\x00"


class TrustError(Exception):
    """A signature or certificate that cannot be trusted; ``code`` is stable for logs and status."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def canonical(document: dict[str, Any]) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signing_input(domain: str, body: dict[str, Any]) -> bytes:
    """The exact bytes a signature of type ``domain`` covers: the type, then the body."""
    if domain not in DOMAINS:
        raise ValueError(f"no signed document type {domain!r}")
    return _DOMAIN_PREFIX + domain.encode() + b"\x00" + canonical(body)


def sign(key: Ed25519PrivateKey, domain: str, body: dict[str, Any]) -> bytes:
    """Sign ``body`` as a document of type ``domain``."""
    return key.sign(signing_input(domain, body))


def verify_typed(public: bytes, signature: bytes, domain: str, body: dict[str, Any]) -> bool:
    """Whether ``signature`` is ``public``'s over ``body`` as a document of type ``domain``."""
    return verify_signature(public, signature, signing_input(domain, body))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise TrustError("malformed", f"{what} is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise TrustError("malformed", f"{what} is not valid base64") from None


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public).hexdigest()[:16]


def load_public(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise TrustError("malformed", f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def verify_signature(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        load_public(public).verify(signature, data)
    except (InvalidSignature, TrustError):
        return False
    return True


# -- key files ----------------------------------------------------------------


def generate_private_key(path: Path) -> Ed25519PrivateKey:
    """Create a new private key file readable by its owner only (mode 0600)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise TrustError(
            "malformed", f"private key {path} cannot be read ({exc.strerror})"
        ) from None
    except ValueError as exc:
        raise TrustError("malformed", f"private key {path} is not a PEM key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise TrustError("malformed", f"private key {path} is not an Ed25519 key")
    return key


def write_public_key(key: Ed25519PrivateKey, path: Path) -> str:
    """Write the public half as base64 text; return its key id."""
    raw = raw_public(key.public_key())
    path.write_text(b64(raw) + "\n")
    return key_id(raw)


def read_public_key(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise TrustError(
            "malformed", f"public key {path} cannot be read ({exc.strerror})"
        ) from None
    raw = unb64(text, f"public key {path}")
    load_public(raw)
    return raw


# -- documents signed by the root ----------------------------------------------


def certify(
    root: Ed25519PrivateKey,
    public: bytes,
    purposes: list[str],
    not_before: float,
    not_after: float,
    label: str = "",
    demo: bool = False,
) -> dict[str, Any]:
    """A root-signed certificate for the signing key ``public``.

    ``demo`` marks a key for simulations and demonstrations: gates refuse it
    unless their configuration explicitly allows demo keys.
    """
    cert = {
        "type": "certificate",
        "key_id": key_id(public),
        "public_key": b64(public),
        "purposes": sorted(purposes),
        "not_before": not_before,
        "not_after": not_after,
        "root_id": key_id(raw_public(root.public_key())),
        "label": label,
        "demo": demo,
    }
    return {"cert": cert, "signature": b64(sign(root, "certificate", cert))}


def revocations(root: Ed25519PrivateKey, version: int, revoked: list[str]) -> dict[str, Any]:
    """A root-signed list of revoked key ids; gates keep the union of every version."""
    body = {
        "type": "revocations",
        "version": version,
        "revoked": sorted(revoked),
        "root_id": key_id(raw_public(root.public_key())),
    }
    return {"revocations": body, "signature": b64(sign(root, "revocations", body))}


def rotate_root(old: Ed25519PrivateKey, new: Ed25519PrivateKey) -> dict[str, Any]:
    """A new root, naming the old one, signed by the old root and by itself."""
    new_raw = raw_public(new.public_key())
    body = {
        "type": "root",
        "key_id": key_id(new_raw),
        "public_key": b64(new_raw),
        "previous_id": key_id(raw_public(old.public_key())),
    }
    return {
        "root": body,
        "old_signature": b64(sign(old, "root", body)),
        "new_signature": b64(sign(new, "root", body)),
    }


# -- the gate's view -------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    key_id: str
    public_key: bytes
    purposes: tuple[str, ...]
    not_before: float
    not_after: float
    label: str


@dataclass
class TrustStore:
    """The keys a gate trusts: the pinned root, the certificates it signed, the revocations.

    Persisted as JSON beside the gate's other state so that a rotation or a
    revocation survives a restart; written atomically.
    """

    root: bytes
    path: Path | None = None
    certificates: dict[str, Certificate] = field(default_factory=dict)
    revoked: frozenset[str] = frozenset()
    revocations_version: int = 0
    revocations_digest: str = ""  # of the document of ``revocations_version``: spots a twin
    pinned: bytes = b""  # the root provisioning pinned; ``root`` may have rotated since
    allow_demo: bool = False
    _documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pinned = self.pinned or self.root

    @property
    def root_id(self) -> str:
        return key_id(self.root)

    @classmethod
    def open(cls, root: bytes, path: Path, allow_demo: bool = False) -> TrustStore:
        """The trust store in ``path`` for the pinned ``root`` (a new one if none is saved).

        A saved store whose root chain does not start from the pinned root is
        ignored, so re-provisioning with another root starts afresh.
        """
        store = cls(root=root, path=path, allow_demo=allow_demo)
        if not path.exists():
            return store
        try:
            saved = json.loads(path.read_text())
            if saved.get("pinned_root") != b64(root):
                return store
            store.root = unb64(saved["root"], f"{path} root")
            store.revoked = frozenset(saved.get("revoked", []))
            store.revocations_version = int(saved.get("revocations_version", 0))
            store.revocations_digest = str(saved.get("revocations_digest", ""))
            for document in saved.get("certificates", []):
                store.accept_certificate(document, now=None)
        except (ValueError, KeyError, TypeError, TrustError) as exc:
            raise TrustError("malformed", f"trust store {path} is damaged ({exc})") from None
        return store

    def accept_certificate(self, document: object, now: float | None,
                           latest: float | None = None) -> Certificate:  # fmt: skip
        """Check a root-signed certificate and remember it; raise TrustError if it is not good.

        ``now`` None skips the validity period (used when reloading saved state);
        see ``verify`` for ``latest``.
        """
        body, signature = _signed(document, "cert")
        if body.get("type") != "certificate":
            raise TrustError("malformed", "not a key certificate")
        if not verify_typed(self.root, signature, "certificate", body):
            raise TrustError("bad_certificate", f"certificate of key {body.get('key_id')} "
                             f"is not signed by the root {self.root_id}")  # fmt: skip
        try:
            cert = Certificate(
                key_id=str(body["key_id"]),
                public_key=unb64(body["public_key"], "certificate public_key"),
                purposes=tuple(str(p) for p in body["purposes"]),
                not_before=float(body["not_before"]),
                not_after=float(body["not_after"]),
                label=str(body.get("label", "")),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise TrustError("malformed", f"certificate fields are not valid ({exc})") from None
        if cert.key_id != key_id(cert.public_key):
            raise TrustError("bad_certificate", f"certificate key id {cert.key_id} does not match")
        if cert.key_id in self.revoked:
            raise TrustError("revoked_key", f"key {cert.key_id} has been revoked")
        if body.get("demo") and not self.allow_demo:
            raise TrustError(
                "demo_key", f"key {cert.key_id} is a demonstration key; this gate refuses it"
            )
        if now is not None and not _valid_between(cert, now, latest):
            raise TrustError("expired_key", f"key {cert.key_id} is not valid now")
        self.certificates[cert.key_id] = cert
        self._documents[cert.key_id] = document  # type: ignore[assignment]
        return cert

    def accept_revocations(self, document: object) -> bool:
        """Add a root-signed revocation list to those known; return whether it changed anything.

        Revocations are cumulative: the gate keeps the union of every list it
        accepted, so a later list that forgets an entry (or an older one
        replayed) never un-revokes a key. Two different lists with the same
        version are refused as ``revocation_conflict``: one of them is not
        what the office meant.
        """
        body, signature = _signed(document, "revocations")
        if body.get("type") != "revocations":
            raise TrustError("malformed", "not a revocation list")
        if not verify_typed(self.root, signature, "revocations", body):
            raise TrustError("bad_signature", "revocation list is not signed by the root")
        try:
            version = int(body["version"])
            listed = frozenset(str(k) for k in body["revoked"])
        except (KeyError, TypeError, ValueError) as exc:
            raise TrustError("malformed", f"revocation list is not valid ({exc})") from None
        digest = hashlib.sha256(canonical(body)).hexdigest()
        if version == self.revocations_version and self.revocations_digest not in ("", digest):
            raise TrustError("revocation_conflict", f"a different revocation list version "
                             f"{version} is already in force; the office must issue a new "
                             "version")  # fmt: skip
        if version > self.revocations_version:
            self.revocations_version, self.revocations_digest = version, digest
        before = self.revoked
        self.revoked = before | listed
        if self.revoked == before:
            return False
        for revoked in self.revoked:
            self.certificates.pop(revoked, None)
            self._documents.pop(revoked, None)
        return True

    def accept_root(self, document: object) -> bool:
        """Move to a new root: a ``root`` document naming the current root as the previous
        one, signed by the current root and by the new root (in the ``root`` domain)."""
        if not isinstance(document, dict) or not isinstance(document.get("root"), dict):
            raise TrustError("malformed", "not a root rotation")
        body = document["root"]
        if body.get("type") != "root":
            raise TrustError("malformed", f"a {body.get('type')!r} document is not a root rotation")
        new_root = unb64(body.get("public_key"), "root public_key")
        if new_root == self.root:
            return False
        load_public(new_root)
        if body.get("key_id") != key_id(new_root):
            raise TrustError("malformed", "root rotation: key_id does not match its public key")
        if body.get("previous_id") != self.root_id:
            raise TrustError("wrong_root", f"root rotation follows root {body.get('previous_id')}, "
                             f"not this gate's root {self.root_id}")  # fmt: skip
        old_sig = unb64(document.get("old_signature"), "old_signature")
        new_sig = unb64(document.get("new_signature"), "new_signature")
        old_ok = verify_typed(self.root, old_sig, "root", body)
        new_ok = verify_typed(new_root, new_sig, "root", body)
        if not (old_ok and new_ok):
            raise TrustError(
                "bad_signature", "a new root must be signed by the old and the new root"
            )
        self.root = new_root
        self.certificates.clear()  # certificates of the old root must be re-issued
        self._documents.clear()
        return True

    def verify(self, data: bytes, signature: bytes, signer: str, purpose: str, now: float,
               latest: float | None = None) -> None:  # fmt: skip
        """Raise TrustError unless ``signer`` may sign for ``purpose`` and signed ``data``.

        ``data`` is a ``signing_input``: its domain names the document's type.
        With a clock it cannot trust, the gate knows only that the time lies
        between ``now`` (its floor) and ``latest`` (``FlooredClock.latest_issue``):
        a key is refused only if its validity surely missed that interval.
        """
        cert = self.certificates.get(signer)
        if signer in self.revoked:
            raise TrustError("revoked_key", f"key {signer} has been revoked")
        if cert is None:
            raise TrustError("unknown_key", f"key {signer} is not certified by root {self.root_id}")
        if purpose not in cert.purposes:
            raise TrustError("wrong_purpose", f"key {signer} may not sign {purpose} data")
        if not _valid_between(cert, now, latest):
            raise TrustError("expired_key", f"key {signer} is valid only from "
                             f"{cert.not_before:.0f} to {cert.not_after:.0f}")  # fmt: skip
        if not verify_signature(cert.public_key, signature, data):
            raise TrustError("bad_signature", f"signature by key {signer} does not match the data")

    def save(self) -> None:
        """Persist the current root, certificates and revocations atomically."""
        if self.path is None:
            return
        state = {
            "pinned_root": b64(self.pinned),
            "root": b64(self.root),
            "revoked": sorted(self.revoked),
            "revocations_version": self.revocations_version,
            "revocations_digest": self.revocations_digest,
            "certificates": list(self._documents.values()),
        }
        atomic_write(self.path, json.dumps(state, indent=1, sort_keys=True))


def _valid_between(cert: Certificate, earliest: float, latest: float | None) -> bool:
    return cert.not_before <= max(earliest, latest or earliest) and earliest <= cert.not_after


def _signed(document: object, name: str) -> tuple[dict[str, Any], bytes]:
    if not isinstance(document, dict) or not isinstance(document.get(name), dict):
        raise TrustError("malformed", f"expected a signed {name} document")
    return document[name], unb64(document.get("signature"), f"{name} signature")
