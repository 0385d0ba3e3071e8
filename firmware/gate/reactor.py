"""A generic reactor: one thread runs every handler and timer, other threads post to it.

In the manner of Klipper's ``klippy/reactor.py``, with three of its ideas:

- every handler and timer callback receives the event time (the monotonic
  clock's reading when it runs), so nothing reads the clock to learn "now";
- a timer callback returns its next wake time (absolute, monotonic), or
  ``NEVER`` to stop: rescheduling is a return value, not a second call;
- other threads enter through one door, ``post``: an event object, or a
  callable to run on the reactor (as ``register_async_callback``). The queue
  wakes the waiting thread, so no pipe is needed.

It knows queues, timers and dispatch, and nothing about gates: the modules
that own the gate's concerns register handlers for the events they own.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
from collections.abc import Callable
from typing import Any

log = logging.getLogger("portique.reactor")

NEVER: float | None = None  # a timer callback's return value: do not run again
MAX_WAIT_S = 1.0  # the longest the reactor sleeps, so a stop is never far away

Handler = Callable[[Any, float], None]
TimerCallback = Callable[[float], "float | None"]


class Reactor:
    """Queues, timers and dispatch, driven by ``monotonic`` (the injected clock)."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self.monotonic = monotonic
        # SimpleQueue's put is reentrant: a signal handler posts while the main
        # thread may be inside get(); a Queue's lock would deadlock there.
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, TimerCallback]] = []
        self._order = itertools.count()
        self._handlers: dict[type, list[Handler]] = {}
        self._on_start: list[Callable[[float], None]] = []
        self._on_stop: list[Callable[[float], None]] = []
        self._after_event: list[Callable[[float], None]] = []
        self._running = False

    # -- the one door, for any thread ----------------------------------------

    def post(self, event: object) -> None:
        """Queue ``event`` (or a callable taking the event time) for the reactor's thread."""
        self._queue.put(event)

    # -- set-up, and calls from the reactor's own thread -------------------------

    def register(self, event_type: type, handler: Handler) -> None:
        """Have ``handler(event, eventtime)`` run for every event of ``event_type``.

        Several handlers may share a type; they run in the order registered.
        """
        self._handlers.setdefault(event_type, []).append(handler)

    def schedule(self, delay: float, callback: TimerCallback) -> None:
        """Run ``callback(eventtime)`` ``delay`` seconds from now; it returns its next wake time."""
        self.at(self.monotonic() + delay, callback)

    def at(self, waketime: float, callback: TimerCallback) -> None:
        heapq.heappush(self._timers, (waketime, next(self._order), callback))

    def on_start(self, callback: Callable[[float], None]) -> None:
        """Run ``callback(eventtime)`` when ``run`` begins (timers that need a running gate)."""
        self._on_start.append(callback)

    def on_stop(self, callback: Callable[[float], None]) -> None:
        """Run ``callback(eventtime)`` when ``run`` ends, however it ends (safe state first)."""
        self._on_stop.append(callback)

    def after_each_event(self, callback: Callable[[float], None]) -> None:
        """Run ``callback(eventtime)`` once every event is handled (a change to report at once)."""
        self._after_event.append(callback)

    def stop(self) -> None:
        """End ``run`` after the current event."""
        self._running = False

    # -- running ---------------------------------------------------------------

    def run(self) -> None:
        """Handle events and timers until ``stop``; the stop callbacks always run."""
        self._running = True
        try:
            self.begin()
            while self._running:
                self.run_due_timers()
                try:
                    event = self._queue.get(timeout=self._wait_time())
                except queue.Empty:
                    continue
                self.handle(event)
        finally:
            for callback in self._on_stop:
                self._safely(callback, self.monotonic())

    def begin(self) -> None:
        """Run the start callbacks (``run`` does; a benchmark driving the timers itself, too)."""
        for callback in self._on_start:
            callback(self.monotonic())

    def handle(self, event: object) -> None:
        """Dispatch ``event`` now, on this thread: the one dispatch path."""
        eventtime = self.monotonic()
        handlers = self._handlers.get(type(event))
        if handlers:
            for handler in handlers:
                self._safely(handler, event, eventtime)
        elif callable(event):
            self._safely(event, eventtime)
        else:
            log.error("reactor: no handler for %r; ignored", event)
        for callback in self._after_event:
            self._safely(callback, eventtime)

    def process_pending(self) -> int:
        """Handle every event already posted, without waiting; return how many."""
        count = 0
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return count
            self.handle(event)
            count += 1

    def run_due_timers(self) -> None:
        now = self.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, callback = heapq.heappop(self._timers)
            waketime = self._safely(callback, now)
            if waketime is not None:
                self.at(waketime, callback)

    def _wait_time(self) -> float:
        if not self._timers:
            return MAX_WAIT_S
        return min(MAX_WAIT_S, max(0.0, self._timers[0][0] - self.monotonic()))

    @staticmethod
    def _safely(call: Callable[..., Any], *args: object) -> Any:
        # One bad event or timer must not stop the gate. Anything that fails
        # before a journal commit leaves no trace and moves nothing; the log has it.
        try:
            return call(*args)
        except Exception:
            log.exception("reactor: %r failed on %r; carrying on", call, args[0])
            return None
