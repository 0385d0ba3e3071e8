"""Time that cannot be poisoned: a gate booting at 2069, a clock jumping ahead while
running, a list dated in the future, then the clock corrected. At no step is a
valid pass refused or an expired one admitted, and the floor is never raised
by what the gate cannot believe. A floor poisoned by a past mistake recovers
through the hub's signed beacon, over a real broker."""

from __future__ import annotations

from pathlib import Path

from conftest import ACTIVE, DEMO_DAY, DEMO_KEYS, EXPIRED, paris
from syncworld import LogWatch

from firmware.clock import TRUST_HORIZON_S
from firmware.demo import write_demo, write_demo_list
from firmware.events import CardTapped
from firmware.journal.journal import Journal

YEAR_2069 = paris(2069, 6, 1)


def assert_decides_right(world, trusted: bool) -> str:  # noqa: ANN001 - World
    """A valid pass admitted, an expired one refused; return the day both were dated."""
    world.tap(ACTIVE)
    admitted = world.last()
    assert admitted.admitted and admitted.time_trusted == trusted
    world.advance(5)
    world.tap(EXPIRED)
    refusal = world.last()
    assert (refusal.admitted, refusal.reason) == (False, "expired")
    world.advance(600)  # past anti-passback: the next step's tap is a re-entry
    return admitted.day


def test_boot_at_2069_jump_ahead_future_list_then_correction_never_decide_wrongly(
    make_world, tmp_path: Path
) -> None:
    world = make_world(wall=paris(2026, 6, 1))
    assert assert_decides_right(world, trusted=True) == "2026-06-01"
    world.gate.time.save_clock_floor()
    world.gate.close()

    # Boot at 2069 (an RTC-less Pi, a bad NTP answer): untrusted, the floor decides.
    booted = make_world(wall=YEAR_2069)
    assert assert_decides_right(booted, trusted=False) == "2026-06-01"
    floor = booted.gate.clock.floor()
    booted.gate.time.save_clock_floor()
    assert floor < paris(2026, 6, 2)

    # Corrected while running: trusted again.
    booted.clock.set_wall(paris(2026, 6, 1, 11))
    assert assert_decides_right(booted, trusted=True) == "2026-06-01"

    # Jumps ahead mid-run beyond the horizon: untrusted until it comes back.
    booted.clock.set_wall(paris(2026, 6, 1, 11) + TRUST_HORIZON_S + 86400)
    assert assert_decides_right(booted, trusted=False) == "2026-06-01"

    # A list signed by a clock in the future: refused, and the floor stays.
    passes, types = write_demo(tmp_path / "future", DEMO_DAY, filler=3)
    future = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "future.pql",
                             paris(2027, 6, 1), version=2_000_000_000)  # fmt: skip
    booted.clock.set_wall(paris(2026, 6, 1, 12))
    floor = booted.gate.clock.now().wall
    assert not booted.gate.lists.apply(future.read_bytes())
    assert booted.gate.store.lists.rejections["issued_in_future"] == 1
    assert booted.gate.clock.floor() < floor + 60
    assert assert_decides_right(booted, trusted=True) == "2026-06-01"
    booted.gate.close()

    # After a restart nothing of it remains: not the 2069 boot, not the future list.
    again = make_world(wall=paris(2026, 6, 1, 13))
    assert assert_decides_right(again, trusted=True) == "2026-06-01"
    records = again.journal.models.record
    assert max(r.wall for r in records.select()) < paris(2026, 6, 2)


def test_a_poisoned_floor_recovers_through_the_hubs_signed_beacon(
    tmp_path: Path, make_gate, logs: LogWatch
) -> None:
    gate = make_gate(start=False)
    # A floor saved by a past mistake (an old firmware, a clock set ahead once).
    gate.gate.clock.raise_floor(YEAR_2069)
    gate.journal.store_floor(YEAR_2069)
    poisoned = gate.gate.clock.now()
    assert not poisoned.trusted and poisoned.wall >= YEAR_2069
    gate.start()  # the hub's beacon is retained: the gate hears it on connecting
    logs.wait_for("it follows the hub now")
    now = gate.on_loop(lambda: gate.gate.clock.now())
    assert now.trusted and now.wall < YEAR_2069
    gate.on_loop(lambda: gate.loop.handle(CardTapped(bytes.fromhex(ACTIVE), 0.0)))
    gate.wait_acked(1)  # the hub's acknowledgements verify although the clock was wrong
    record = gate.on_loop(lambda: list(gate.journal.records())[-1])
    assert record.time_trusted and record.wall < YEAR_2069
    gate.stop()
    journal = Journal.open(tmp_path / "gate-G1" / "journal.sqlite", readonly=True)
    try:
        assert journal.stored_floor() < YEAR_2069  # a restart does not poison it again
    finally:
        journal.close()
