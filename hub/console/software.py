"""The Software page: which version each gate runs, and the office's release notices.

The office publishes a notice ("a new version is available") through the hub's
own ``publish_release``, as ``portique-hub release publish`` does: checked,
stored, audited, then sent to every gate, which verifies it and shows it to
staff. Museums see the notices and their own gates' versions.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from hub import releases
from hub.actions import ActionRefused
from hub.console import queries
from hub.console.context import _, context
from hub.console.views import audit, museum_scope, needs, pages


@pages.route("/software")
@needs("view")
def software() -> Any:
    ctx = context()
    museum = museum_scope(request.args.get("museum"), "software")
    return render_template(
        "software.html", gates=queries.gate_views(ctx.cm.hub, museum, ctx.now()),
        notices=releases.notices(ctx.cm.hub), notes_max=releases.NOTES_MAX,
    )  # fmt: skip


@pages.route("/software", methods=["POST"])
@needs("publish")
def publish_release() -> Any:
    ctx = context()
    form = request.form
    version, day, notes = form.get("version", ""), form.get("date", ""), form.get("notes", "")
    try:
        body = releases.publish_release(ctx.cm.hub, version, day, notes, ctx.now(), g.person.name)
    except ActionRefused as exc:
        audit("release", version[:64], "refused", f"{exc.code}: {exc}")
        flash(_("The release notice was refused, nothing was sent: %(why)s") % {"why": exc})
        return redirect(url_for("console.software"), 303)
    audit("release", body["version"], detail=f"date {body['date']}: {body['notes'][:150]}")
    try:
        releases.send_release(ctx.settings.broker, ctx.settings.data_dir, ctx.now, body)
        flash(_("Release notice %(v)s sent to every gate.") % {"v": body["version"]})
    except OSError as exc:
        flash(_("Stored; the broker is not reachable (%(e)s): every gate gets it when it "
                "connects.") % {"e": exc})  # fmt: skip
    return redirect(url_for("console.software"), 303)
