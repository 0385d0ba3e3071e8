"""The generic reactor: one thread runs handlers and timers; other threads only post."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import pytest

from firmware.clock import ManualClock
from firmware.gate.reactor import NEVER, Reactor

WAIT_S = 10.0


@dataclass(frozen=True)
class Ping:
    n: int


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(monotonic=500.0)


@pytest.fixture
def reactor(clock: ManualClock) -> Reactor:
    return Reactor(clock.monotonic)


def test_every_handler_of_a_type_gets_the_event_and_its_time(
    reactor: Reactor, clock: ManualClock
) -> None:
    heard: list[tuple[str, int, float]] = []
    reactor.register(Ping, lambda event, t: heard.append(("first", event.n, t)))
    reactor.register(Ping, lambda event, t: heard.append(("second", event.n, t)))
    clock.advance(2.5)
    reactor.post(Ping(7))
    assert reactor.process_pending() == 1
    assert heard == [("first", 7, 502.5), ("second", 7, 502.5)]


def test_a_timer_runs_again_at_the_time_it_returns_and_stops_on_never(
    reactor: Reactor, clock: ManualClock
) -> None:
    runs: list[float] = []

    def tick(eventtime: float) -> float | None:
        runs.append(eventtime)
        return eventtime + 10 if len(runs) < 3 else NEVER

    reactor.schedule(5, tick)
    reactor.run_due_timers()
    assert runs == []  # not due yet
    for _ in range(6):
        clock.advance(5)
        reactor.run_due_timers()
    assert runs == [505.0, 515.0, 525.0]


def test_a_failing_handler_neither_stops_the_others_nor_the_reactor(
    reactor: Reactor, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[int] = []

    def broken(_event: Ping, _t: float) -> None:
        raise RuntimeError("hostile payload")

    reactor.register(Ping, broken)
    reactor.register(Ping, lambda event, _t: heard.append(event.n))
    with caplog.at_level(logging.ERROR):
        reactor.handle(Ping(1))
        reactor.handle(Ping(2))
    assert heard == [1, 2]
    assert "hostile payload" in caplog.text


def test_a_failing_timer_is_logged_and_the_others_still_run(reactor: Reactor) -> None:
    runs: list[str] = []

    def broken(_t: float) -> None:
        raise OSError("disk gone")

    reactor.schedule(0, broken)
    reactor.schedule(0, lambda _t: runs.append("after"))
    reactor.run_due_timers()
    assert runs == ["after"]


def test_an_unknown_event_is_logged_and_ignored(
    reactor: Reactor, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        reactor.handle(Ping(3))
    assert "no handler" in caplog.text


def test_other_threads_enter_only_through_post_and_run_on_the_reactor_thread(
    reactor: Reactor,
) -> None:
    ran_on: list[str] = []
    done = threading.Event()
    stopped = threading.Event()
    reactor.on_stop(lambda _t: stopped.set())

    def on_reactor(_eventtime: float) -> None:
        ran_on.append(threading.current_thread().name)
        done.set()

    runner = threading.Thread(target=reactor.run, name="reactor")
    runner.start()
    poster = threading.Thread(target=lambda: reactor.post(on_reactor), name="poster")
    poster.start()
    assert done.wait(WAIT_S)
    reactor.post(lambda _t: reactor.stop())
    runner.join(WAIT_S)
    assert not runner.is_alive() and stopped.is_set()
    assert ran_on == ["reactor"]


def test_stop_callbacks_run_even_when_a_start_callback_fails(reactor: Reactor) -> None:
    stopped: list[bool] = []

    def broken_start(_t: float) -> None:
        raise RuntimeError("start failed")

    reactor.on_start(broken_start)
    reactor.on_stop(lambda _t: stopped.append(True))
    with pytest.raises(RuntimeError):
        reactor.run()
    assert stopped == [True]  # the outputs' safe state is one of these
