"""Small worlds for the tests: a gate on real SQLite files, gpiozero's MockFactory
and a clock the test moves."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory, MockPin

from firmware import config
from firmware.app import Gate, build_gate
from firmware.clock import ManualClock
from firmware.demo import write_demo, write_demo_list
from firmware.events import CardTapped
from firmware.lists.manager import ListManager
from firmware.lists.publisher import Signer
from firmware.trust import TrustStore, certify, raw_public

# The screen's tests draw into SDL's dummy driver: no window, real pygame events.
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
# The sync tests' fixtures: mosquitto, the hub, gates with their MQTT client, the
# PostgreSQL server the hub's tests run against as well as SQLite, a fake pass Culture;
# the console's: a hub folder with records of three gates, accounts of every role; pass
# Culture and Pass+: a hub asking the fake pass Culture, gates of one museum.
pytest_plugins = ["syncworld", "pgserver", "fake_passculture", "consoleworld", "cultureworld"]

PARIS = ZoneInfo("Europe/Paris")
DEMO_DAY = date(2026, 6, 1)

# The demo list's named serials (see firmware/demo.py).
ACTIVE = "04A1B2C3D4E501"
SOLD = "04A1B2C3D4E502"
EXPIRED = "04A1B2C3D4E503"
BLOCKED = "04A1B2C3D4E504"
STOCK = "04A1B2C3D4E505"
ENDING_SOON = "04A1B2C3D4E506"
FAMILY = "04A1B2C3D4E507"
SINGLE = "04A1B2C3D4E508"  # a pass type that allows no children


def paris(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> float:
    """Epoch seconds for a museum-local time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).timestamp()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WatchedPin(MockPin):
    """A mock pin that calls ``on_change(pin, state)`` whenever an output changes."""

    on_change: Callable[[WatchedPin, bool], None] | None = None

    def _change_state(self, value: bool) -> bool:
        changed = super()._change_state(value)
        if changed and WatchedPin.on_change is not None:
            WatchedPin.on_change(self, value)
        return changed


DEMO_KEYS = Path(__file__).parent.parent / "provisioning" / "demo-keys"

# Lists signed by throwaway keys (tests/test_lists.py and tests/test_trust_attacks.py).
LIST_NOW = 1_780_000_000.0
YEAR_S = 365 * 86400.0


@dataclass
class Pki:
    root: Ed25519PrivateKey
    signer: Signer

    @property
    def root_public(self) -> bytes:
        return raw_public(self.root.public_key())

    def signing_key(
        self, purposes=("list",), not_after=LIST_NOW + 365 * 86400.0, demo=False
    ) -> Signer:
        key = Ed25519PrivateKey.generate()
        cert = certify(self.root, raw_public(key.public_key()), list(purposes), LIST_NOW - 86400.0,
                       not_after, demo=demo)  # fmt: skip
        return Signer(key, cert)


@pytest.fixture
def pki() -> Pki:
    root = Ed25519PrivateKey.generate()
    key = Ed25519PrivateKey.generate()
    cert = certify(
        root,
        raw_public(key.public_key()),
        ["list", "hub"],
        LIST_NOW - 86400.0,
        LIST_NOW + 365 * 86400.0,
    )
    return Pki(root, Signer(key, cert))


@pytest.fixture
def manager(tmp_path: Path, pki: Pki) -> ListManager:
    trust = TrustStore.open(pki.root_public, tmp_path / "trust.json")
    manager = ListManager(tmp_path, trust, max_payload_bytes=1 << 20)
    yield manager
    manager.close()


@pytest.fixture
def demo_list(tmp_path: Path) -> tuple[Path, Path]:
    return write_demo(tmp_path / "demo", DEMO_DAY, filler=50)


@pytest.fixture
def demo_signed_list(demo_list: tuple[Path, Path]) -> Path:
    """The demo passes as a snapshot signed by the demonstration keys, issued on DEMO_DAY."""
    passes, types = demo_list
    out = passes.parent / "list.pql"
    return write_demo_list(passes, types, DEMO_KEYS, out, paris(2026, 6, 1, 6), 60 * 86400)


@pytest.fixture
def make_settings(tmp_path: Path, demo_signed_list: Path) -> Callable[..., config.Settings]:
    """Settings for a gate in ``tmp_path``; keyword sections override the defaults."""

    def make(**sections: dict[str, Any]) -> config.Settings:
        data: dict[str, dict[str, Any]] = {
            "gate": {"museum": "M1", "gate": "G1", "data_dir": str(tmp_path / "data")},
            "gpio": {"pin_factory": "mock"},
            "lists": {
                "root_key": str(DEMO_KEYS / "root.pub"),
                "allow_demo_keys": True,
                "install_at_start": str(demo_signed_list),
            },
            "status": {"runtime_dir": str(tmp_path / "run")},
        }
        for name, values in sections.items():
            section = data.setdefault(name, {})
            section.update(values)
            for key in [k for k, v in values.items() if v is None]:  # None removes a key
                del section[key]
        return config.from_dict(data, source="test.toml")

    return make


class World:
    """A built gate plus the handles a test needs to drive and observe it."""

    def __init__(self, gate: Gate, clock: ManualClock, factory: MockFactory) -> None:
        self.gate, self.clock, self.factory = gate, clock, factory
        self.loop, self.journal = gate.loop, gate.journal

    def tap(self, serial: str) -> None:
        self.loop.handle(CardTapped(bytes.fromhex(serial), self.clock.monotonic()))

    def pin(self, number: int) -> MockPin:
        return self.factory.pin(number)

    @property
    def relay_on(self) -> bool:
        return self.gate.hardware.relay.value == 1

    def last(self) -> Any:
        record = self.journal.models.record
        return record.select().order_by(record.seq.desc()).get()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.loop.run_due_timers()


@pytest.fixture
def make_world(make_settings: Callable[..., config.Settings]) -> Iterator[Callable[..., World]]:
    worlds: list[World] = []

    def make(wall: float | None = None, **sections: dict[str, Any]) -> World:
        clock = ManualClock(wall=paris(2026, 6, 1) if wall is None else wall)
        factory = MockFactory(pin_class=WatchedPin)
        gate = build_gate(make_settings(**sections), clock=clock, pin_factory=factory)
        world = World(gate, clock, factory)
        worlds.append(world)
        return world

    yield make
    WatchedPin.on_change = None
    for world in worlds:
        world.gate.close()


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()
