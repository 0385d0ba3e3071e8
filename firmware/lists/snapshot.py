"""Looking passes up inside a verified snapshot file, in place.

The file is mapped read-only; records are fixed-size and sorted by serial,
so a lookup is a binary search touching a handful of pages. Nothing is
loaded into memory, which keeps a million passes within a Pi Zero's RAM
and makes activating a new snapshot as cheap as renaming a file.
"""

from __future__ import annotations

import bisect
import mmap
from pathlib import Path

from firmware.gate.passes import PassRecord, PassType
from firmware.lists import format as fmt

# Every FENCE-th key is kept in memory: 16,000 short keys (under 1 MB) for a million passes.
FENCE = 64
_NUMBER_AT = fmt.KEY_SIZE  # the pass number follows the 11-byte serial key


class Snapshot:
    def __init__(self, path: Path, header: fmt.Header) -> None:
        self.path = path
        self.header = header
        self._size = size = header.record_size  # 41 bytes in format 2, 43 in format 3
        self.count = header.payload_length // size
        self._start = header.payload_offset
        types = header.types
        self._types = [types[code] for code in sorted(types)]
        self._museums = header.museums
        with open(path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._fence = [
            self._map[offset : offset + fmt.KEY_SIZE]
            for offset in range(self._start, self._start + self.count * size, FENCE * size)
        ]

    def close(self) -> None:
        self._map.close()

    def find(self, uid: bytes) -> PassRecord | None:
        """The record for chip UID ``uid``, or None."""
        if len(uid) > 10 or not self.count:
            return None
        key = fmt.serial_key(uid)
        # The fence names the block of FENCE records that can hold the key (a C
        # bisect over a small list); the block is then scanned by mmap.find.
        block = bisect.bisect_right(self._fence, key) - 1
        if block < 0:
            return None
        size = self._size
        data, start = self._map, self._start + block * FENCE * size
        end = min(start + FENCE * size, self._start + self.count * size)
        while (found := data.find(key, start, end)) != -1:
            if (found - self._start) % size == 0:
                return fmt.decode_record(data[found : found + size], self._types, self._museums)
            start = found + 1  # the bytes matched inside another field: look further
        return None

    def find_number(self, number: str) -> PassRecord | None:
        """The record with printed pass number ``number`` (a scan: for staff, not taps)."""
        encoded = number.encode()
        if not encoded or len(encoded) > 12:
            return None
        field = encoded.ljust(12, b"\0")
        size = self._size
        data, position, end = self._map, self._start, self._start + self.count * size
        while (found := data.find(field, position, end)) != -1:
            record_start = found - _NUMBER_AT
            if (record_start - self._start) % size == 0:
                return fmt.decode_record(data[record_start : record_start + size], self._types,
                                         self._museums)  # fmt: skip
            position = found + 1
        return None

    @property
    def types(self) -> list[PassType]:
        return list(self._types)
