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

Format 3 says whose stock a pass in state stock is in: the signed metadata
holds a table of museum ids (``museums``) and each record a 2-byte index into
it (0: no museum), 43 bytes a record instead of 41 (43 MB for a million
passes); a delta row carries the museum id as an eighth element. Format 2
files are still read, their passes in no museum's stock.

This module only reads and writes bytes; ``verify.py`` decides whether to
believe them. ``docs/validity-list.md`` documents the format.
"""

from __future__ import annotations

import hashlib
import json
import re
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
# 3: a museum table in the metadata and a museum index per record (stock ownership).
FORMAT = 3
READABLE_FORMATS = (2, 3)
MAX_HEADER_BYTES = 1 << 20  # certificates and metadata; anything larger is not ours
KINDS = ("snapshot", "delta")
_MUSEUM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # as in the sync protocol's topics

# One snapshot record: UID (10 bytes, zero-padded) + UID length, pass number,
# ID number, pass type index, state, activation and expiry as days since 2000-01-01,
# and (format 3) the stock's museum as 1 + its index in the metadata's table, 0 for none.
RECORD = struct.Struct("<10sB12s12sBBHHH")
RECORD_V2 = struct.Struct("<10sB12s12sBBHH")
RECORDS = {2: RECORD_V2, 3: RECORD}
MAX_MUSEUMS = 0xFFFF - 1
KEY_SIZE = 11  # the UID and its length: the sort key
EPOCH = date(2000, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()
STATES = (PassState.STOCK, PassState.SOLD, PassState.ACTIVE, PassState.BLOCKED)
STATE_CODES = {state: code for code, state in enumerate(STATES)}

# A delta row: serial, pass number, ID number, type code, state, activated_on, expires_on,
# and optionally (format 3) the museum whose stock the pass is in.
Row = (
    tuple[str, str, str, str, str, str | None, str | None]
    | tuple[str, str, str, str, str, str | None, str | None, str | None]
)


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
    def format(self) -> int:
        return int(self.signed["format"])

    @property
    def record_size(self) -> int:
        return RECORDS[self.format].size

    @property
    def museums(self) -> list[str]:
        """The museum table of a format 3 list (empty for format 2)."""
        return list(self.signed.get("museums") or [])

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


def stock_of(row: Row) -> str | None:
    """The museum whose stock ``row``'s pass is in (None for a row of seven fields)."""
    return row[7] if len(row) > 7 else None  # type: ignore[misc]


def museum_table(rows: Iterable[Row]) -> list[str]:
    """The museums named as stock owners in ``rows``, sorted: the metadata's table."""
    museums = sorted({museum for row in rows if (museum := stock_of(row))})
    if len(museums) > MAX_MUSEUMS:
        raise ValueError(f"{len(museums)} museums hold stock; a list names at most {MAX_MUSEUMS}")
    return museums


def encode_records(rows: Iterable[Row], types: dict[str, PassType],
                   museums: list[str] | None = None) -> bytes:  # fmt: skip
    """Snapshot payload: rows packed and sorted by serial; duplicate serials refused."""
    type_index = {code: index for index, code in enumerate(sorted(types))}
    museum_index = {museum: index + 1 for index, museum in enumerate(museums or [])}
    packed = []
    for row in rows:
        serial, number, id_number, type_code, state, activated, expires = row[:7]
        uid = bytes.fromhex(serial)
        owner = stock_of(row)
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
                museum_index[owner] if owner else 0,
            )  # fmt: skip
        )
    packed.sort()  # the UID comes first, then its length: the sort key
    for before, after in zip(packed, packed[1:], strict=False):
        if before[:KEY_SIZE] == after[:KEY_SIZE]:
            raise ValueError(f"serial {before[: before[10]].hex().upper()} appears twice")
    return b"".join(packed)


def encode_delta(rows: Iterable[Row]) -> bytes:
    return json.dumps([list(row[:7]) + ([museum] if (museum := stock_of(row)) else [])
                       for row in rows], separators=(",", ":")).encode()  # fmt: skip


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
    museums: list[str] | None = None,
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
        "museums": list(museums or []),
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
    if signed.get("format") not in READABLE_FORMATS:
        raise ListFormatError(
            "unknown_format",
            f"format {signed.get('format')!r} is not supported (this gate reads "
            f"{' and '.join(map(str, READABLE_FORMATS))})",
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
        if header.kind == "snapshot" and header.signed.get("record_size") != header.record_size:
            raise ValueError("record size")
        header.types  # noqa: B018 - parsed here so a bad table fails now, not at lookup
        museums = header.museums
        if len(museums) > MAX_MUSEUMS or not all(
            isinstance(m, str) and _MUSEUM.match(m) for m in museums
        ):
            raise ValueError("museums must be museum ids (letters, digits, _ . -)")
        float(header.issued_at), float(header.expires_at), str(header.signed["payload_sha256"])
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ListFormatError("malformed", f"metadata is not valid ({exc})") from None


def decode_record(data: bytes, types_by_index: list[PassType],
                  museums: list[str] | None = None) -> PassRecord:  # fmt: skip
    """A record of either format (told apart by its size); an index off the table is no one."""
    if len(data) == RECORD_V2.size:
        fields, owner = RECORD_V2.unpack(data), None
    else:
        *fields, museum = RECORD.unpack(data)
        owner = (museums[museum - 1] if museums and 0 < museum <= len(museums)
                 else None)  # fmt: skip
    uid, size, number, id_number, type_index, state, activated, expires = fields
    return PassRecord(
        serial=uid[:size].hex().upper(),
        pass_number=number.rstrip(b"\0").decode(),
        id_number=id_number.rstrip(b"\0").decode(),
        pass_type=types_by_index[type_index],
        state=STATES[state],
        activated_on=date.fromordinal(_EPOCH_ORDINAL + activated) if activated else None,
        expires_on=date.fromordinal(_EPOCH_ORDINAL + expires) if expires else None,
        stock_of=owner if STATES[state] is PassState.STOCK else None,
    )


def find_serial(data: bytes, header: Header, uid: bytes) -> PassRecord | None:
    """The snapshot record of chip ``uid`` in a list held in memory (a binary search)."""
    size, start = header.record_size, header.payload_offset
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
    return decode_record(data[at : at + size], [types[code] for code in sorted(types)],
                         header.museums)  # fmt: skip


def find_number_serial(data: bytes, header: Header, field: bytes) -> str | None:
    """The serial of the snapshot record whose number field is ``field`` (a scan of ``data``)."""
    size, start = header.record_size, header.payload_offset
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
    if len(row) not in (7, 8):
        raise ValueError(f"a delta row has 7 or 8 fields, not {len(row)}")
    serial, number, id_number, type_code, state, activated, expires = row[:7]
    owner = row[7] if len(row) == 8 else None
    bytes.fromhex(serial)
    PassState(state)
    for day in (activated, expires):
        if day is not None:
            date.fromisoformat(day)
    if owner is not None and not (isinstance(owner, str) and _MUSEUM.match(owner)):
        raise ValueError(f"stock owner {owner!r} is not a museum id")
    return (serial.upper(), str(number), str(id_number), str(type_code), state, activated,
            expires, owner)  # fmt: skip
