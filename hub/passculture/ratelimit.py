"""A token bucket per API key: pass Culture allows 200 requests a minute per key.

A bucket of capacity B refilled at r per second lets through at most B + 60·r
requests in any minute, so the default (20 + 180 a minute) never crosses pass
Culture's 200 whatever the window it counts in. Time is the injected clock's
monotonic time. ``hold_until`` is where a 429's
Retry-After lands: no request is sent before it, whatever the bucket holds.
"""

from __future__ import annotations

import threading

from firmware.protocol.time import Clock

MIN_WAIT_S = 0.001
EPSILON = 1e-9


class TokenBucket:
    def __init__(self, clock: Clock, per_minute: int = 180, burst: int = 20) -> None:
        self._clock = clock
        self._rate = per_minute / 60.0
        self._capacity = float(burst)
        self._tokens = self._capacity
        self._stamp = clock.monotonic()
        self._hold_until = 0.0
        self._lock = threading.Lock()

    def wait_needed(self) -> float:
        """Seconds until a request may be sent (0 when one may go now)."""
        with self._lock:
            now = self._refill()
            hold = max(0.0, self._hold_until - now)
            lack = max(0.0, 1.0 - self._tokens) / self._rate
            wait = max(hold, lack)
            # Never a vanishing wait: float rounding must not spin a caller in place.
            return 0.0 if wait == 0.0 else max(wait, MIN_WAIT_S)

    def take(self) -> bool:
        """Spend one token for a request about to be sent; False when none may go now."""
        with self._lock:
            now = self._refill()
            if now < self._hold_until or self._tokens < 1.0 - EPSILON:
                return False
            self._tokens = max(0.0, self._tokens - 1.0)
            return True

    def hold(self, seconds: float) -> None:
        """pass Culture said 429: send nothing for ``seconds``, and start again empty."""
        with self._lock:
            now = self._refill()
            self._hold_until = max(self._hold_until, now + seconds)
            self._tokens = 0.0

    def _refill(self) -> float:
        now = self._clock.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        return now
