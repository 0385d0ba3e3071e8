"""The office's web console: a Flask application over the hub's database.

Server-rendered pages and plain forms, no JavaScript: every asset is in
``static/``. It reads through ``queries.py`` and changes things only through
the hub's own functions (``hub/actions.py``). Every request is tied to a
person (``auth.py``) and every action, refused ones too, to an audit row.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from firmware.protocol.sales import format_cents
from hub.console import auth
from hub.console.context import ConsoleSettings, Context, _, context, translations
from hub.console.models import open_console
from hub.models import open_hub

HERE = Path(__file__).parent
LANGUAGES = ("fr", "de", "en")
SECRET_FILE = "console.secret"


def secret_key(data_dir: Path) -> bytes:
    """The key that signs session cookies: made once, kept readable by the hub only."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip().encode()


def create_app(settings: ConsoleSettings, now: Callable[[], float] = time.time) -> Flask:
    app = Flask(__name__, static_folder=str(HERE / "static"),
                template_folder=str(HERE / "templates"))  # fmt: skip
    app.config.update(
        SECRET_KEY=secret_key(settings.data_dir),
        SESSION_COOKIE_NAME="portique_console",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=auth.SESSION_IDLE_S,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the login
        WTF_CSRF_SSL_STRICT=settings.secure_cookies,
    )
    if settings.proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies,  # type: ignore[method-assign]
                                x_proto=settings.proxies)  # fmt: skip
    cm = open_console(open_hub(settings.db_url))
    app.extensions["portique"] = Context(settings, cm, now, auth.LoginThrottle())
    # The language and the person first: a refused CSRF token is answered and audited.
    _setup_i18n(app)
    _setup_security(app)
    CSRFProtect(app)
    from hub.console import ledgers, software  # noqa: F401 - their routes join the blueprint
    from hub.console.views import pages

    app.register_blueprint(pages)
    return app


# -- languages ------------------------------------------------------------------------


def _setup_i18n(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text, **kw: g.translations.gettext(text) % kw if kw else _(text),
        ngettext=lambda s, p, n, **kw: g.translations.ngettext(s, p, n) % {"num": n, **kw},
        newstyle=False,
    )

    @app.template_filter("reason")
    def reason(code: str) -> str:
        """A decision's stable reason code in the reader's words (codes stay in exports)."""
        words = {
            "ok": _("admitted"), "activated": _("activated"), "reentry": _("re-entry"),
            "forced": _("forced by staff"), "paper_pass": _("paper pass"),
            "invalid_serial": _("unreadable serial"), "unknown_pass": _("unknown pass"),
            "blocked": _("blocked"), "not_sold": _("not sold"), "expired": _("expired"),
            "already_entered": _("already entered"),
            "paper_pass_withdrawn": _("paper pass withdrawn"),
            "list_expired": _("list out of date"),
        }  # fmt: skip
        return words.get(code, code)

    @app.template_filter("money")
    def money(cents: int | None) -> str:
        """Cents as the counters' receipts write them (``format_cents``); a dash for none."""
        return "—" if cents is None else format_cents(int(cents))

    @app.template_filter("when")
    def when(seconds: float) -> str:
        return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")

    @app.before_request
    def choose_language() -> None:
        wanted = request.args.get("lang")
        if wanted in LANGUAGES:
            session["lang"] = wanted
        lang = session.get("lang") or request.accept_languages.best_match(LANGUAGES) or "en"
        g.lang, g.translations = lang, translations(lang)


# -- people, headers, errors -------------------------------------------------------------


def _setup_security(app: Flask) -> None:
    @app.before_request
    def who() -> None:
        ctx = context()
        g.person = auth.session_person(ctx.cm, session.get("token"), ctx.now())

    @app.after_request
    def headers(response: Any) -> Any:
        # Every asset is ours: nothing may be loaded from elsewhere, nothing may frame us.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "script-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError) -> Any:
        from hub.console.views import audit

        audit("csrf", request.path, "refused", exc.description)
        message = _("The form was refused: it was not sent from this console's page or it "
                    "is too old. Open the page again and retry.")  # fmt: skip
        return error_page(400, message)

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> Any:
        from hub.console.views import audit

        limit = context().settings.max_upload_bytes
        audit("upload", request.path, "refused", f"{request.content_length} bytes > {limit}")
        return error_page(413, _("The file is too large: the console accepts at most "
                                 "%(mb)d MB.") % {"mb": limit // (1024 * 1024)})  # fmt: skip

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        messages = {
            403: _("You may not do this, or see this museum's data."),
            404: _("There is no such page."),
            405: _("This page cannot be used that way."),
        }
        code = exc.code or 500
        return error_page(code, messages.get(code, exc.description or ""))


def error_page(status: int, message: str) -> Any:
    return render_template("error.html", status=status, message=message), status
