"""The clock both ends take time from (``firmware/clock.py``): injected, set by tests.

Times are part of what gate and hub agree on (signed issue times, beacons,
request deadlines); both read them from the same ``Clock`` interface.
"""

from __future__ import annotations

from firmware.clock import Clock, ManualClock, SystemClock

__all__ = ["Clock", "ManualClock", "SystemClock"]
