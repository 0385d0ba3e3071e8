"""The Software page: which version each gate runs, and the office's release notice sent
from the console through the hub's own function, signed, audited."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from consoleworld import Clock, HubFolder, audit_rows, console_settings, csrf_token
from flask import Flask
from pgserver import both_databases
from syncworld import Spy, wait_until
from test_console_pages import row_of, send_status

from firmware.sync.protocol import broadcast_topic, unseal
from firmware.trust import TrustStore, read_public_key
from hub.console.app import create_app
from hub.console.auth import Person, open_session
from hub.keys import ROOT_PUB
from hub.releases import latest_notice, publish_release

FORM = {"version": "2.0.0", "date": "2026-12-01", "notes": "the reader recovers faster"}


def post_notice(client: Any, **fields: str) -> Any:
    token = csrf_token(client, "/software")
    return client.post("/software", data={**FORM, **fields, "csrf_token": token})


def test_the_office_publishes_a_notice_the_gates_can_verify(
    hub_folder: HubFolder, console_clock: Clock, broker
) -> None:
    app: Flask = create_app(console_settings(hub_folder, broker.port), console_clock)
    spy = Spy(broker.port, subscribe=broadcast_topic("release"))
    client = app.test_client()
    ctx = app.extensions["portique"]
    with client.session_transaction() as session:
        session["token"] = open_session(ctx.cm, Person("office", "admin", None), ctx.now())
    response = post_notice(client)
    assert response.status_code == 303
    wait_until(lambda: spy.heard, "the retained notice on the broker")
    sealed = unseal(spy.heard[-1][1], "release", 1 << 20)
    assert (sealed.body["version"], sealed.body["notes"]) == ("2.0.0", FORM["notes"])
    trust = TrustStore(root=read_public_key(hub_folder.dir / ROOT_PUB), allow_demo=True)
    # The hub's certificate is from today; the console's test clock is a month back.
    trust.accept_certificate(sealed.cert, time.time())
    trust.verify(sealed.signed_bytes, sealed.signature, sealed.signer, "hub", time.time())
    page = client.get("/software").get_data(as_text=True)
    assert "Release notice 2.0.0 sent to every gate." in page
    assert "<td>2.0.0</td><td>2026-12-01</td><td>the reader recovers faster</td>" in page
    last = audit_rows(hub_folder.cm)[-1]
    assert (last.action, last.user, last.target, last.outcome) == ("release", "office", "2.0.0",
                                                                    "done")  # fmt: skip
    spy.close()


def test_a_notice_stored_while_the_broker_is_away_says_so(hub_folder: HubFolder,
                                                          client_of: Any) -> None:  # fmt: skip
    client = client_of("office")
    post_notice(client)
    assert "the broker is not reachable" in client.get("/software").get_data(as_text=True)
    assert latest_notice(hub_folder.m).version == "2.0.0"


@both_databases
def test_a_malformed_or_old_version_is_refused_audited_and_nothing_stored(
    hub_folder: HubFolder, client_of: Any
) -> None:
    client = client_of("office")
    post_notice(client, version="<script>alert(1)</script>")
    page = client.get("/software").get_data(as_text=True)
    assert "was refused, nothing was sent" in page and "is not a software version" in page
    assert "<script>alert" not in page
    assert latest_notice(hub_folder.m) is None
    assert audit_rows(hub_folder.cm)[-1].outcome == "refused"
    post_notice(client, version="2.0.0")
    post_notice(client, version="1.5.0")
    assert "not newer than 2.0.0" in client.get("/software").get_data(as_text=True)
    assert latest_notice(hub_folder.m).version == "2.0.0"


def test_a_notice_without_its_csrf_token_is_refused(hub_folder: HubFolder,
                                                    client_of: Any) -> None:  # fmt: skip
    response = client_of("office").post("/software", data=FORM)
    assert response.status_code == 400
    assert latest_notice(hub_folder.m) is None
    assert audit_rows(hub_folder.cm, "refused")[-1].action == "csrf"


def test_museum_staff_see_the_notices_but_not_the_form(hub_folder: HubFolder,
                                                       client_of: Any) -> None:  # fmt: skip
    publish_release(hub_folder.m, "2.0.0", "2026-12-01", "notes", 1.0, "office")
    page = client_of("anna").get("/software").get_data(as_text=True)
    assert "<td>2.0.0</td>" in page and 'id="release-form"' not in page
    assert client_of("anna").post("/software", data=FORM).status_code in (400, 403)
    assert latest_notice(hub_folder.m).version == "2.0.0"


@both_databases
def test_gates_running_an_older_version_than_the_notice_stand_out(
    hub_folder: HubFolder, client_of: Any, console_clock: Clock
) -> None:
    now = console_clock()
    send_status(hub_folder, "M1", "G1", now - 10, software_version="1.9.0")
    send_status(hub_folder, "M2", "G1", now - 10, software_version="2.0.0")
    publish_release(hub_folder.m, "2.0.0", "2026-12-01", "notes", now - 5, "office")
    page = client_of("office").get("/gates").get_data(as_text=True)
    old = row_of(page, "M1", "G1")
    assert "1.9.0" in old and "older software" in old and "2.0.0 is available" in old
    current = row_of(page, "M2", "G1")
    assert "2.0.0" in current and "older software" not in current
    software = client_of("office").get("/software").get_data(as_text=True)
    row = re.search(r'<tr id="software-M1-G1" class="unhealthy">.*?</tr>', software, re.S)
    assert row and "older than 2.0.0" in row.group(0)
    assert "not reported yet" in software  # M1/G2 never said
    stored = json.loads(hub_folder.m.progress.get(hub_folder.m.progress.gate == "G1").status)
    assert stored["software_version"] in ("1.9.0", "2.0.0")
