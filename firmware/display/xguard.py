"""Keep a dead X server from ending the gate's process.

When the X connection breaks, Xlib calls its I/O error handler and then
``exit(1)``: the relay is never put in its safe state, nothing is logged.
Since libX11 1.7 a per-display exit handler may be set instead
(``XSetIOErrorExitHandler``); when it returns, Xlib marks the connection dead
and later calls on it do nothing. ``XGuard`` sets both handlers on SDL's
display connection, remembers the loss, and the kiosk turns it into
``DisplayFailed``.

A dead connection cannot be closed (Xlib would wait on it), so SDL is left
as it is: after an X server loss the screen comes back with the next start
of the service, while every other display failure is retried in place.
Other drivers (KMSDRM, Wayland) need no guard: their failures are errors
SDL returns.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

import pygame

log = logging.getLogger("portique.display")

_EXIT_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
_IO_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)


class XGuard:
    """The X connection's fate: ``lost()`` is None while it lives, else what happened."""

    def __init__(self) -> None:
        self._lost: str | None = None
        self._handlers: tuple[object, ...] = ()  # kept alive: Xlib holds raw pointers to them

    @classmethod
    def none(cls) -> XGuard:
        """No guard (not an X display, or not open yet)."""
        return cls()

    @classmethod
    def install(cls, driver: str) -> XGuard:
        guard = cls()
        if driver == "x11":
            try:
                guard._install()
            except (OSError, AttributeError, KeyError, ValueError) as exc:
                # An older libX11: a lost X server still ends the process, as before.
                log.warning("display: cannot guard the X connection (%s)", exc)
        return guard

    def lost(self) -> str | None:
        return self._lost

    def _install(self) -> None:
        x11 = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        display = _capsule_pointer(pygame.display.get_wm_info()["display"])

        def on_io_error(_display: int) -> int:
            self._lost = "the X server connection was lost"
            return 0

        def on_exit(_display: int, _data: int) -> None:
            self._lost = self._lost or "the X server connection was lost"

        io_handler, exit_handler = _IO_HANDLER(on_io_error), _EXIT_HANDLER(on_exit)
        x11.XSetIOErrorHandler.argtypes = [_IO_HANDLER]
        x11.XSetIOErrorHandler(io_handler)
        x11.XSetIOErrorExitHandler.argtypes = [ctypes.c_void_p, _EXIT_HANDLER, ctypes.c_void_p]
        x11.XSetIOErrorExitHandler(display, exit_handler, None)
        self._handlers = (io_handler, exit_handler)


def _capsule_pointer(capsule: object) -> int:
    """The C pointer pygame wraps in a capsule (``get_wm_info()``'s X ``Display *``)."""
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    pointer = api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))
    if not pointer:
        raise ValueError("pygame gave no X display")
    return int(pointer)
