"""The gate loop end to end on real SQLite files and gpiozero's MockFactory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import (
    ACTIVE,
    DEMO_DAY,
    DEMO_KEYS,
    EXPIRED,
    FAMILY,
    SINGLE,
    SOLD,
    STOCK,
    WatchedPin,
    World,
    paris,
)

from firmware.app import JOURNAL_FILE, build_gate
from firmware.clock import ManualClock
from firmware.demo import write_demo, write_demo_list
from firmware.gate.decision import Credential, History, decide_forced
from firmware.journal.database import StorageError


def committed_seqs(data_dir: Path) -> int:
    """What another connection sees in the journal file: only committed records."""
    with sqlite3.connect(data_dir / JOURNAL_FILE) as con:
        return con.execute("SELECT count(*) FROM record").fetchone()[0]


def test_record_is_committed_before_the_relay_is_energised(world: World) -> None:
    data_dir = world.gate.settings.gate.data_dir
    relay_pin = world.gate.settings.gpio.relay_pin
    seen_when_relay_moved: list[int] = []

    def on_change(pin: WatchedPin, state: bool) -> None:
        if pin.info.name == f"GPIO{relay_pin}" and state:
            seen_when_relay_moved.append(committed_seqs(data_dir))

    WatchedPin.on_change = on_change
    world.tap(ACTIVE)
    assert seen_when_relay_moved == [1]
    assert world.last().admitted


def test_refused_tap_is_journaled_and_never_moves_the_relay(world: World) -> None:
    world.tap(EXPIRED)
    assert not world.relay_on
    assert world.last().reason == "expired"
    assert world.pin(world.gate.settings.gpio.red_led_pin).state
    world.pin(world.gate.settings.gpio.relay_pin).assert_states([False])


def test_relay_is_released_after_the_configured_pulse(make_world) -> None:
    world = make_world(gpio={"relay_pulse_ms": 800})
    world.tap(ACTIVE)
    assert world.relay_on
    world.advance(0.79)
    assert world.relay_on
    world.advance(0.02)
    assert not world.relay_on


def test_a_second_grant_during_a_pulse_extends_it(make_world) -> None:
    world = make_world(gpio={"relay_pulse_ms": 1000})
    world.tap(ACTIVE)
    world.advance(0.6)
    world.tap(SINGLE)  # one holder, no children: one more pulse
    world.advance(0.6)
    assert world.relay_on
    world.advance(0.5)
    assert not world.relay_on


def test_activation_is_stored_and_survives_a_restart(make_world) -> None:
    first = make_world()
    first.tap(SOLD)
    assert first.last().reason == "activated"
    assert first.last().valid_until == "2027-05-31"
    first.gate.close()

    later = make_world(wall=paris(2026, 6, 2))
    later.tap(SOLD)
    assert later.last().reason == "ok"
    assert later.last().valid_until == "2027-05-31"


def test_same_pass_later_the_same_day_is_admitted_but_not_billable(make_world) -> None:
    world = make_world(rules={"anti_passback_s": 60})
    world.tap(ACTIVE)
    world.advance(61)
    world.tap(ACTIVE)
    assert world.last().reason == "reentry"
    assert world.last().admitted and not world.last().billable


def test_same_pass_again_within_the_window_shows_the_admission_and_opens_nothing(
    make_world,
) -> None:
    world = make_world(rules={"anti_passback_s": 60})
    views: list[object] = []
    world.gate.on_view.append(views.append)
    world.tap(ACTIVE)
    world.advance(30)
    world.gate.hardware.close_gate()
    first = world.last()
    world.tap(ACTIVE)  # the holder, unsure the gate opened; or someone handed the pass back
    repeat = world.last()  # journaled as the harmless repeat it is: abuse stays visible
    assert (repeat.seq, repeat.reason, repeat.admitted, repeat.billable) == (
        2, "already_entered", False, False)  # fmt: skip
    assert repeat.persons is None
    assert not world.relay_on  # the relay opened once, for the person journaled
    assert world.gate.hardware.buzzer.value == 0  # and no refusal signal either
    again = views[-1]
    assert again.admitted and again.reason == "already_entered"
    assert again.repeat_of == first.wall and again.persons == 1
    world.advance(30)
    world.tap(ACTIVE)  # past the window: a new entry (not billable: same day)
    assert (world.journal.last_seq, world.last().reason) == (3, "reentry")


def test_sequence_has_no_gaps_and_the_hash_chain_verifies_across_restarts(make_world) -> None:
    first = make_world()
    for serial in (ACTIVE, EXPIRED, STOCK, "DEADBEEF", "0102030405"):
        first.tap(serial)
        first.advance(1)
    first.gate.close()
    second = make_world(wall=paris(2026, 6, 1, 11))
    second.tap(FAMILY)
    seqs = [r.seq for r in second.journal.records()]
    assert seqs == [1, 2, 3, 4, 5, 6]
    assert len({r.uuid for r in second.journal.records()}) == 6
    assert second.journal.verify_chain() == []


def test_an_edited_record_breaks_the_chain(world: World) -> None:
    world.tap(ACTIVE)
    world.tap(EXPIRED)
    with sqlite3.connect(world.journal.path) as con:
        con.execute("UPDATE record SET admitted = 1 WHERE seq = 2")
    assert world.journal.verify_chain() == ["seq 2: content does not match its hash"]


def test_odd_serial_is_journaled_as_invalid(world: World) -> None:
    world.tap("0102030405")
    assert (world.last().reason, world.last().credential) == ("invalid_serial", "0102030405")


def test_grant_nobody_walks_through_gets_a_not_passed_record(make_world) -> None:
    world = make_world(gpio={"passage_sensor_pin": 5, "passage_timeout_s": 8})
    world.tap(ACTIVE)
    granted = world.last().seq
    world.advance(8.1)
    record = world.last()
    assert (record.kind, record.reason, record.refers_to) == ("not_passed", "not_passed", granted)
    assert world.journal.models.record.get_by_id(granted).admitted  # never updated in place


def test_grant_someone_walks_through_gets_no_extra_record(make_world) -> None:
    world = make_world(gpio={"passage_sensor_pin": 5, "passage_timeout_s": 8})
    world.tap(ACTIVE)
    world.pin(5).drive_low()  # the beam is broken: someone walks through
    world.loop.process_pending()
    world.advance(8.1)
    assert world.last().kind == "decision"


def test_disk_full_keeps_the_gate_shut_and_recovers(world: World) -> None:
    world.tap(ACTIVE)
    world.advance(5)
    world.gate.hardware.close_gate()
    pages = world.journal.db.execute_sql("PRAGMA page_count").fetchone()[0]
    world.journal.db.execute_sql(f"PRAGMA max_page_count = {pages}")
    for index in range(40):  # fill the last free pages, then fail
        world.tap(f"DEAD{index:04X}")
        if not world.gate.recorder.ok:
            break
    assert not world.gate.recorder.ok
    assert "disk full" in world.gate.recorder.detail
    last_stored = world.journal.last_seq
    world.tap(FAMILY)
    assert not world.relay_on and world.journal.last_seq == last_stored

    world.journal.db.execute_sql(f"PRAGMA max_page_count = {pages * 100}")
    world.tap(FAMILY)
    assert world.relay_on and world.gate.recorder.ok
    assert world.journal.verify_chain() == []


def test_corrupt_journal_is_refused_and_left_untouched(make_world, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    garbage = b"this is not a database" * 200
    (data_dir / JOURNAL_FILE).write_bytes(garbage)
    with pytest.raises(StorageError, match=f"{data_dir / JOURNAL_FILE}.*move it aside"):
        make_world()
    assert (data_dir / JOURNAL_FILE).read_bytes() == garbage


def test_data_directory_that_cannot_be_written_is_named(make_settings, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data directory should be")
    settings = make_settings(gate={"data_dir": str(blocker / "data")})
    with pytest.raises(StorageError, match=f"data directory {blocker / 'data'}"):
        build_gate(settings, clock=ManualClock())


def test_booting_at_1970_keeps_the_last_known_time(make_world) -> None:
    first = make_world(wall=paris(2026, 6, 1))
    first.tap(ACTIVE)
    first.gate.close()
    # After a power cut the Pi believes it is 1970: the expired pass stays expired,
    # the active one stays valid, and the records say the clock was not trusted.
    rebooted = make_world(wall=0.0)
    rebooted.tap(EXPIRED)
    assert rebooted.last().reason == "expired"
    assert not rebooted.last().time_trusted
    assert rebooted.last().day == "2026-06-01"
    rebooted.tap(FAMILY)
    assert rebooted.last().reason == "ok"


def test_heartbeat_floor_survives_an_idle_gate(make_world) -> None:
    first = make_world(wall=paris(2026, 6, 1))
    first.tap(ACTIVE)
    first.clock.advance(86400 * 3)  # three idle days, no taps
    first.gate.time.save_clock_floor()
    first.gate.close()
    rebooted = make_world(wall=paris(2026, 5, 1))  # a clock a month behind
    rebooted.tap(FAMILY)
    assert rebooted.last().day == "2026-06-04"
    assert not rebooted.last().time_trusted


def test_a_fresh_gate_booting_at_1970_starts_from_its_lists_issue_time(make_world) -> None:
    world = make_world(wall=0.0)
    world.tap(ACTIVE)
    assert world.last().day == "2026-06-01"  # the demo list was issued that morning
    assert world.last().reason == "ok"
    assert not world.last().time_trusted


def test_a_fresh_gate_without_a_list_starts_from_the_release_floor(make_world) -> None:
    world = make_world(wall=0.0, lists={"install_at_start": None})
    world.tap("DEADBEEF")
    assert world.last().day == "2026-01-01"
    assert not world.last().time_trusted


LIST_EXPIRES = paris(2026, 6, 1, 6) + 60 * 86400  # the demo list: issued 1 June, 60 days
WEEK = 168 * 3600


@pytest.mark.parametrize(
    ("wall", "freshness", "reason"),
    [
        (LIST_EXPIRES - 1, "fresh", "ok"),
        (LIST_EXPIRES + 1, "stale", "ok"),  # past expiry: known-valid passes still admitted
        (LIST_EXPIRES + WEEK, "stale", "ok"),
        (LIST_EXPIRES + WEEK + 1, "expired", "list_expired"),  # past the hard limit
    ],
)
def test_list_freshness_policy_on_both_sides_of_each_limit(
    make_world, wall: float, freshness: str, reason: str
) -> None:
    world = make_world(wall=wall, lists={"refuse_after_expiry_hours": 168})
    assert world.gate.lists.freshness(world.clock.wall()) == freshness
    world.tap(FAMILY)
    assert world.last().reason == reason


def test_list_expired_refusal_is_lifted_by_a_forced_entry(make_world) -> None:
    world = make_world(wall=LIST_EXPIRES + WEEK + 60)
    record = world.gate.store.lookup(FAMILY)
    seq = world.gate.admissions.carry_out(
        Credential("chip", FAMILY), decide_forced(record, History()), world.gate.clock.now()
    )
    assert seq is not None and world.relay_on
    assert world.last().reason == "forced"


def test_a_received_list_raises_the_clock_floor(make_world, tmp_path: Path) -> None:
    world = make_world(wall=paris(2026, 6, 1))
    passes, types = write_demo(tmp_path / "newer", DEMO_DAY, filler=5)
    newer = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "newer.pql", paris(2026, 6, 20))
    world.clock.set_wall(0.0)  # booted at 1970: untrusted, so a list from June 20 is plausible
    assert world.gate.lists.apply(newer.read_bytes())
    world.tap(ACTIVE)
    assert world.last().day == "2026-06-20" and not world.last().time_trusted
