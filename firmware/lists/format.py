"""The signed validity list file: one format for snapshots and deltas.

    b"PQLIST1\\n" | header length (4 bytes, big-endian) | header (JSON) | payload

The header holds the *signed metadata* (format, kind, version, base version,
issue and expiry time, payload length and SHA-256, signer key id, pass
types) with one Ed25519 signature over its canonical JSON in the ``list``
signature domain (``firmware/trust.py``), plus the
root-signed certificate of the signing key and, optionally, a revocation list
and a root rotation. Signing the metadata once and the payload by hash means
one signature check for a million passes.

Snapshot payload: fixed-size records sorted by chip serial, so the gate can
search the file in place (``snapshot.py``). Delta payload: JSON rows of the
passes that changed since ``base_version``.

This module only reads and writes bytes; ``verify.py`` decides whether to
believe them. ``docs/validity-list.md`` documents the format.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from firmware import strictjson
from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.trust import TrustError, b64, signing_input, unb64

MAGIC = b"PQLIST1\n"
# 2: the metadata names its type ("list") and is signed in the list domain.
FORMAT = 2
MAX_HEADER_BYTES = 1 << 20  # certificates and metadata; anything larger is not ours
KINDS = ("snapshot", "delta")

# One snapshot record: UID (10 bytes, zero-padded) + UID length, pass number,
# ID number, pass type index, state, activation and expiry as days since 2000-01-01.
RECORD = struct.Struct("<10sB12s12sBBHH")
KEY_SIZE = 11  # the UID and its length: the sort key
EPOCH = date(2000, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()
STATES = (PassState.STOCK, PassState.SOLD, PassState.ACTIVE, PassState.BLOCKED)
STATE_CODES = {state: code for code, state in enumerate(STATES)}

# A delta row: serial, pass number, ID number, type code, state, activated_on, expires_on.
Row = tuple[str, str, str, str, str, str | None, str | None]


class ListFormatError(Exception):
    """The bytes are not a list file this gate can read; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Header:
    signed: dict[str, Any]  # the metadata, exactly as signed
    signature: bytes
    certificates: list[Any]
    revocations: Any
    root: Any
    payload_offset: int

    @property
    def kind(self) -> str:
        return str(self.signed["kind"])

    @property
    def version(self) -> int:
        return int(self.signed["version"])

    @property
    def base_version(self) -> int | None:
        base = self.signed.get("base_version")
        return None if base is None else int(base)

    @property
    def issued_at(self) -> float:
        return float(self.signed["issued_at"])

    @property
    def expires_at(self) -> float:
        return float(self.signed["expires_at"])

    @property
    def payload_length(self) -> int:
        return int(self.signed["payload_length"])

    @property
    def types(self) -> dict[str, PassType]:
        return {
            code: PassType(code, int(p), int(c)) for code, (p, c) in self.signed["types"].items()
        }


# -- writing (publisher side) ---------------------------------------------------


def day_number(text: str | None) -> int:
    return 0 if not text else (date.fromisoformat(text) - EPOCH).days


def day_text(number: int) -> str | None:
    return None if number == 0 else (EPOCH + timedelta(days=number)).isoformat()


def serial_key(uid: bytes) -> bytes:
    """The 11-byte sort key of a chip UID."""
    return uid.ljust(10, b"\0") + bytes([len(uid)])


def encode_records(rows: Iterable[Row], types: dict[str, PassType]) -> bytes:
    """Snapshot payload: rows packed and sorted by serial; duplicate serials refused."""
    type_index = {code: index for index, code in enumerate(sorted(types))}
    packed = []
    for serial, number, id_number, type_code, state, activated, expires in rows:
        uid = bytes.fromhex(serial)
        packed.append(
            RECORD.pack(
                uid,
                len(uid),
                number.encode()[:12],
                id_number.encode()[:12],
                type_index[type_code],
                STATE_CODES[PassState(state)],
                day_number(activated),
                day_number(expires),
            )  # fmt: skip
        )
    packed.sort()  # the UID comes first, then its length: the sort key
    for before, after in zip(packed, packed[1:], strict=False):
        if before[:KEY_SIZE] == after[:KEY_SIZE]:
            raise ValueError(f"serial {before[: before[10]].hex().upper()} appears twice")
    return b"".join(packed)


def encode_delta(rows: Iterable[Row]) -> bytes:
    return json.dumps([list(row) for row in rows], separators=(",", ":")).encode()


def assemble(
    signed: dict[str, Any], signature: bytes, extras: dict[str, Any], payload: bytes
) -> bytes:
    header = {"signed": signed, "signature": b64(signature), **extras}
    blob = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">I", len(blob)) + blob + payload


def metadata(
    kind: str,
    version: int,
    base_version: int | None,
    issued_at: float,
    expires_at: float,
    payload: bytes,
    types: dict[str, PassType],
    signer: str,
    record_count: int,
) -> dict[str, Any]:
    return {
        "type": "list",
        "format": FORMAT,
        "kind": kind,
        "version": version,
        "base_version": base_version,
        "issued_at": issued_at,
        "expires_at": expires_at,
        "payload_length": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "record_count": record_count,
        "record_size": RECORD.size,
        "types": {t.code: [t.persons, t.children] for t in types.values()},
        "signer": signer,
    }


