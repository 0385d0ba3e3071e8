"""The SDL window in its own thread: touches in, views out, never blocking the gate.

Threads: the gate's loop keeps the main thread (signals, shutdown, as
without a screen); pygame runs entirely in the ``display`` thread: SDL is
initialised, the window opened, events pumped and frames drawn there and
nowhere else, which SDL's KMSDRM, X11 and Wayland drivers accept on Linux.
The loop hands views over with ``publish`` (a queue); the screen posts
events to the loop. Anything that fails here is reported as
``DisplayFailed`` and the gate goes on admitting with LEDs and buzzer; the
screen is opened again after a back-off (2 s, doubling up to a minute).

An X server that dies would end the whole process: Xlib's default answer to
a lost connection is ``exit(1)``. ``firmware/display/xguard.py`` installs
Xlib's exit handler (libX11 >= 1.7) so that the loss becomes a
``DisplayFailed`` like any other.
"""

from __future__ import annotations

import logging
import os
import queue
import string
import threading
import traceback
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pygame

from firmware.clock import Clock
from firmware.config import DisplaySettings
from firmware.display import desk_screens  # noqa: F401 - registers the counter's pages
from firmware.display.desk_ui import DeskUi
from firmware.display.draw import Fonts, Painter
from firmware.display.frame import MIN_TOUCH_MM, smallest_target_mm
from firmware.display.screens import Context, buttons, layout
from firmware.display.ui import Action, Screen, Ui
from firmware.display.xguard import XGuard
from firmware.events import DisplayFailed, DisplayStarted

log = logging.getLogger("portique.display")

# SDL drivers that draw nowhere a person can see: used only when asked for by
# name (tests, screenshots), never as SDL's own fallback on a machine without a screen.
INVISIBLE_DRIVERS = ("offscreen", "dummy")
FRAME_WAIT_MS = 50
RETRY_INITIAL_S = 2.0
RETRY_MAX_S = 60.0
_DIGITS = {getattr(pygame, f"K_{d}"): str(d) for d in range(10)} | {
    getattr(pygame, f"K_KP{d}"): str(d) for d in range(10)
}
_LETTERS = {getattr(pygame, f"K_{c}"): c.upper() for c in string.ascii_lowercase} | {
    pygame.K_SPACE: " ",  # in a name typed on the staff login
}
_KEYS = {
    pygame.K_BACKSPACE: Action("erase"),
    pygame.K_RETURN: Action("ok"),
    pygame.K_KP_ENTER: Action("ok"),
    pygame.K_ESCAPE: Action("back"),
    pygame.K_PLUS: Action("plus"),
    pygame.K_KP_PLUS: Action("plus"),
    pygame.K_EQUALS: Action("plus"),
    pygame.K_MINUS: Action("minus"),
    pygame.K_KP_MINUS: Action("minus"),
}


class DisplayError(Exception):
    """The screen cannot be shown; the message says why, for the log and status."""


