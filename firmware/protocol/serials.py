"""Which chip serials exist: ISO 14443-A UIDs are 4, 7 or 10 bytes (single, double, triple)."""

from __future__ import annotations

VALID_SERIAL_BYTES = (4, 7, 10)
