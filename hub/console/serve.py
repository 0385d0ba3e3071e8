"""Serving the console with waitress: a pure-Python production WSGI server.

It listens on loopback by default: TLS is the reverse proxy's job in front of
it (``docs/console.md``). Waitress refuses bodies over four times the upload
limit on its own; up to that, the application sees the request and refuses
(and audits) anything over the limit without reading it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from hub.console.app import ConsoleSettings, create_app

log = logging.getLogger("portique.console")


def make_server(settings: ConsoleSettings, host: str, port: int, now: Callable[[], float],
                threads: int = 4):  # noqa: ANN201 - waitress's server class  # fmt: skip
    app = create_app(settings, now)
    server = create_server(app, host=host, port=port, threads=threads,
                           max_request_body_size=4 * settings.max_upload_bytes,
                           clear_untrusted_proxy_headers=True,
                           ident="portique-console")  # fmt: skip
    return server


class Serving:
    """The console served from a thread (tests, screenshots); ``stop`` ends it cleanly.

    Waitress's loop is stopped from inside itself, through its wake-up pipe, so
    no socket is closed under its feet.
    """

    def __init__(self, server: Any) -> None:
        self.server = server
        self.port: int = server.effective_port
        self._thread = threading.Thread(target=server.run, name="console", daemon=True)

    def start(self) -> Serving:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self._thread.join(timeout)
        self.server.task_dispatcher.shutdown(timeout=timeout)
