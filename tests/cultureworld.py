"""A small world for the pass Culture and Pass+ tests: a real mosquitto, a real hub with its
passculture.toml pointing at the fake pass Culture server, and gates of one museum running
their loop and MQTT client as ``portique run`` has them."""

from __future__ import annotations

import dataclasses
import os
import queue
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pygame
import pytest
from conftest import DEMO_KEYS
from fake_passculture import KEY, VENUE, FakePassCulture
from syncworld import WAIT_S, Hub, Mosquitto, SyncGate, sync_section

from firmware import config
from firmware.app import STAFF_FILE
from firmware.clock import SystemClock
from firmware.demo import write_demo, write_demo_list
from firmware.display.kiosk import Kiosk
from firmware.display.ui import Action
from firmware.events import PassCultureCode, StaffLogin
from firmware.gate.culture import CultureOutcome
from firmware.gate.staff import Role, StaffMember, hash_pin, save_staff

CHEAP = 2**4  # scrypt cost for tests only

MUSEUM = "LOUVRE"
FINAL = {"admit", "refuse", "desk", "pending", "undone"}


class CultureGate:
    """A running gate, the outcomes its screen would show, and the records of its journal."""

    def __init__(self, gate: SyncGate) -> None:
        self.sync = gate
        self.outcomes: queue.Queue[CultureOutcome] = queue.Queue()
        gate.gate.on_view.append(
            lambda view: self.outcomes.put(view) if isinstance(view, CultureOutcome) else None
        )

    def post(self, event: object) -> None:
        self.sync.loop.post(event)

    def outcome(self) -> CultureOutcome:
        """The next final outcome (an answer, a refusal), skipping "waiting"."""
        while True:
            shown = self.outcomes.get(timeout=WAIT_S)
            if shown.outcome in FINAL:
                return shown

    def type_code(self, text: str, at_desk: bool = False) -> CultureOutcome:
        self.post(PassCultureCode(text, at_desk=at_desk))
        return self.outcome()

    def records(self) -> list[tuple[str, bool, str, str | None, str | None]]:
        """(credential, admitted, reason, operator, detail) of the pass Culture records."""

        def read() -> list[tuple[Any, ...]]:
            return self.sync.journal.db.execute_sql(
                "SELECT credential, admitted, reason, operator, detail FROM record "
                "WHERE credential_kind = 'passculture' ORDER BY seq"
            ).fetchall()

        # On the loop's thread while it runs (it owns the journal), else here.
        running = self.sync._thread.is_alive()
        rows = self.sync.on_loop(read) if running else read()
        return [(c, bool(a), r, o, d) for c, a, r, o, d in rows]

    def relay_openings(self) -> int:
        pin = self.sync.gate.hardware.relay.pin
        states = [change.state for change in pin.states]
        return sum(1 for before, after in zip(states, states[1:], strict=False)
                   if after and not before)  # fmt: skip

    def login(self, name: str = "Marie", running: bool = True) -> None:
        path = self.sync.settings.gate.data_dir / STAFF_FILE
        save_staff(path, {name: StaffMember(name, Role.CONTROLE, hash_pin("1234", n=CHEAP))})
        login = StaffLogin(name, "1234")
        if running:
            self.sync.on_loop(lambda: self.sync.loop.handle(login))
        else:
            self.sync.loop.handle(login)


@pytest.fixture
def hub_settings() -> dict[str, Any]:
    # A generous deadline: this machine may be loaded; the 1.5 s default is a setting.
    return {"deadline_s": 8.0}


@pytest.fixture
def culture_hub(tmp_path: Path, broker: Mosquitto, fake_pc: FakePassCulture,
                hub_settings: dict[str, Any]) -> Iterator[Hub]:  # fmt: skip
    hub = Hub(tmp_path / "hub", broker.port)
    path = hub.dir / "passculture.toml"
    path.write_text(f'base_url = "{fake_pc.url}"\ndeadline_s = {hub_settings["deadline_s"]}\n\n'
                    f'[museum.{MUSEUM}]\napi_key = "{KEY}"\nvenues = [{VENUE}]\n')  # fmt: skip
    os.chmod(path, 0o600)
    hub.start()
    yield hub
    hub.stop()
    hub.m.db.close()


@pytest.fixture
def make_culture_gate(
    tmp_path: Path,
    make_settings: Callable[..., config.Settings],
    broker: Mosquitto,
    culture_hub: Hub,
    today_list: Path,
) -> Iterator[Callable[..., CultureGate]]:
    gates: list[SyncGate] = []

    def make(name: str = "gate-1", start: bool = True, **passculture: Any) -> CultureGate:
        settings = make_settings(
            gate={"museum": MUSEUM, "gate": name, "data_dir": str(tmp_path / f"gate-{name}")},
            lists={"install_at_start": str(today_list)},
            sync=sync_section(broker, culture_hub),
            passculture={"answer_timeout_s": 10.0, **passculture},
        )
        gate = SyncGate(settings)
        gates.append(gate)
        culture_hub.register(MUSEUM, name, settings.gate.data_dir)
        made = CultureGate(gate)
        if start:
            gate.start()
            culture_hub.wait_hello(MUSEUM, name)
        return made

    yield make
    for gate in gates:
        gate.stop()


@pytest.fixture
def today_list(tmp_path: Path) -> Path:
    now = SystemClock().wall()
    passes, types = write_demo(tmp_path / "today", datetime.fromtimestamp(now).date(), filler=5)
    return write_demo_list(passes, types, DEMO_KEYS, tmp_path / "today" / "list.pql", now,
                           version=1)  # fmt: skip


# -- the touch screen: real pygame events into the kiosk, the gate's loop in its thread -------


class Touchscreen:
    """The gate's screen stepped by the test while the gate's loop runs in its own thread."""

    def __init__(self, gate: CultureGate, mode: str = "gate") -> None:
        settings = gate.sync.settings
        display = dataclasses.replace(settings.display, enabled=True, fullscreen=False)
        self.kiosk = Kiosk(display, "en", settings.zone, gate.sync.loop.post,
                           gate.sync.gate.clock.source, mode)  # fmt: skip
        gate.sync.gate.on_view.append(self.kiosk.publish)
        self.kiosk.open()
        self.kiosk.step()

    def touch(self, action: Action) -> None:
        x, y = self.kiosk.button_at(action)
        size = self.kiosk.context
        pygame.event.post(pygame.event.Event(
            pygame.FINGERUP, x=x / size.width, y=y / size.height, touch_id=1, finger_id=0,
        ))  # fmt: skip
        self.kiosk.step()

    def key(self, key: int) -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
        self.kiosk.step()

    def close(self) -> None:
        self.kiosk.close()


@pytest.fixture
def touchscreen() -> Iterator[Callable[..., Touchscreen]]:
    opened: list[Touchscreen] = []

    def make(gate: CultureGate, mode: str = "gate") -> Touchscreen:
        opened.append(Touchscreen(gate, mode))
        return opened[-1]

    yield make
    for screen in opened:
        screen.close()
