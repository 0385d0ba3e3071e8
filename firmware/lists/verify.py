"""Deciding whether to believe a list file, before any of it is used.

Each refusal has a stable code, one per threat (The Update Framework's
threat model): ``bad_signature``, ``unknown_key``, ``expired_key``,
``revoked_key``, ``wrong_purpose`` (forgery and key compromise),
``rollback`` (replaying an older list), ``mix_and_match`` (a delta for
another base), ``too_large`` (endless data), ``hash_mismatch``,
``truncated``, ``malformed``, ``unknown_format``, ``issued_in_future`` (a list
dated after what the gate can believe, which would otherwise raise its clock
floor for good; see ``firmware/clock.py``). Freshness (indefinite
freeze) is judged at decision time from the signed expiry.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from firmware.clock import ISSUE_SKEW_S
from firmware.lists import format as fmt
from firmware.trust import TrustError, TrustStore

READ_CHUNK = 1 << 20


class ListRejected(Exception):
    """A list that must not be used; ``code`` is stable, the message names the file."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def verify_file(
    path: Path,
    trust: TrustStore,
    current_version: int,
    now: float,
    max_payload_bytes: int,
    latest_issue: float | None = None,
    label: Path | None = None,
) -> fmt.Header:
    """Return the header of ``path`` if every check passes; raise ListRejected otherwise.

    ``latest_issue`` is the latest issue time the gate can believe
    (``FlooredClock.latest_issue``; default ``now`` plus the clock's skew).
    The trust store may learn root-signed documents shipped in the header
    (certificates, revocations, a root rotation) even when the list itself is
    refused: they carry their own root signatures, revocations only add to
    those known, and a rotation needs the current root's signature too.
    """
    latest = now + ISSUE_SKEW_S if latest_issue is None else latest_issue
    name = label or path  # the file as the technician knows it, not our staging copy
    try:
        header = _read_header(path, max_payload_bytes)
        _check_trust(header, trust, now, latest)
        _check_issued(header, latest)
        _check_version(header, current_version)
        _check_length(path, header, max_payload_bytes)
        _check_hash(path, header)
    except fmt.ListFormatError as exc:
        raise ListRejected(exc.code, f"list {name}: {exc}") from None
    except TrustError as exc:
        raise ListRejected(exc.code, f"list {name}: {exc}") from None
    except ListRejected as exc:
        raise ListRejected(exc.code, f"list {name}: {exc}") from None
    return header


def _read_header(path: Path, max_payload_bytes: int) -> fmt.Header:
    size = os.stat(path).st_size
    if size > max_payload_bytes + fmt.MAX_HEADER_BYTES + len(fmt.MAGIC) + 4:
        raise ListRejected("too_large", f"{size} bytes is more than the cap allows")
    with open(path, "rb") as handle:
        prefix = handle.read(len(fmt.MAGIC) + 4 + fmt.MAX_HEADER_BYTES)
    return fmt.read_header(prefix, size)


def _check_trust(header: fmt.Header, trust: TrustStore, now: float, latest: float) -> None:
    if header.root is not None:
        trust.accept_root(header.root)
    if header.revocations is not None:
        trust.accept_revocations(header.revocations)
    signer = str(header.signed.get("signer"))
    for document in header.certificates:
        cert = document.get("cert", {}) if isinstance(document, dict) else {}
        if cert.get("key_id") == signer:
            trust.accept_certificate(document, now, latest)
    trust.verify(fmt.signed_bytes(header.signed), header.signature, signer, "list", now, latest)


def _check_issued(header: fmt.Header, latest: float) -> None:
    if header.issued_at > latest:
        when = datetime.fromtimestamp(header.issued_at, UTC).isoformat(timespec="seconds")
        raise ListRejected("issued_in_future", f"issued at {when}, later than this gate's "
                           "trusted time allows; the signer's clock is wrong")  # fmt: skip


def _check_version(header: fmt.Header, current: int) -> None:
    if header.version <= current:
        raise ListRejected(
            "rollback", f"version {header.version} is not newer than the current {current}"
        )
    if header.kind == "delta" and header.base_version != current:
        raise ListRejected(
            "mix_and_match",
            f"delta from version {header.base_version} cannot apply to version {current}",
        )


def _check_length(path: Path, header: fmt.Header, max_payload_bytes: int) -> None:
    if header.payload_length > max_payload_bytes:
        raise ListRejected(
            "too_large", f"payload of {header.payload_length} bytes exceeds the cap of "
            f"{max_payload_bytes}"
        )  # fmt: skip
    actual = os.stat(path).st_size - header.payload_offset
    if actual < header.payload_length:
        raise ListRejected("truncated", f"payload has {actual} of {header.payload_length} bytes")
    if actual > header.payload_length:
        raise ListRejected(
            "too_large", f"payload has {actual} bytes, more than its signed {header.payload_length}"
        )
    if header.kind == "snapshot" and header.payload_length % header.record_size:
        raise ListRejected("malformed", "snapshot payload is not a whole number of records")


def _check_hash(path: Path, header: fmt.Header) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        handle.seek(header.payload_offset)
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != header.signed["payload_sha256"]:
        raise ListRejected("hash_mismatch", "payload does not match its signed SHA-256")
