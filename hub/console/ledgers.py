"""The ledgers the counters send to the hub: sales, cash closures, pass orders, pass Culture.

Read-only pages over the hub's own tables (``hub/sales.py``,
``hub/passculture/``), through ``queries.py``; exports are the hub's own
CSV writers, audited as the entries export is. Every page obeys the rights:
a museum's people see their museum only, and asking for another by address
is refused and audited (``museum_scope``).
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from flask import Response, abort, g, render_template, request

from hub.console import queries
from hub.console.context import _, context
from hub.console.views import _day, audit, museum_scope, needs, pages
from hub.passculture.export import export_validations
from hub.passculture.models import open_countermarks
from hub.sales import export_sales


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
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "export")
    if museum is None:
        abort(400, _("Choose a museum to export."))
    first, last = _period()
    out = io.StringIO()
    count = export_sales(ctx.cm.hub, museum, first, last, out)
    audit("export", f"sales {museum} {first}..{last}", detail=f"{count} lines", museum=museum)
    return _csv(out.getvalue(), f"sales-{museum}-{first}-{last}.csv")


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
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "export")
    if museum is None:
        abort(400, _("Choose a museum to export."))
    first, last = _period()
    out = io.StringIO()
    count = export_validations(open_countermarks(ctx.cm.hub.db), museum, first, last, out)
    audit("export", f"passculture {museum} {first}..{last}", detail=f"{count} validations",
          museum=museum)  # fmt: skip
    return _csv(out.getvalue(), f"passculture-{museum}-{first}-{last}.csv")
