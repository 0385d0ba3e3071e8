"""The console's pages. Each route names the permission it needs (``needs``) and, when
it concerns a museum, asks ``museum_scope`` which museum it may show."""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from hub import actions
from hub.console import auth, charts, queries
from hub.console.context import _, context
from hub.export import export_entries

pages = Blueprint("console", __name__)

ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # a museum or gate id, as the protocol has it
SEARCH = re.compile(r"^[0-9A-Za-z-]{1,32}$")  # a chip serial or a printed pass number
DURATIONS = {"1h": 3600, "8h": 8 * 3600, "1d": 86400, "7d": 7 * 86400, "30d": 30 * 86400}


# -- the audit log and the rights ---------------------------------------------------------


def audit(action: str, target: str = "", outcome: str = "done", detail: str = "",
          museum: str | None = None) -> None:  # fmt: skip
    """One row per action, refused ones too: who, when, from where, what."""
    ctx = context()
    person = getattr(g, "person", None)
    ctx.cm.audit.create(
        at=ctx.now(), user=person.name if person else None, role=person.role if person else None,
        museum=museum, address=request.remote_addr or "", action=action, target=target[:200],
        outcome=outcome, detail=detail[:1000],
    )  # fmt: skip


def refuse(action: str, target: str, detail: str, museum: str | None = None) -> Any:
    audit(action, target, "refused", detail, museum)
    abort(403)


def needs(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Log in first; then refuse (403, audited) anyone whose role lacks ``permission``."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            person: auth.Person | None = g.person
            if person is None:
                return redirect(url_for("console.login", next=request.path))
            if not person.may(permission):
                refuse(request.endpoint or "", request.path, f"role {person.role} may not "
                       f"{permission}", person.museum)  # fmt: skip
            return view(*args, **kwargs)

        return checked

    return wrap


def museum_scope(value: str | None, action: str) -> str | None:
    """The museum to show: the person's own, or for the office the one asked (None: all)."""
    person: auth.Person = g.person
    if value:
        if not ID.match(value):
            audit(action, value[:64], "refused", "malformed museum id")
            abort(400, _("That is not a museum id."))
        if not person.sees(value):
            refuse(action, value, f"{person.name} of {person.museum} asked for {value}", value)
    return person.museum or value or None


def _day(text: str | None, default: date) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, _("A date must read YYYY-MM-DD."))


# -- logging in -------------------------------------------------------------------------


@pages.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html")
    ctx = context()
    name = request.form.get("name", "")[:64]
    keys = (f"name:{name}", f"address:{request.remote_addr}")
    now = ctx.now()
    wait = ctx.throttle.wait_s(keys, now)
    if wait > 0:
        audit("login", name, "refused", f"locked out for {wait:.0f} s more")
        flash(_("Too many wrong passwords: wait %(s)d seconds.") % {"s": int(wait) + 1})
        return render_template("login.html"), 429
    person = auth.check_password(ctx.cm, name, request.form.get("password", ""))
    if person is None:
        ctx.throttle.failed(keys, now)
        audit("login", name, "refused", "wrong name or password")
        flash(_("Wrong name or password."))
        return render_template("login.html"), 401
    ctx.throttle.succeeded(keys)
    session.clear()  # a new session: nothing of the one before the login is kept
    session["token"] = auth.open_session(ctx.cm, person, now)
    g.person = person
    audit("login", name, museum=person.museum)
    return redirect(_local(request.args.get("next", "")))


