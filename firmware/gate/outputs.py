"""The gate's outputs in time: how long the relay stays open, how long a refusal shows.

``GateHardware`` switches the devices; this module decides when, on the
reactor's timers (the injected clock), never on gpiozero's background threads.
"""

from __future__ import annotations

from firmware.gate.hardware import GateHardware
from firmware.gate.reactor import NEVER, Reactor

REFUSAL_SIGNAL_S = 2.0
BEEP_S = 0.3


class Outputs:
    def __init__(self, reactor: Reactor, hardware: GateHardware, relay_pulse_s: float,
                 drive_relay: bool = True) -> None:  # fmt: skip
        self._reactor, self.hardware, self.relay_pulse_s = reactor, hardware, relay_pulse_s
        # A counter desk ([gate] mode = "desk") has no turnstile: an entry it records
        # lights the green LED only; the relay pin stays in its safe state.
        self.drive_relay = drive_relay
        self._relay_off_at = 0.0
        self._fault = False
        reactor.on_stop(lambda _eventtime: hardware.safe())

    def open_for(self, persons: int) -> None:
        """Energise the relay for one pulse length per person walking through."""
        if self.drive_relay:
            self.hardware.open_gate()
        else:
            self.hardware.green.on()
        # A second grant during a pulse extends it; the earlier timer then does nothing.
        open_s = self.relay_pulse_s * persons
        self._relay_off_at = max(self._relay_off_at, self._reactor.monotonic() + open_s)
        self._reactor.schedule(open_s, self._release_relay)

    def _release_relay(self, eventtime: float) -> float | None:
        if eventtime >= self._relay_off_at:
            self.hardware.close_gate()
        return NEVER

    def signal_refusal(self) -> None:
        self.hardware.signal_refusal()
        self._reactor.schedule(BEEP_S, lambda _t: self.hardware.beep_off())
        self._reactor.schedule(REFUSAL_SIGNAL_S, self._end_refusal_signal)

    def _end_refusal_signal(self, _eventtime: float) -> None:
        if not self._fault:
            self.hardware.clear_signals()

    def signal_fault(self) -> None:
        """Entries cannot be recorded: the red LED stays on until they can."""
        self._fault = True
        self.hardware.signal_fault()

    def clear_fault(self) -> None:
        if self._fault:
            self._fault = False
            self.hardware.clear_signals()