def signed_bytes(signed: dict[str, Any]) -> bytes:
    """What the list's signature covers: the metadata, in the ``list`` domain."""
    return signing_input("list", signed)


# -- reading (gate side) --------------------------------------------------------


def read_header(prefix: bytes, file_size: int) -> Header:
    """Parse the header from the first bytes of a list file of ``file_size`` bytes."""
    if not prefix.startswith(MAGIC):
        if len(prefix) < len(MAGIC) and MAGIC.startswith(prefix):
            raise ListFormatError("truncated", "file ends inside its first bytes")
        raise ListFormatError("malformed", "not a portique list file (bad magic)")
    if len(prefix) < len(MAGIC) + 4:
        raise ListFormatError("truncated", "file ends inside its header")
    (length,) = struct.unpack(">I", prefix[len(MAGIC) : len(MAGIC) + 4])
    if length > MAX_HEADER_BYTES:
        raise ListFormatError("too_large", f"header of {length} bytes exceeds {MAX_HEADER_BYTES}")
    start = len(MAGIC) + 4
    if file_size < start + length or len(prefix) < start + length:
        raise ListFormatError("truncated", "file ends inside its header")
    try:
        header = strictjson.loads(prefix[start : start + length])
        signed = header["signed"]
        signature = header["signature"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ListFormatError("malformed", f"header is not valid JSON metadata ({exc})") from None
    if not isinstance(signed, dict):
        raise ListFormatError("malformed", "signed metadata is not an object")
    if signed.get("format") != FORMAT:
        raise ListFormatError(
            "unknown_format",
            f"format {signed.get('format')!r} is not supported (this gate reads {FORMAT})",
        )
    if signed.get("type") != "list":
        raise ListFormatError("malformed", f"a {signed.get('type')!r} document is not a list")
    try:
        raw_signature = unb64(signature, "list signature")
    except TrustError as exc:
        raise ListFormatError("malformed", str(exc)) from None
    result = Header(
        signed=signed,
        signature=raw_signature,
        certificates=list(header.get("certificates") or []),
        revocations=header.get("revocations"),
        root=header.get("root"),
        payload_offset=start + length,
    )
    _check_metadata(result)
    return result


def _check_metadata(header: Header) -> None:
    try:
        if header.kind not in KINDS:
            raise ValueError(f"kind {header.kind!r}")
        if header.version < 1 or header.payload_length < 0:
            raise ValueError("version or length out of range")
        if header.kind == "delta" and header.base_version is None:
            raise ValueError("a delta needs a base version")
        if header.kind == "snapshot" and header.signed.get("record_size") != RECORD.size:
            raise ValueError("record size")
        header.types  # noqa: B018 - parsed here so a bad table fails now, not at lookup
        float(header.issued_at), float(header.expires_at), str(header.signed["payload_sha256"])
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ListFormatError("malformed", f"metadata is not valid ({exc})") from None


def decode_record(data: bytes, types_by_index: list[PassType]) -> PassRecord:
    uid, size, number, id_number, type_index, state, activated, expires = RECORD.unpack(data)
    return PassRecord(
        serial=uid[:size].hex().upper(),
        pass_number=number.rstrip(b"\0").decode(),
        id_number=id_number.rstrip(b"\0").decode(),
        pass_type=types_by_index[type_index],
        state=STATES[state],
        activated_on=date.fromordinal(_EPOCH_ORDINAL + activated) if activated else None,
        expires_on=date.fromordinal(_EPOCH_ORDINAL + expires) if expires else None,
    )


def find_serial(data: bytes, header: Header, uid: bytes) -> PassRecord | None:
    """The snapshot record of chip ``uid`` in a list held in memory (a binary search)."""
    size, start = RECORD.size, header.payload_offset
    key, low, high = serial_key(uid), 0, header.payload_length // size
    while low < high:
        middle = (low + high) // 2
        at = start + middle * size
        if data[at : at + KEY_SIZE] < key:
            low = middle + 1
        else:
            high = middle
    at = start + low * size
    if low * size >= header.payload_length or data[at : at + KEY_SIZE] != key:
        return None
    types = header.types
    return decode_record(data[at : at + size], [types[code] for code in sorted(types)])


def find_number_serial(data: bytes, header: Header, field: bytes) -> str | None:
    """The serial of the snapshot record whose number field is ``field`` (a scan of ``data``)."""
    size, start = RECORD.size, header.payload_offset
    end = start + header.payload_length
    position = start
    while (found := data.find(field, position, end)) != -1:
        record_start = found - KEY_SIZE
        if record_start >= start and (record_start - start) % size == 0:
            uid, length = data[record_start : record_start + 10], data[record_start + 10]
            return uid[:length].hex().upper()
        position = found + 1
    return None


def decode_delta(payload: bytes) -> list[Row]:
    try:
        rows = strictjson.loads(payload)
        return [_delta_row(row) for row in rows]
    except (ValueError, TypeError) as exc:
        raise ListFormatError("malformed", f"delta payload is not valid ({exc})") from None


def _delta_row(row: list[Any]) -> Row:
    serial, number, id_number, type_code, state, activated, expires = row
    bytes.fromhex(serial)
    PassState(state)
    for day in (activated, expires):
        if day is not None:
            date.fromisoformat(day)
    return (serial.upper(), str(number), str(id_number), str(type_code), state, activated, expires)
