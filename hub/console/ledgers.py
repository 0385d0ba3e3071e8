"""The ledgers the counters send to the hub: sales, cash closures, pass orders, pass Culture,
Pass+.

Pages over the hub's own tables (``hub/sales.py``, ``hub/passculture/``,
``hub/passplus/``), through ``queries.py``; exports are the hub's own CSV
writers, audited as the entries export is. The one change made here, shipping
and delivering pass orders, goes through ``hub/orders.py`` (which checks the
serials) and is the office's alone. Every page obeys the rights:
a museum's people see their museum only, and asking for another by address
is refused and audited (``museum_scope``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import IO, Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from hub import actions
from hub import orders as hub_orders
from hub.console import queries
from hub.console.context import _, context
from hub.console.views import _day, audit, museum_scope, needs, pages
from hub.passculture.export import export_validations
from hub.passculture.models import open_countermarks
from hub.passplus.export import export_redemptions
from hub.passplus.models import open_tables as passplus_tables
from hub.sales import export_sales

MAX_SERIALS = 1000  # more than any order: a pasted file is refused before it is read
SEPARATORS = re.compile(r"[\s,;]+")  # one serial a line, or separated by spaces or commas


def _period() -> tuple[date, date]:
    today = date.fromtimestamp(context().now())
    last = _day(request.args.get("to"), today)
    first = _day(request.args.get("from"), last - timedelta(days=30))
    if first > last or (last - first).days > 366:
        abort(400, _("Choose a period of at most a year, its first day before its last."))
    return first, last


def _museums() -> list[str]:
    return [g.person.museum] if g.person.museum else queries.museums(context().cm.hub)


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


def _period_export(name: str, unit: str, write: Callable[[str, date, date, IO[str]], int]) -> Any:
    """One museum's ledger ``name`` over the asked period as CSV, audited with its count."""
    museum = museum_scope(request.args.get("museum"), "export")
    if museum is None:
        abort(400, _("Choose a museum to export."))
    first, last = _period()
    out = io.StringIO()
    count = write(museum, first, last, out)
    audit("export", f"{name} {museum} {first}..{last}", detail=f"{count} {unit}", museum=museum)
    return _csv(out.getvalue(), f"{name}-{museum}-{first}-{last}.csv")


@pages.route("/sales")
@needs("view")
def sales() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "sales")
    first, last = _period()
    days = queries.sales_days(ctx.cm.hub, museum, first, last)
    return render_template(
        "sales.html", days=days, rows=queries.sales_rows(ctx.cm.hub, museum, first, last),
        museum=museum, museums=_museums(), first=first, last=last,
        total=sum(d.due_cents for d in days),
    )  # fmt: skip


@pages.route("/sales.csv")
@needs("view")
def sales_csv() -> Any:
    hub = context().cm.hub
    return _period_export("sales", "lines", lambda *args: export_sales(hub, *args))


@pages.route("/closures")
@needs("view")
def closures() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "closures")
    return render_template("closures.html", closures=queries.closure_views(ctx.cm.hub, museum),
                           museum=museum, museums=_museums())  # fmt: skip


@pages.route("/orders")
@needs("view")
def orders() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "orders")
    return render_template("orders.html", orders=queries.pass_orders(ctx.cm.hub, museum),
                           museum=museum, museums=_museums())  # fmt: skip


def _order_refused(exc: actions.ActionRefused) -> str:
    """What the office reads when ``hub/orders.py`` refuses: the reason, then its details."""
    messages = {
        "no_order": _("There is no such pass order."),
        "ambiguous_order": _("Several orders start with this: give more of the order's id."),
        "already_shipped": _("This order was already shipped: it cannot be shipped again."),
        "bad_count": _("Wrong number of serials for this order."),
        "duplicate_serial": _("A serial is typed twice."),
        "bad_serial": _("That is not a chip serial: 8 to 20 hexadecimal digits."),
        "serial_shipped": _("A serial was already shipped in another order: it belongs to "
                            "that museum's stock."),
        "serial_in_use": _("A serial is already activated: it cannot go into a museum's stock."),
        "not_shipped": _("Only a shipped order can be delivered."),
    }  # fmt: skip
    return _("Nothing was stored. %(why)s (%(detail)s)") % {
        "why": messages.get(exc.code, ""), "detail": exc}  # fmt: skip


