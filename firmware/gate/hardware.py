"""The gate's outputs and sensor, as gpiozero devices.

The pin factory is chosen by name in config (``lgpio`` on a Pi, ``mock`` in
tests and simulation) and handed to every device; nothing else in the
daemon knows which one is in use. Outputs only change when the loop says
so: the loop owns timing, so a pulse ends by the injected clock, not by a
gpiozero background thread.

Safe state: relay de-energised, LEDs and buzzer off. Every device is built
with ``initial_value=False``, so the relay is held in the safe state from
the moment the process claims the pin, and ``safe()`` restores it before
the pins are released at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from gpiozero import LED, Buzzer, DigitalInputDevice, DigitalOutputDevice, GPIOZeroError
from gpiozero.pins import Factory

from firmware.config import GpioSettings

log = logging.getLogger("portique.gate")


class HardwareError(Exception):
    """The GPIO pins cannot be claimed; the message says which factory, which pin and why."""


# What a missing GPIO library means on each factory, for the person reading the message.
_INSTALL_HINT = {
    "lgpio": "on Raspberry Pi OS: sudo apt-get install python3-lgpio "
    "(and a virtual environment made with --system-site-packages); "
    'off a Pi, simulate with pin_factory = "mock"',
    "rpigpio": "on Raspberry Pi OS: sudo apt-get install python3-rpi-lgpio",
    "pigpio": "on Raspberry Pi OS: sudo apt-get install python3-pigpio pigpiod",
}


def make_pin_factory(name: str) -> Factory:
    """The gpiozero pin factory called ``name`` in config.

    Raises HardwareError, naming the factory and what to do, when its library
    is missing or the machine has no such GPIO (a factory meant for a Pi, off a Pi).
    """
    try:
        return _pin_factory(name)
    except ImportError as exc:
        hint = _INSTALL_HINT.get(name, "install it, or choose another [gpio] pin_factory")
        raise HardwareError(
            f'[gpio] pin_factory = "{name}": its library is missing ({exc}); {hint}'
        ) from None
    except (OSError, RuntimeError, GPIOZeroError) as exc:  # lgpio.error is a RuntimeError
        raise HardwareError(
            f'[gpio] pin_factory = "{name}": this machine\'s GPIO cannot be opened ({exc}); '
            'is this a Raspberry Pi? Off a Pi, simulate with pin_factory = "mock"'
        ) from None


def _pin_factory(name: str) -> Factory:
    # gpiozero's own registry: the name in config is the entry point's name.
    for point in entry_points(group="gpiozero_pin_factories", name=name):
        return point.load()()
    raise ValueError(f"unknown pin factory {name!r}")


class GateHardware:
    """Relay, green and red LEDs, buzzer and the optional passage sensor."""

    def __init__(
        self,
        settings: GpioSettings,
        factory: Factory,
        on_passage: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.relay = DigitalOutputDevice(
            settings.relay_pin,
            active_high=settings.relay_active_high,
            initial_value=False,
            pin_factory=factory,
        )
        self.green = LED(settings.green_led_pin, initial_value=False, pin_factory=factory)
        self.red = LED(settings.red_led_pin, initial_value=False, pin_factory=factory)
        self.buzzer = Buzzer(settings.buzzer_pin, initial_value=False, pin_factory=factory)
        self.passage: DigitalInputDevice | None = None
        if settings.passage_sensor_pin:
            # A beam sensor pulls the line low while someone is in it.
            self.passage = DigitalInputDevice(
                settings.passage_sensor_pin, pull_up=True, pin_factory=factory
            )
            if on_passage is not None:
                self.passage.when_activated = lambda: on_passage()
        log.info(
            "gate hardware ready: relay on GPIO%d (active %s), safe state: relay off",
            settings.relay_pin,
            "high" if settings.relay_active_high else "low",
        )

    def open_gate(self) -> None:
        self.relay.on()
        self.green.on()
        self.red.off()
        log.info("relay energised: gate open")

    def close_gate(self) -> None:
        self.relay.off()
        self.green.off()
        log.info("relay released: gate closed")

    def signal_refusal(self) -> None:
        self.red.on()
        self.buzzer.on()

    def signal_fault(self) -> None:
        """The gate cannot record entries: red LED stays on, no relay."""
        self.red.on()

    def clear_signals(self) -> None:
        self.red.off()
        self.buzzer.off()

    def beep_off(self) -> None:
        self.buzzer.off()

    def safe(self) -> None:
        """Put every output in its safe state."""
        self.relay.off()
        self.green.off()
        self.red.off()
        self.buzzer.off()

    def close(self) -> None:
        self.safe()
        for device in (self.relay, self.green, self.red, self.buzzer, self.passage):
            if device is not None:
                device.close()
