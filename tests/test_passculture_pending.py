"""Codes queued at a desk while the hub was away: the hub's pass Culture thread validates
them later, tries again while pass Culture is unreachable, and never twice. The hub's
handler runs on its own thread against the fake pass Culture; its clock is moved."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fake_passculture import KEY, VENUE, FakePassCulture

from hub.keys import HubSigner, init_keys
from hub.models import open_hub
from hub.passculture.handler import PENDING_RETRY_S, PassCultureHandler

WAIT_S = 60.0
T0 = 1_790_000_000.0


class Moved:
    """The handler's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.wall = T0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.wall

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.wall += seconds


@pytest.fixture
def handler(tmp_path: Path, fake_pc: FakePassCulture) -> Iterator[tuple[PassCultureHandler, Moved,
                                                                       list[tuple]]]:  # fmt: skip
    init_keys(tmp_path, T0)
    settings = tmp_path / "passculture.toml"
    settings.write_text(f'base_url = "{fake_pc.url}"\n\n[museum.LOUVRE]\n'
                        f'api_key = "{KEY}"\nvenues = [{VENUE}]\n')  # fmt: skip
    os.chmod(settings, 0o600)
    m = open_hub(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)  # never connected: answers go nowhere
    now, problems = Moved(), []
    running = PassCultureHandler.from_data_dir(
        tmp_path, m.db, client, HubSigner.load(tmp_path), now,
        report=lambda *problem: problems.append(problem),
    )  # fmt: skip
    running.start()
    yield running, now, problems
    running.stop()
    m.db.close()


def pending(code: str, seq: int) -> dict:
    return {"uuid": str(uuid.uuid4()), "credential": code, "operator": "Marie",
            "wall": T0 - 60, "seq": seq}  # fmt: skip


def test_pass_culture_unreachable_the_queued_code_is_tried_again_and_validated_once(
    handler: tuple[PassCultureHandler, Moved, list[tuple]], fake_pc: FakePassCulture
) -> None:
    running, now, problems = handler
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.add_booking(KEY, "QTHER2", venue_id=VENUE)
    first = pending("AB3DK7", 1)
    fake_pc.go_down()
    running.submit_pending("LOUVRE", "desk-1", first)
    assert running.wait_answered(1, WAIT_S)
    t = running.table
    assert t.select().count() == 0  # not settled: kept to try again, nothing recorded
    fake_pc.come_back()
    now.advance(PENDING_RETRY_S[0] + 1)
    running.submit_pending("LOUVRE", "desk-1", pending("QTHER2", 2))  # the next one wakes it
    assert running.wait_answered(3, WAIT_S)
    assert sorted(row.code for row in t.select().where(t.outcome == "admit")) == [
        "AB3DK7", "QTHER2"]  # fmt: skip
    assert fake_pc.status("AB3DK7") == "USED" and problems == []
    running.submit_pending("LOUVRE", "desk-1", first)  # the same record uploaded again
    assert running.wait_answered(4, WAIT_S)
    assert fake_pc.count("PATCH", "/use/") == 2 and t.select().count() == 2