class Kiosk:
    """The screen: a ``Ui`` drawn in an SDL window, fed by touches, keys and views."""

    def __init__(
        self,
        settings: DisplaySettings,
        language: str,
        zone: ZoneInfo,
        post: Callable[[object], None],
        clock: Clock,
        mode: str = "gate",
    ) -> None:
        self.settings = settings
        self.post = post
        self.ui: Ui = DeskUi(settings, language, post, clock, desk_mode=mode == "desk")
        self.context = Context(settings.width, settings.height, zone)
        self._views: queue.Queue[object] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.window: pygame.Surface | None = None
        self.painter: Painter | None = None
        self.items: list[object] = []
        self._drawn: tuple[object, ...] | None = None
        self._xguard = XGuard.none()

    # -- any thread --------------------------------------------------------

    def publish(self, view: object) -> None:
        """Hand a view from the loop to the screen (returns at once)."""
        self._views.put(view)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="display", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- the display thread --------------------------------------------------

    def run(self) -> None:
        """Show the screen until ``stop``; after any failure, report it and try again later."""
        delay_s = RETRY_INITIAL_S
        while not self._stop.is_set():
            if self.run_once():
                delay_s = RETRY_INITIAL_S  # it worked for a while: the next failure is fresh
            if self._xguard.lost() is not None:
                log.error("display: an X connection cannot be opened again in this process; "
                          "restart the service to show the screen again")  # fmt: skip
                return
            log.info("display: trying again in %.0f s", delay_s)
            if self._stop.wait(delay_s):
                return
            delay_s = min(delay_s * 2, RETRY_MAX_S)

    def run_once(self) -> bool:
        """Open the window, then draw and take touches until ``stop`` or a failure.

        Returns True when the screen was up before it failed (or stopped).
        """
        try:
            detail = self.open()
        except Exception as exc:
            self._failed(f"display could not start: {exc}")
            return False
        self.post(DisplayStarted(detail))
        while not self._stop.is_set():
            if not self.step_safely(lambda: [pygame.event.wait(FRAME_WAIT_MS)]):
                return True
        self.close()
        return True

    def step_safely(self, first_events: Callable[[], list[pygame.event.Event]] = list) -> bool:
        """``step``; on any failure report ``DisplayFailed``, close, and return False."""
        try:
            self.step([*first_events(), *pygame.event.get()])
            if (lost := self._xguard.lost()) is not None:
                raise DisplayError(lost)
        except Exception as exc:
            log.debug("display crashed:\n%s", traceback.format_exc())
            self._failed(f"display stopped: {type(exc).__name__}: {exc}")
            return False
        return True

    def _failed(self, detail: str) -> None:
        self.post(DisplayFailed(detail))
        self.close()

    def close(self) -> None:
        # A dead X connection cannot be closed (Xlib would wait on it forever);
        # SDL is left as it is and the next open() starts a fresh one.
        if self._xguard.lost() is None and pygame.display.get_init():
            pygame.display.quit()

    def open(self) -> str:
        """Start SDL and open the window; raise DisplayError if nothing can be shown."""
        # The loop's thread owns SIGINT and SIGTERM (the safe shutdown): SDL must not take them.
        os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"
        asked = os.environ.get("SDL_VIDEODRIVER") or (
            "" if self.settings.video_driver == "auto" else self.settings.video_driver
        )
        if asked:
            os.environ["SDL_VIDEODRIVER"] = asked
        try:
            pygame.display.init()
        except pygame.error as exc:
            raise DisplayError(f"no video driver ({exc})") from None
        driver = pygame.display.get_driver()
        if driver in INVISIBLE_DRIVERS and driver != asked:
            pygame.display.quit()
            raise DisplayError(
                f"no screen found (SDL offered only its {driver!r} driver); "
                "`portique screenshot` draws the screens to files"
            )
        # The layout is made for the configured panel size (firmware/display/frame.py);
        # full screen, SDL scales it to the panel's own mode should they differ.
        flags = pygame.FULLSCREEN | pygame.SCALED if self.settings.fullscreen else 0
        size = (self.settings.width, self.settings.height)
        try:
            self.window = pygame.display.set_mode(size, flags)
        except pygame.error as exc:
            pygame.display.quit()
            raise DisplayError(f"cannot open a {size[0]}×{size[1]} window ({exc})") from None
        pygame.display.set_caption("portique")
        self._xguard = XGuard.install(driver)
        if self.settings.fullscreen:
            pygame.mouse.set_visible(False)  # a touch screen: no pointer over the buttons
        self.painter = Painter(Fonts())
        target_mm = smallest_target_mm(*size, self.settings.panel_width_mm)
        if target_mm < MIN_TOUCH_MM:
            # A dense panel (many pixels on few millimetres): still usable, but say so.
            log.warning("display: touch targets are %.1f mm on a %.0f mm wide %d×%d panel, "
                        "under %.0f mm; check [display] panel_width_mm", target_mm,
                        self.settings.panel_width_mm, *size, MIN_TOUCH_MM)  # fmt: skip
        return f"{driver} {size[0]}×{size[1]}{' fullscreen' if self.settings.fullscreen else ''}"

    def step(self, events: list[pygame.event.Event] | None = None) -> None:
        """Take the views and input that arrived, let time act, draw if anything changed."""
        while True:
            try:
                self.ui.on_view(self._views.get_nowait())
            except queue.Empty:
                break
        for event in pygame.event.get() if events is None else events:
            self._on_input(event)
        self.ui.tick()
        self.items = layout(self.ui.state, self.context)
        self._draw()

    def _draw(self) -> None:
        assert self.window is not None and self.painter is not None
        # Items are frozen values: equal items draw the same frame, so skip it.
        key = tuple(self.items)
        if key == self._drawn:
            return
        self.painter.paint(self.window, self.items)
        pygame.display.flip()
        self._drawn = key

    def _on_input(self, event: pygame.event.Event) -> None:
        if event.type == pygame.FINGERUP:
            self._touch((int(event.x * self.context.width), int(event.y * self.context.height)))
        elif event.type == pygame.MOUSEBUTTONUP and not getattr(event, "touch", False):
            # A touch screen also sends mouse events made from each touch: those are
            # marked ``touch`` and already handled as FINGERUP.
            self._touch(event.pos)
        elif event.type == pygame.KEYDOWN:
            self._key(event.key)
        elif event.type == pygame.QUIT:
            log.info("display window closed; the gate carries on without a screen")
            raise DisplayError("window closed")

    def _touch(self, pos: tuple[int, int]) -> None:
        for button in buttons(self.items):
            if button.enabled and button.rect.collidepoint(pos):
                self.ui.act(button.action)  # type: ignore[arg-type]
                return

    def _key(self, key: int) -> None:
        if key in _DIGITS:
            self.ui.act(Action("digit", _DIGITS[key]))
        elif key in _LETTERS:
            self.ui.act(Action("char", _LETTERS[key]))
        elif key in _KEYS:
            self.ui.act(_KEYS[key])

    @property
    def x_connection_lost(self) -> bool:
        """True once the X server went away (see xguard): SDL cannot be shut down cleanly."""
        return self._xguard.lost() is not None

    def button_at(self, action: Action) -> tuple[int, int]:
        """The centre of the enabled button for ``action`` (for tests and tools)."""
        for button in buttons(self.items):
            if button.action == action and button.enabled:
                return button.rect.center
        shown = self.ui.state.screen
        raise LookupError(f"no enabled button {action} on the {shown} screen")

    @property
    def screen(self) -> Screen:
        return self.ui.state.screen
