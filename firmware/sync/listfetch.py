"""Reassembling a list file the hub sends in chunks.

The signed manifest gives the size, the SHA-256 of the whole file and of each
chunk; chunks themselves are not signed, their hashes are. Chunks may come
in any order and more than once. Memory is bounded by the configured cap,
checked against the manifest before any chunk is kept. A transfer that makes
no progress for ``timeout_s`` is dropped; one interrupted by a reconnection
goes on where it stopped (the gate's hello tells the hub which chunks are
missing). Used by the MQTT client's thread only, under a lock because the
hello is written by its sender thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from firmware.sync.protocol import ProtocolError

log = logging.getLogger("portique.sync")


@dataclass
class _Transfer:
    version: int
    sha256: str
    size: int
    chunk_size: int
    chunk_sha256: list[str]
    last_progress: float
    parts: dict[int, bytes] = field(default_factory=dict)

    def expected_length(self, index: int) -> int:
        if index < len(self.chunk_sha256) - 1:
            return self.chunk_size
        return self.size - self.chunk_size * (len(self.chunk_sha256) - 1)


class ListAssembly:
    def __init__(self, max_bytes: int, timeout_s: float, known_version: int = 0) -> None:
        self.max_bytes, self.timeout_s = max_bytes, timeout_s
        self.known_version = known_version  # the newest list already handed to the gate
        self._transfer: _Transfer | None = None
        self._lock = threading.Lock()

    def manifest(self, body: dict[str, Any], now: float) -> None:
        """Start (or resume) the transfer a verified manifest announces; raise if refused."""
        version, size, chunks = body["version"], body["size"], body["chunks"]
        with self._lock:
            self._expire(now)
            current = self._transfer
            if version <= self.known_version:
                raise ProtocolError("replayed", f"list version {version} is not newer than "
                                    f"{self.known_version}, already received")  # fmt: skip
            if current is not None and version < current.version:
                raise ProtocolError("replayed", f"list version {version} is older than "
                                    f"version {current.version} in transfer")  # fmt: skip
            if size > self.max_bytes:
                raise ProtocolError("oversized", f"list version {version} has {size} bytes, "
                                    f"more than list_max_bytes = {self.max_bytes}")  # fmt: skip
            if chunks != -(-size // body["chunk_size"]) or len(body["chunk_sha256"]) != chunks:
                raise ProtocolError("malformed", f"list version {version}: {chunks} chunks "
                                    "do not match the size and chunk size")  # fmt: skip
            if current and (current.version, current.sha256) == (version, body["sha256"]):
                current.last_progress = now  # the same list again: keep what we have
                return
            self._transfer = _Transfer(version, body["sha256"], size, body["chunk_size"],
                                       list(body["chunk_sha256"]), now)  # fmt: skip

    def chunk(self, body: dict[str, Any], now: float) -> tuple[int, bytes] | None:
        """Keep a chunk; return (version, file) once the file is whole and matches its hash."""
        with self._lock:
            self._expire(now)
            transfer = self._transfer
            if transfer is None or (transfer.version, transfer.sha256) != (
                body["version"],
                body["sha256"],
            ):
                raise ProtocolError("unexpected", f"chunk of list version {body['version']}: "
                                    "no such transfer in progress")  # fmt: skip
            index = body["index"]
            if index >= len(transfer.chunk_sha256):
                raise ProtocolError("malformed", f"chunk {index} of {len(transfer.chunk_sha256)}")
            if index in transfer.parts:
                return None  # delivered twice: harmless
            data = _decode(body["data"])
            if len(data) != transfer.expected_length(index) or (
                hashlib.sha256(data).hexdigest() != transfer.chunk_sha256[index]
            ):
                raise ProtocolError("bad_hash", f"chunk {index} of list version "
                                    f"{transfer.version} does not match its manifest")  # fmt: skip
            transfer.parts[index] = data
            transfer.last_progress = now
            if len(transfer.parts) < len(transfer.chunk_sha256):
                return None
            self._transfer = None
            whole = b"".join(transfer.parts[i] for i in range(len(transfer.chunk_sha256)))
            if hashlib.sha256(whole).hexdigest() != transfer.sha256:
                raise ProtocolError("bad_hash", f"list version {transfer.version}: the whole "
                                    "file does not match the manifest")  # fmt: skip
            self.known_version = transfer.version
            return transfer.version, whole

    def expire(self, now: float) -> None:
        with self._lock:
            self._expire(now)

    def partial(self) -> dict[str, Any] | None:
        """The transfer in progress and its missing chunks, for the hello after a reconnect."""
        with self._lock:
            transfer = self._transfer
            if transfer is None:
                return None
            missing = [i for i in range(len(transfer.chunk_sha256)) if i not in transfer.parts]
            return {"version": transfer.version, "sha256": transfer.sha256, "missing": missing}

    def _expire(self, now: float) -> None:
        transfer = self._transfer
        if transfer is not None and now - transfer.last_progress > self.timeout_s:
            log.warning("list version %d: transfer incomplete after %.0f s without progress "
                        "(%d of %d chunks); discarded", transfer.version, self.timeout_s,
                        len(transfer.parts), len(transfer.chunk_sha256))  # fmt: skip
            self._transfer = None


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("malformed", "chunk data is not base64") from None