@pages.route("/orders/ship", methods=["POST"])
@needs("orders")
def ship_order() -> Any:
    ctx = context()
    text = request.form.get("order", "")[:64]
    serials = [s for s in SEPARATORS.split(request.form.get("serials", "")) if s]
    back = redirect(url_for("console.orders"), 303)
    if len(serials) > MAX_SERIALS:
        audit("ship", text, "refused", f"{len(serials)} serials")
        flash(_("Nothing was stored: at most %(n)d serials at once.") % {"n": MAX_SERIALS})
        return back
    try:
        order = hub_orders.ship(ctx.cm.hub, text, serials, ctx.now())
    except actions.ActionRefused as exc:
        audit("ship", text, "refused", f"{exc.code}: {exc}")
        flash(_order_refused(exc))
        return back
    audit("ship", order.order, detail=" ".join(order.serials), museum=order.museum)
    flash(_("Order %(o)s of %(m)s shipped: %(n)d serials.")
          % {"o": order.order[:8], "m": order.museum, "n": len(order.serials)})  # fmt: skip
    return back


@pages.route("/orders/deliver", methods=["POST"])
@needs("orders")
def deliver_order() -> Any:
    ctx = context()
    text = request.form.get("order", "")[:64]
    back = redirect(url_for("console.orders"), 303)
    try:
        order, deltas = hub_orders.deliver(ctx.cm.hub, text, ctx.now())
    except actions.ActionRefused as exc:
        audit("deliver", text, "refused", f"{exc.code}: {exc}")
        flash(_order_refused(exc))
        return back
    audit("deliver", order.order, detail=f"{len(deltas)} stock deltas", museum=order.museum)
    try:
        actions.send_deltas(ctx.settings.broker, ctx.settings.data_dir, ctx.now, deltas)
        flash(_("Order %(o)s delivered: its %(n)d passes are %(m)s's stock on every gate.")
              % {"o": order.order[:8], "n": len(deltas), "m": order.museum})  # fmt: skip
    except OSError as exc:
        flash(_("Stored; the broker is not reachable (%(e)s): every gate gets it when it "
                "connects.") % {"e": exc})  # fmt: skip
    return back


@pages.route("/passculture")
@needs("view")
def passculture() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "passculture")
    first, last = _period()
    return render_template(
        "passculture.html", marks=queries.countermarks(ctx.cm.hub, museum, first, last),
        museum=museum, museums=_museums(), first=first, last=last,
    )  # fmt: skip


@pages.route("/passculture.csv")
@needs("view")
def passculture_csv() -> Any:
    marks = open_countermarks(context().cm.hub.db)
    return _period_export("passculture", "validations",
                          lambda *args: export_validations(marks, *args))  # fmt: skip


@pages.route("/passplus")
@needs("view")
def passplus() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "passplus")
    first, last = _period()
    redeemed, refused = queries.passplus(ctx.cm.hub, museum, first, last)
    return render_template(
        "passplus.html", redeemed=redeemed, refused=refused, museum=museum, museums=_museums(),
        first=first, last=last, paid=sum(r.pays_cents or 0 for r in redeemed),
        second_uses=sum(r.second_use for r in refused),
    )  # fmt: skip


@pages.route("/passplus.csv")
@needs("view")
def passplus_csv() -> Any:
    used, _refused = passplus_tables(context().cm.hub.db)
    # The very function of `portique-hub passplus export`.
    return _period_export("passplus", "redemptions",
                          lambda *args: export_redemptions(used, *args))  # fmt: skip
