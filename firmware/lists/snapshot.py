"""Looking passes up inside a verified snapshot file, in place.

The file is mapped read-only; records are fixed-size and sorted by serial,
so a lookup is a binary search touching a handful of pages. Nothing is
loaded into memory, which keeps a million passes within a Pi Zero's RAM
and makes activating a new snapshot as cheap as renaming a file.
"""

from __future__ import annotations

import mmap
from pathlib import Path

from firmware.gate.passes import PassRecord, PassType
from firmware.lists import format as fmt

_SIZE = fmt.RECORD.size
_NUMBER_AT = fmt.KEY_SIZE  # the pass number follows the 11-byte serial key


class Snapshot:
    def __init__(self, path: Path, header: fmt.Header) -> None:
        self.path = path
        self.header = header
        self.count = header.payload_length // _SIZE
        self._start = header.payload_offset
        types = header.types
        self._types = [types[code] for code in sorted(types)]
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def close(self) -> None:
        self._map.close()

    def find(self, uid: bytes) -> PassRecord | None:
        """The record for chip UID ``uid``, or None."""
        if len(uid) > 10:
            return None
        key = fmt.serial_key(uid)
        data, start = self._map, self._start
        low, high = 0, self.count
        while low < high:
            middle = (low + high) // 2
            offset = start + middle * _SIZE
            probe = data[offset : offset + fmt.KEY_SIZE]
            if probe < key:
                low = middle + 1
            elif probe > key:
                high = middle
            else:
                return fmt.decode_record(data[offset : offset + _SIZE], self._types)
        return None

    def find_number(self, number: str) -> PassRecord | None:
        """The record with printed pass number ``number`` (a scan: for staff, not taps)."""
        encoded = number.encode()
        if not encoded or len(encoded) > 12:
            return None
        field = encoded.ljust(12, b"\0")
        data, position, end = self._map, self._start, self._start + self.count * _SIZE
        while (found := data.find(field, position, end)) != -1:
            record_start = found - _NUMBER_AT
            if (record_start - self._start) % _SIZE == 0:
                return fmt.decode_record(data[record_start : record_start + _SIZE], self._types)
            position = found + 1
        return None

    @property
    def types(self) -> list[PassType]:
        return list(self._types)
