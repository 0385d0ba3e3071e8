"""Software versions as both ends compare them: the gate with the office's release notice,
the hub's console with what each gate reports.

Defined in ``firmware/version.py``; this is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.version import SOFTWARE_VERSION, newer

__all__ = ["SOFTWARE_VERSION", "newer"]