def _local(target: str) -> str:
    """``target`` if it is a path of this console, else the home page: no open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return "/"
    return target if not target.startswith("//") else "/"


@pages.route("/logout", methods=["POST"])
@needs("view")
def logout() -> Any:
    audit("logout", g.person.name, museum=g.person.museum)
    auth.close_session(context().cm, session.get("token"))
    session.clear()
    return redirect(url_for("console.login"))


@pages.route("/")
@needs("view")
def home() -> Any:
    return redirect(url_for("console.gates"))


# -- gates ---------------------------------------------------------------------------------


@pages.route("/gates")
@needs("view")
def gates() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "gates")
    views = queries.gate_views(ctx.cm.hub, museum, ctx.now())
    return render_template("gates.html", gates=views, museum=museum, now=ctx.now(),
                           refresh_s=ctx.settings.refresh_s)  # fmt: skip


# -- entries and billing ---------------------------------------------------------------------


@pages.route("/entries")
@needs("view")
def entries() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "entries")
    today = date.fromtimestamp(ctx.now())
    last = _day(request.args.get("to"), today)
    first = _day(request.args.get("from"), last - timedelta(days=13))
    if first > last or (last - first).days > 366:
        abort(400, _("Choose a period of at most a year, its first day before its last."))
    figures = queries.day_figures(ctx.cm.hub, museum, first, last)
    return render_template(
        "entries.html", figures=figures, museum=museum, first=first, last=last,
        museums=queries.museums(ctx.cm.hub) if g.person.museum is None else [g.person.museum],
        chart=charts.entries_chart(figures, _), reasons=sorted(
            {r for f in figures for r in f.refusals}),
    )  # fmt: skip


@pages.route("/entries.csv")
@needs("view")
def entries_csv() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "export")
    if museum is None:
        abort(400, _("Choose a museum to export."))
    today = date.fromtimestamp(ctx.now())
    first, last = _day(request.args.get("from"), today), _day(request.args.get("to"), today)
    out = io.StringIO()
    count = export_entries(ctx.cm.hub, museum, first, last, out)
    audit("export", f"{museum} {first}..{last}", detail=f"{count} entries", museum=museum)
    name = f"entries-{museum}-{first}-{last}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


def _month(text: str | None, today: date) -> tuple[date, date]:
    try:
        year, month = (int(p) for p in (text or today.strftime("%Y-%m")).split("-"))
        first = date(year, month, 1)
    except ValueError:
        abort(400, _("A month must read YYYY-MM."))
    return first, date(year, month, calendar.monthrange(year, month)[1])


@pages.route("/billing")
@needs("view")
def billing() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "billing")
    first, last = _month(request.args.get("month"), date.fromtimestamp(ctx.now()))
    names = [museum] if museum else queries.museums(ctx.cm.hub)
    bills = [queries.month_bill(ctx.cm.hub, name, first, last) for name in names]
    return render_template("billing.html", bills=bills, month=first.strftime("%Y-%m"),
                           museum=museum, museums=queries.museums(ctx.cm.hub)
                           if g.person.museum is None else names)  # fmt: skip


@pages.route("/billing.csv")
@needs("view")
def billing_csv() -> Any:
    import csv

    ctx = context()
    museum = museum_scope(request.args.get("museum"), "export")
    if museum is None:
        abort(400, _("Choose a museum to export."))
    first, last = _month(request.args.get("month"), date.fromtimestamp(ctx.now()))
    bill = queries.month_bill(ctx.cm.hub, museum, first, last)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("museum", "date", "entries", "billable", "children", "refusals"))
    for day in bill.days:
        writer.writerow((museum, day.day, day.entries, day.billable, day.children,
                         sum(day.refusals.values())))  # fmt: skip
    writer.writerow((museum, "total", bill.entries, bill.billable, bill.children, ""))
    audit("export", f"billing {museum} {bill.month}", museum=museum)
    name = f"billing-{museum}-{bill.month}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


# -- passes -------------------------------------------------------------------------------------


@pages.route("/passes")
@needs("view")
def passes() -> Any:
    ctx = context()
    text = request.args.get("q", "").strip()
    found: list[str] = []
    if text:
        if not SEARCH.match(text):
            audit("search", text[:64], "refused", "not a serial or pass number")
            flash(_("Search for a chip serial (hexadecimal) or a printed pass number: "
                    "letters, digits and dashes only."))  # fmt: skip
            return render_template("passes.html", q=text, found=None), 400
        found = queries.find_serials(ctx.cm.hub, text.upper(), g.person.museum)
        found += [s for s in queries.find_serials(ctx.cm.hub, text, g.person.museum)
                  if s not in found]  # fmt: skip
        if len(found) == 1:
            return redirect(url_for("console.pass_page", serial=found[0]))
        if not found and _is_serial(text):
            return redirect(url_for("console.pass_page", serial=text.upper()))
    return render_template("passes.html", q=text, found=found)


def _is_serial(text: str) -> bool:
    try:
        actions.check_serial(text)
    except actions.ActionRefused:
        return False
    return True


@pages.route("/passes/<serial>")
@needs("view")
def pass_page(serial: str) -> Any:
    ctx = context()
    if not _is_serial(serial):
        audit("pass", serial[:64], "refused", "not a chip serial")
        abort(404)
    history = queries.pass_history(ctx.cm.hub, serial, g.person.museum)
    blocked = queries.pass_blocked(ctx.cm.hub, serial)
    return render_template("pass.html", serial=serial, history=history, blocked=blocked)


def _pass_change(action: str, change: Callable[..., dict[str, Any]]) -> Any:
    ctx = context()
    text = request.form.get("serial", "")
    try:
        item = change(ctx.cm.hub, text, ctx.now())
    except actions.ActionRefused as exc:
        audit(action, text[:64], "refused", str(exc))
        message = {"bad_serial": _("That is not a chip serial: 8 to 20 hexadecimal digits."),
                   "not_blocked": _("This pass was not blocked through the hub.")}  # fmt: skip
        flash(message.get(exc.code, str(exc)))
        target = url_for("console.pass_page", serial=text) if _is_serial(text) else None
        return redirect(target or url_for("console.passes")), 303
    audit(action, item["serial"], detail=f"delta {item['dseq']}")
    try:
        actions.send_deltas(ctx.settings.broker, ctx.settings.data_dir, ctx.now, [item])
        flash(_("Sent to every gate."))
    except OSError as exc:
        flash(_("Stored; the broker is not reachable (%(e)s): every gate gets it when it "
                "connects.") % {"e": exc})  # fmt: skip
    return redirect(url_for("console.pass_page", serial=item["serial"]), 303)


@pages.route("/passes/block", methods=["POST"])
@needs("block")
def block() -> Any:
    return _pass_change("block", actions.block_pass)


@pages.route("/passes/unblock", methods=["POST"])
@needs("block")
def unblock() -> Any:
    return _pass_change("unblock", actions.unblock_pass)


# -- lists --------------------------------------------------------------------------------------


@pages.route("/lists")
@needs("view")
def lists() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "lists")
    return render_template("lists.html", releases=queries.releases(ctx.cm.hub, museum),
                           gates=queries.gate_views(ctx.cm.hub, museum, ctx.now()))  # fmt: skip


@pages.route("/lists", methods=["POST"])
@needs("publish")
def publish_list() -> Any:
    ctx = context()
    upload = request.files.get("file")
    data = upload.read() if upload else b""
    name = (upload.filename or "") if upload else ""
    if not data:
        audit("publish", name, "refused", "no file")
        flash(_("Choose a list file to publish."))
        return redirect(url_for("console.lists"), 303)
    m = ctx.cm.hub
    try:
        header = actions.verify_list(data, ctx.settings.data_dir, ctx.now(),
                                     actions.latest_list_version(m, data=data),
                                     allow_demo=ctx.settings.allow_demo_keys)  # fmt: skip
    except actions.ActionRefused as exc:
        audit("publish", name, "refused", f"{exc.code}: {exc}")
        flash(_("The list file was refused, nothing was published: %(why)s") % {"why": exc})
        return redirect(url_for("console.lists"), 303)
    release = actions.store_list(m, data, header.version, ctx.now())
    audit("publish", name, detail=f"version {release.version}, {release.size} bytes, "
          f"sha256 {release.sha256[:16]}")  # fmt: skip
    try:
        actions.send_list(ctx.settings.broker, ctx.settings.data_dir, ctx.now, data, release)
        flash(_("List version %(v)d published to every gate.") % {"v": release.version})
    except OSError as exc:
        flash(_("Stored; the broker is not reachable (%(e)s): every gate gets it when it "
                "connects.") % {"e": exc})  # fmt: skip
    return redirect(url_for("console.lists"), 303)


# -- access codes -------------------------------------------------------------------------------


@pages.route("/codes")
@needs("view")
def codes() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "codes")
    ic = ctx.cm.issued_code
    rows = ic.select().where(True if museum is None else ic.museum == museum)
    issued = [(row, actions.access_code_used(ctx.cm.hub, row.museum, row.gate, row.nonce))
              for row in rows.order_by(ic.issued_at.desc()).limit(200)]  # fmt: skip
    return render_template("codes.html", issued=issued, now=ctx.now(), durations=DURATIONS,
                           museums=[g.person.museum] if g.person.museum
                           else queries.museums(ctx.cm.hub),
                           can_issue=ctx.settings.office_key is not None)  # fmt: skip


@pages.route("/codes", methods=["POST"])
@needs("issue")
def issue_code() -> Any:
    ctx = context()
    form = request.form
    museum, gate = form.get("museum", ""), form.get("gate", "")
    role, valid = form.get("role", ""), form.get("valid", "")
    what = f"{museum}/{gate} {role} {valid}"
    if not (ID.match(museum) and ID.match(gate)) or valid not in DURATIONS:
        audit("issue", what[:200], "refused", "malformed request")
        flash(_("Give a museum, a gate (letters, digits, . _ -), a role and a validity."))
        return redirect(url_for("console.codes"), 303)
    museum_scope(museum, "issue")
    if ctx.settings.office_key is None:
        audit("issue", what, "refused", "no office key configured", museum)
        flash(_("This console has no office key: it cannot issue codes."))
        return redirect(url_for("console.codes"), 303)
    now = ctx.now()
    try:
        code = actions.issue_access_code(ctx.settings.office_key, museum, gate, role,
                                         now + DURATIONS[valid], now)  # fmt: skip
    except actions.ActionRefused as exc:
        audit("issue", what, "refused", str(exc), museum)
        flash(str(exc))
        return redirect(url_for("console.codes"), 303)
    ctx.cm.issued_code.create(museum=museum, gate=gate, role=role, nonce=code.nonce,
                              expires_at=code.expires_at, issued_at=now,
                              issued_by=g.person.name)  # fmt: skip
    audit("issue", what, detail=f"nonce {code.nonce}", museum=museum)
    return render_template("code.html", code=code, qr=charts.qr_svg(code.text))


# -- problems -----------------------------------------------------------------------------------


@pages.route("/problems")
@needs("view")
def problems() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "problems")
    resolved = request.args.get("resolved") == "1"
    rows = queries.problems(ctx.cm.hub, museum, resolved)
    pn = ctx.cm.problem_note
    notes: dict[int, list[Any]] = {}
    for note in pn.select().where(pn.problem_id.in_([r.id for r in rows])).order_by(pn.at):
        notes.setdefault(note.problem_id, []).append(note)
    return render_template("problems.html", problems=rows, notes=notes, resolved=resolved,
                           quarantined=queries.quarantined(ctx.cm.hub, rows))  # fmt: skip


@pages.route("/problems/<int:problem_id>/resolve", methods=["POST"])
@needs("resolve")
def resolve(problem_id: int) -> Any:
    ctx = context()
    row = queries.problem(ctx.cm.hub, problem_id)
    if row is None:
        audit("resolve", str(problem_id), "refused", "no such problem")
        abort(404)
    museum_scope(row.museum, "resolve")
    note = request.form.get("note", "").strip()
    if not note:
        audit("resolve", str(problem_id), "refused", "no note", row.museum)
        flash(_("Say in a note what was done: it is kept with the problem."))
        return redirect(url_for("console.problems"), 303)
    actions.resolve_problem(ctx.cm.hub, problem_id)
    ctx.cm.problem_note.create(problem_id=problem_id, note=note[:2000], by=g.person.name,
                               at=ctx.now())  # fmt: skip
    audit("resolve", f"{problem_id} {row.kind} {row.museum}/{row.gate}", detail=note[:200],
          museum=row.museum)  # fmt: skip
    return redirect(url_for("console.problems"), 303)


# -- the audit log ------------------------------------------------------------------------------


@pages.route("/audit")
@needs("audit")
def audit_log() -> Any:
    ctx = context()
    a = ctx.cm.audit
    museum = g.person.museum
    rows = a.select().where(True if museum is None else a.museum == museum)
    return render_template("audit.html", rows=rows.order_by(a.id.desc()).limit(500))
