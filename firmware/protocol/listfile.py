"""The signed pass-list file: its header, and its verification, as the hub checks a list.

Defined in ``firmware/lists/format.py`` and ``firmware/lists/verify.py``; this
is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.lists.format import (
    MAGIC,
    MAX_HEADER_BYTES,
    Header,
    ListFormatError,
    find_number_serial,
    find_serial,
    read_header,
)
from firmware.lists.verify import ListRejected, verify_file

__all__ = ["MAGIC", "MAX_HEADER_BYTES", "Header", "ListFormatError", "ListRejected",
           "find_number_serial", "find_serial", "read_header", "verify_file"]  # fmt: skip
