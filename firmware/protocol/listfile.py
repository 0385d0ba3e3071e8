"""The signed pass-list file's header, read by the hub before it publishes a list.

Defined in ``firmware/lists/format.py``; this is the name the hub imports it by.
"""

from __future__ import annotations

from firmware.lists.format import MAGIC, MAX_HEADER_BYTES, Header, ListFormatError, read_header

__all__ = ["MAGIC", "MAX_HEADER_BYTES", "Header", "ListFormatError", "read_header"]
