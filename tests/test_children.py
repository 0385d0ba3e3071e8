"""Children chosen before the tap, and groups let through (the loop's side).

The idle screen posts ``ChildrenChosen`` before the tap: the next entry
carries that number (capped at the pass type's allowance), the relay opens
at the tap for the pass's holders plus the children, and the choice is used
up by that tap or forgotten after ``children_prompt_timeout_s``. These tests
post the screen's events to the loop directly; tests/test_kiosk.py drives
the screen.
"""

from __future__ import annotations

import sqlite3

from conftest import ACTIVE, FAMILY, SINGLE, World

from firmware.events import ChildrenChosen, DisplayFailed, DisplayStarted
from firmware.gate.views import Outcome


def with_screen(world: World) -> list[object]:
    views: list[object] = []
    world.gate.on_view.append(views.append)
    world.loop.handle(DisplayStarted("test screen"))
    return views


def test_children_chosen_before_the_tap_are_in_the_one_record(world: World) -> None:
    views = with_screen(world)
    world.loop.handle(ChildrenChosen(2))
    assert world.journal.last_seq == 0 and not world.relay_on
    world.tap(FAMILY)
    record = world.last()
    assert (record.reason, record.children, world.journal.last_seq) == ("ok", 2, 1)
    assert world.relay_on
    assert views[-1] == Outcome(
        admitted=True, reason="ok", credential_kind="chip", credential=FAMILY,
        pass_number="100007", valid_until=views[-1].valid_until, persons=4,
    )  # fmt: skip


def test_a_pass_that_allows_children_opens_at_the_tap_without_a_question(world: World) -> None:
    views = with_screen(world)
    world.tap(ACTIVE)
    assert world.relay_on and world.last().children == 0
    assert views[-1].persons == 1


def test_the_choice_is_used_up_by_the_next_tap(world: World) -> None:
    with_screen(world)
    world.loop.handle(ChildrenChosen(1))
    world.tap(ACTIVE)
    world.tap(FAMILY)
    first, second = list(world.journal.records())
    assert (first.children, second.children) == (1, 0)


def test_the_choice_is_forgotten_after_its_time(make_world) -> None:
    world = make_world(display={"children_prompt_timeout_s": 20})
    with_screen(world)
    world.loop.handle(ChildrenChosen(3))
    world.advance(19.9)
    world.loop.handle(ChildrenChosen(3))  # chosen again: a fresh 20 s
    world.advance(19.9)
    world.tap(FAMILY)
    assert world.last().children == 3
    world.advance(120)
    world.loop.handle(ChildrenChosen(2))
    world.advance(20)
    world.tap(FAMILY)
    assert world.last().children == 0


def test_children_are_capped_at_the_pass_allowance(world: World) -> None:
    world.loop.handle(ChildrenChosen(9))
    world.tap(FAMILY)
    assert world.last().children == 5
    world.advance(600)
    world.loop.handle(ChildrenChosen(2))
    world.tap(SINGLE)
    assert world.last().children == 0


def test_a_hostile_negative_count_is_zero(world: World) -> None:
    world.loop.handle(ChildrenChosen(-4))
    world.tap(FAMILY)
    assert world.last().children == 0 and world.relay_on


def test_a_duo_pass_opens_for_both_holders_and_their_children(make_world) -> None:
    world = make_world(gpio={"relay_pulse_ms": 1000})
    views = with_screen(world)
    world.loop.handle(ChildrenChosen(1))
    world.tap(FAMILY)  # a type with persons = 2
    assert views[-1].persons == 3
    world.advance(2.9)  # one pulse per person
    assert world.relay_on
    world.advance(0.2)
    assert not world.relay_on


def test_a_failing_screen_leaves_the_gate_admitting(world: World) -> None:
    with_screen(world)
    world.loop.handle(DisplayFailed("pygame.error: video system not initialized"))
    assert world.gate.health.display_up is False
    assert "video system" in world.gate.health.display_detail
    world.tap(FAMILY)
    assert world.relay_on and world.last().children == 0


def test_a_group_gets_one_pulse_per_person_and_the_sensor_expects_them_all(make_world) -> None:
    world = make_world(gpio={"relay_pulse_ms": 1000, "passage_sensor_pin": 5,
                             "passage_timeout_s": 30})  # fmt: skip
    with_screen(world)
    world.loop.handle(ChildrenChosen(2))
    world.tap(FAMILY)  # two holders and two children
    world.advance(3.9)
    assert world.relay_on
    world.advance(0.2)
    assert not world.relay_on
    for _ in range(4):
        world.pin(5).drive_low()
        world.pin(5).drive_high()
    world.loop.process_pending()
    assert world.gate.passages.unexpected == 0
    world.pin(5).drive_low()  # a fifth person
    world.loop.process_pending()
    assert world.gate.passages.unexpected == 1


def test_the_log_speaks_proper_english(world: World, caplog) -> None:
    caplog.set_level("INFO", logger="portique.gate")
    world.loop.handle(ChildrenChosen(1))
    world.tap(ACTIVE)
    world.advance(600)
    world.loop.handle(ChildrenChosen(2))
    world.tap(FAMILY)
    text = caplog.text
    assert "with 1 child " in text and "with 1 children" not in text
    assert "with 2 children for 4 people" in text


def test_the_record_says_how_many_people_went_through(world: World) -> None:
    world.loop.handle(ChildrenChosen(2))
    world.tap(FAMILY)  # two holders, two children
    assert (world.last().children, world.last().persons) == (2, 4)
    world.tap("DEADBEEF")
    assert world.last().persons is None  # a refusal let nobody through


def test_a_journal_from_before_persons_gets_the_column_and_keeps_its_chain(make_world) -> None:
    first = make_world()
    first.tap("DEADBEEF")  # a refusal: hashed exactly as a release before persons hashed it
    path = first.journal.path
    first.gate.close()
    db = sqlite3.connect(path)  # the journal as a release before this one left it
    db.execute("ALTER TABLE record DROP COLUMN persons")
    db.commit()
    db.close()
    again = make_world()
    assert again.journal.verify_chain() == []
    again.loop.handle(ChildrenChosen(1))
    again.tap(FAMILY)
    assert [r.persons for r in again.journal.records()] == [None, 3]
    assert again.journal.verify_chain() == []
