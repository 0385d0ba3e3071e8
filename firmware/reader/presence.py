"""One tap per presentation: decide which sightings of a card are new taps.

The reader sees a card that rests on it again at every poll, but the visitor
tapped once. A sighting is a new tap when that card had not been seen for the
removal time; a different card is a new tap at once. Cards are tracked one by
one, so two cards lying on the reader together (which a reader may report in
turn) give one tap each, not one tap per switch.

While the reader is away (unplugged, a glitch), nobody can tell whether a
card stays on it: ``pause`` and ``resume`` take that time out of the count.

This is pure logic: no I/O, no clock. The caller passes monotonic instants, so
tests can state exact times.
"""

from __future__ import annotations

# Differences of monotonic instants are not exact (1000.3 - 1000.0 is
# 0.29999...); this keeps a gap of exactly the removal time on the "removed"
# side, as documented, instead of depending on rounding.
_EPSILON_S = 1e-6


class Presence:
    """Which cards are on the reader now, and whether a sighting is a new tap."""

    def __init__(self, removal_s: float) -> None:
        if removal_s <= 0:
            raise ValueError(f"removal time must be positive, not {removal_s!r} s")
        self._removal_s = removal_s
        self._last_seen: dict[bytes, float] = {}
        self._paused_at: float | None = None

    def seen(self, serial: bytes, mono: float) -> bool:
        """Record that ``serial`` was read at ``mono``; True when it is a new tap."""
        self._forget_removed(mono)
        new = serial not in self._last_seen
        self._last_seen[serial] = mono
        return new

    def nothing_seen(self, mono: float) -> None:
        """Record a poll that found no card (cards unseen long enough are gone)."""
        self._forget_removed(mono)

    def pause(self, mono: float) -> None:
        """The reader stopped answering at ``mono``: what lies on it is unknown until ``resume``."""
        if self._paused_at is None:
            self._paused_at = mono

    def resume(self, mono: float) -> None:
        """The reader answers again at ``mono``: the time it was away does not count.

        A card seen just before the reader went away and seen again within the
        removal time after it is back is the same presentation, not a new tap.
        """
        if self._paused_at is not None:
            away = mono - self._paused_at
            self._last_seen = {s: t + away for s, t in self._last_seen.items()}
            self._paused_at = None

    def on_reader(self) -> frozenset[bytes]:
        """The cards resting on the reader as of the last ``seen``/``nothing_seen`` call."""
        return frozenset(self._last_seen)

    def _forget_removed(self, mono: float) -> None:
        limit = self._removal_s - _EPSILON_S
        self._last_seen = {s: t for s, t in self._last_seen.items() if mono - t < limit}
