"""Serving the console with waitress: a pure-Python production WSGI server.

It listens on loopback by default: TLS is the reverse proxy's job in front of
it (``docs/console.md``). Waitress refuses bodies over four times the upload
limit on its own; up to that, the application sees the request and refuses
(and audits) anything over the limit without reading it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

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
