"""Admissions that wait for the number of accompanying children (the loop's side).

With a screen up, an admitted pass whose type allows children is held: one
record carrying the count is committed when the visitor confirms, when the
prompt times out, when the next tap arrives or when the screen fails; only
then does the relay open, for 1 + children people. These tests post the
screen's events to the loop directly; tests/test_kiosk.py drives the screen.
"""

from __future__ import annotations

from conftest import FAMILY, SINGLE, SOLD, World

from firmware.events import (
    ChildrenChanged,
    ChildrenConfirmed,
    DisplayFailed,
    DisplayStarted,
    Shutdown,
)
from firmware.gate.views import ChildrenPrompt, Outcome


def with_screen(world: World) -> list[object]:
    views: list[object] = []
    world.gate.on_view.append(views.append)
    world.loop.handle(DisplayStarted("test screen"))
    return views


def prompt(views: list[object]) -> ChildrenPrompt:
    return next(v for v in reversed(views) if isinstance(v, ChildrenPrompt))


def test_family_pass_waits_for_children_then_commits_one_record(make_world) -> None:
    world = make_world(display={"children_prompt_timeout_s": 15})
    views = with_screen(world)
    world.tap(FAMILY)
    assert world.journal.last_seq == 0 and not world.relay_on
    ticket = prompt(views).ticket
    assert prompt(views).allowance == 5
    world.loop.handle(ChildrenChanged(ticket, 1))
    world.loop.handle(ChildrenConfirmed(ticket, 2))
    record = world.last()
    assert (record.reason, record.children, world.journal.last_seq) == ("ok", 2, 1)
    assert world.relay_on
    assert views[-1] == Outcome(
        admitted=True, reason="ok", credential_kind="chip", credential=FAMILY,
        pass_number="100007", valid_until=views[-1].valid_until, persons=3,
    )  # fmt: skip


def test_prompt_timeout_confirms_the_number_shown(make_world) -> None:
    world = make_world(display={"children_prompt_timeout_s": 10})
    views = with_screen(world)
    world.tap(FAMILY)
    world.advance(6)
    world.loop.handle(ChildrenChanged(prompt(views).ticket, 3))
    world.advance(9.9)  # a change restarts the timeout
    assert world.journal.last_seq == 0
    world.advance(0.2)
    assert world.last().children == 3 and world.relay_on


def test_a_new_tap_first_commits_the_waiting_admission(make_world) -> None:
    world = make_world()
    views = with_screen(world)
    world.tap(FAMILY)
    world.loop.handle(ChildrenChanged(prompt(views).ticket, 1))
    world.tap(SINGLE)
    first, second = list(world.journal.records())
    assert (first.credential, first.children) == (FAMILY, 1)
    assert (second.credential, second.children) == (SINGLE, 0)


def test_the_same_pass_tapped_while_waiting_meets_anti_passback(make_world) -> None:
    world = make_world()
    with_screen(world)
    world.tap(FAMILY)
    world.tap(FAMILY)
    assert [r.reason for r in world.journal.records()] == ["ok", "already_entered"]


def test_children_are_capped_at_the_pass_allowance(make_world) -> None:
    world = make_world()
    views = with_screen(world)
    world.tap(FAMILY)
    world.loop.handle(ChildrenConfirmed(prompt(views).ticket, 9))
    assert world.last().children == 5


def test_a_stale_prompt_cannot_change_a_later_admission(make_world) -> None:
    world = make_world()
    views = with_screen(world)
    world.tap(FAMILY)
    old = prompt(views).ticket
    world.tap(SOLD)  # commits the family pass, opens a new prompt
    world.loop.handle(ChildrenConfirmed(old, 4))
    assert world.journal.last_seq == 1  # the old ticket is ignored
    world.loop.handle(ChildrenConfirmed(prompt(views).ticket, 1))
    assert [(r.credential, r.children) for r in world.journal.records()] == [
        (FAMILY, 0),
        (SOLD, 1),
    ]


def test_pass_without_children_allowance_opens_at_once(world: World) -> None:
    views = with_screen(world)
    world.tap(SINGLE)
    assert world.relay_on
    assert (world.last().reason, world.last().children) == ("ok", 0)
    assert not any(isinstance(v, ChildrenPrompt) for v in views)
    assert views[-1].persons == 1


def test_without_a_screen_a_family_pass_opens_at_once_with_no_children(world: World) -> None:
    world.tap(FAMILY)
    assert world.relay_on
    assert (world.last().reason, world.last().children) == ("ok", 0)


def test_a_failing_screen_commits_the_waiting_admission_and_stops_prompts(make_world) -> None:
    world = make_world()
    views = with_screen(world)
    world.tap(FAMILY)
    world.loop.handle(ChildrenChanged(prompt(views).ticket, 2))
    world.loop.handle(DisplayFailed("pygame.error: video system not initialized"))
    assert world.last().children == 2 and world.relay_on
    assert world.gate.health.display_up is False
    assert "video system" in world.gate.health.display_detail
    world.advance(60)
    world.tap(FAMILY)  # another visitor, no screen: admitted at once
    assert world.journal.last_seq == 2


def test_a_group_gets_one_pulse_per_person_and_the_sensor_expects_them_all(make_world) -> None:
    world = make_world(gpio={"relay_pulse_ms": 1000, "passage_sensor_pin": 5,
                             "passage_timeout_s": 30})  # fmt: skip
    views = with_screen(world)
    world.tap(FAMILY)
    world.loop.handle(ChildrenConfirmed(prompt(views).ticket, 2))
    world.advance(2.9)
    assert world.relay_on
    world.advance(0.2)
    assert not world.relay_on
    for _ in range(3):
        world.pin(5).drive_low()
        world.pin(5).drive_high()
    world.loop.process_pending()
    assert world.gate.passages.unexpected == 0
    world.pin(5).drive_low()  # a fourth person
    world.loop.process_pending()
    assert world.gate.passages.unexpected == 1


def test_shutdown_drops_a_waiting_admission_without_recording_it(make_world) -> None:
    world = make_world()
    with_screen(world)
    world.tap(FAMILY)
    world.loop.handle(Shutdown("test"))
    assert world.journal.last_seq == 0 and not world.relay_on
