"""Bad input at the console: each is refused with a clear message, changes nothing, and
leaves a row in the audit log."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO_KEYS, free_port, paris
from consoleworld import (
    PASSWORD,
    SERIAL_M1,
    Clock,
    HubFolder,
    audit_rows,
    console_settings,
    csrf_token,
    log_in,
)
from flask import Flask

from firmware.demo import write_demo, write_demo_list
from hub.console.app import ConsoleSettings, create_app
from hub.console.serve import Serving, make_server


def counts(folder: HubFolder) -> tuple[int, ...]:
    m, cm = folder.m, folder.cm
    return (m.delta.select().count(), m.list_release.select().count(),
            cm.issued_code.select().count(), m.problem.select().where(m.problem.resolved).count(),
            m.entry.select().count(), m.gate_key.select().count())  # fmt: skip


def last_refusal(folder: HubFolder) -> Any:
    return audit_rows(folder.cm, "refused")[-1]


# -- CSRF --------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused_and_audited(
    client_of: Any, hub_folder: HubFolder
) -> None:
    before = counts(hub_folder)
    response = client_of("office").post("/passes/block", data={"serial": SERIAL_M1})
    assert response.status_code == 400
    assert "not sent from this console" in response.get_data(as_text=True)
    assert counts(hub_folder) == before
    assert (last_refusal(hub_folder).action, last_refusal(hub_folder).user) == ("csrf", "office")


@pytest.mark.parametrize("path, form", [
    ("/orders/ship", {"order": "0123abcd", "serials": "04A1000000000A"}),
    ("/orders/deliver", {"order": "0123abcd"}),
])  # fmt: skip
def test_the_order_forms_without_or_with_a_forged_csrf_token_are_refused_and_audited(
    client_of: Any, hub_folder: HubFolder, path: str, form: dict[str, str]
) -> None:
    from hub.orders import orders_table

    before = counts(hub_folder), orders_table(hub_folder.m).select().count()
    forged = "IjRmZWQ1YjQ5ZjkxNGI1MzEwNjJlZTg5YjM1ZDJmNjI2ZTZhYmNkZWYi.ZzZzZw.Zm9yZ2Vk"
    for fields in (form, {**form, "csrf_token": forged}):
        response = client_of("office").post(path, data=fields)
        assert response.status_code == 400
        assert "not sent from this console" in response.get_data(as_text=True)
        assert (last_refusal(hub_folder).action, last_refusal(hub_folder).target) == ("csrf", path)
    assert (counts(hub_folder), orders_table(hub_folder.m).select().count()) == before


def test_a_forged_csrf_token_is_refused(client_of: Any, hub_folder: HubFolder) -> None:
    before = counts(hub_folder)
    forged = (
        "IjRmZWQ1YjQ5ZjkxNGI1MzEwNjJlZTg5YjM1ZDJmNjI2ZTZhYmNkZWYi.ZzZzZw.Zm9yZ2VkLXNpZ25hdHVyZQ"
    )
    form = {"serial": SERIAL_M1, "csrf_token": forged}
    response = client_of("office").post("/passes/block", data=form)
    assert response.status_code == 400
    assert counts(hub_folder) == before
    assert last_refusal(hub_folder).action == "csrf"


def test_a_csrf_token_from_another_persons_session_is_refused(
    client_of: Any, hub_folder: HubFolder
) -> None:
    theirs = csrf_token(client_of("anna"), "/gates")
    before = counts(hub_folder)
    form = {"serial": SERIAL_M1, "csrf_token": theirs}
    response = client_of("office").post("/passes/block", data=form)
    assert response.status_code == 400
    assert counts(hub_folder) == before


def test_a_logged_out_session_cookie_opens_nothing(client_of: Any, hub_folder: HubFolder) -> None:
    client = client_of("office")
    cookie = client.get_cookie("portique_console").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/gates")})
    client.set_cookie("portique_console", cookie)  # the stolen cookie, replayed
    response = client.get("/gates")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_session_cookie_signed_by_another_console_is_ignored(
    hub_folder: HubFolder, tmp_path: Path, client_of: Any
) -> None:
    other_folder = tmp_path / "other"
    other_folder.mkdir()
    other = create_app(ConsoleSettings(other_folder, hub_folder.url, secure_cookies=False))
    stranger = other.test_client()
    with stranger.session_transaction() as session:
        session["token"] = "x" * 43
    cookie = stranger.get_cookie("portique_console").value
    client = client_of("office")
    client.set_cookie("portique_console", cookie)
    assert client.get("/gates").status_code == 302


# -- passes and searches ---------------------------------------------------------------------


@pytest.mark.parametrize("serial", ["XYZ", "04A1'; DROP TABLE delta; --", "04A1B2C3D4E5F6A7B8C9D0",
                                    "", "04a1 b2c3"])  # fmt: skip
def test_a_serial_that_does_not_match_the_schema_is_refused_before_anything_is_signed(
    client_of: Any, hub_folder: HubFolder, serial: str
) -> None:
    before = counts(hub_folder)
    client = client_of("office")
    response = client.post(
        "/passes/block", data={"serial": serial, "csrf_token": csrf_token(client, "/gates")}
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "That is not a chip serial" in page
    assert counts(hub_folder) == before  # no delta stored, no dseq used up
    refusal = last_refusal(hub_folder)
    assert (refusal.action, refusal.target) == ("block", serial[:64])


SQL_LIKE = ["' OR 1=1 --", "100001'; DELETE FROM entry; --",
            "%' UNION SELECT password_hash FROM console_user --"]  # fmt: skip


@pytest.mark.parametrize("text", SQL_LIKE)
def test_a_sql_looking_search_is_refused_with_a_message(
    client_of: Any, hub_folder: HubFolder, text: str
) -> None:
    before = counts(hub_folder)
    response = client_of("anna").get("/passes", query_string={"q": text})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "letters, digits and dashes only" in page
    assert "argon2" not in page
    assert counts(hub_folder) == before
    assert (last_refusal(hub_folder).action, last_refusal(hub_folder).user) == ("search", "anna")


def test_a_pass_is_found_by_its_printed_number_and_its_serial(client_of: Any) -> None:
    client = client_of("office")
    for text in ("100001", SERIAL_M1, SERIAL_M1.lower()):
        response = client.get("/passes", query_string={"q": text})
        assert response.headers["Location"] == f"/passes/{SERIAL_M1}", text


def test_blocking_then_unblocking_a_pass_stores_two_deltas_the_gates_accept(
    client_of: Any, hub_folder: HubFolder
) -> None:
    from firmware.sync.protocol import validate

    client = client_of("office")
    token = csrf_token(client, "/gates")
    client.post("/passes/block", data={"serial": SERIAL_M1.lower(), "csrf_token": token})
    assert f"/passes/{SERIAL_M1}" in client.get(f"/passes/{SERIAL_M1}").request.path
    client.post("/passes/unblock", data={"serial": SERIAL_M1, "csrf_token": token})
    import json

    items = [json.loads(row.item) for row in hub_folder.m.delta.select().order_by(
        hub_folder.m.delta.dseq)]  # fmt: skip
    assert [(i["kind"], i["state"], i["serial"]) for i in items] == [
        ("block", "blocked", SERIAL_M1), ("sale", "sold", SERIAL_M1)]  # fmt: skip
    validate("deltas", {"type": "deltas", "museum": "*", "gate": "*", "issued_at": 1.0,
                        "items": items})  # fmt: skip
    assert [r.action for r in audit_rows(hub_folder.cm, "done")][-2:] == ["block", "unblock"]


def test_unblocking_a_pass_the_hub_never_blocked_is_refused(
    client_of: Any, hub_folder: HubFolder
) -> None:
    client = client_of("office")
    before = counts(hub_folder)
    response = client.post(
        "/passes/unblock", data={"serial": SERIAL_M1, "csrf_token": csrf_token(client, "/gates")}
    )
    assert "was not blocked through the hub" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert counts(hub_folder) == before


# -- lists --------------------------------------------------------------------------------------


@pytest.fixture
def signed_list(tmp_path: Path, console_clock: Any) -> bytes:
    """A list signed an hour before the console's now, with the demonstration keys (the
    console allows them): a list from the future is refused, as a gate refuses it."""
    from datetime import UTC, datetime

    issued = console_clock() - 3600
    passes, types = write_demo(tmp_path / "demo", datetime.fromtimestamp(issued, UTC).date(),
                               filler=20)  # fmt: skip
    path = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "demo" / "list.pql", issued,
                           version=5)  # fmt: skip
    return path.read_bytes()


def _upload(client: Any, data: bytes, name: str = "list.pql") -> Any:
    import io

    return client.post("/lists", data={"file": (io.BytesIO(data), name),
                                       "csrf_token": csrf_token(client, "/gates")},
                       content_type="multipart/form-data")  # fmt: skip


def test_a_list_that_verifies_is_published_and_shown(
    client_of: Any, hub_folder: HubFolder, signed_list: bytes
) -> None:
    client = client_of("office")
    response = _upload(client, signed_list)
    assert response.status_code == 303
    page = client.get("/lists").get_data(as_text=True)
    assert "broker is not reachable" in page  # stored; gates get it at their next hello
    r = hub_folder.m.list_release
    assert [(row.version, bytes(row.data)) for row in r.select()] == [(5, signed_list)]


@pytest.mark.parametrize("damage", ["payload", "signature", "truncated", "not a list", "empty"])
def test_a_list_file_that_does_not_verify_is_refused_and_nothing_is_published(
    client_of: Any, hub_folder: HubFolder, signed_list: bytes, damage: str
) -> None:
    data = bytearray(signed_list)
    if damage == "payload":
        data[-3] ^= 0xFF
    elif damage == "signature":
        index = data.index(b'"signature"') + 20
        data[index] = ord("A") if data[index] != ord("A") else ord("B")
    elif damage == "truncated":
        data = data[: len(data) - 40]
    elif damage == "not a list":
        data = bytearray(b"PK\x03\x04 this is a zip file, not a list" * 10)
    else:
        data = bytearray()
    before = counts(hub_folder)
    client = client_of("office")
    page = client.get(_upload(client, bytes(data)).headers["Location"]).get_data(as_text=True)
    assert ("The list file was refused" in page) or ("Choose a list file" in page)
    assert counts(hub_folder) == before
    assert last_refusal(hub_folder).action == "publish"


def test_a_list_older_than_the_one_published_is_refused_as_a_rollback(
    client_of: Any, hub_folder: HubFolder, signed_list: bytes, tmp_path: Path, console_clock: Any
) -> None:
    from datetime import UTC, datetime

    client = client_of("office")
    _upload(client, signed_list)
    _upload(client, signed_list)  # the same file again: sent again, still one release
    assert hub_folder.m.list_release.select().count() == 1
    issued = console_clock() - 1800
    day = datetime.fromtimestamp(issued, UTC).date()
    passes, types = write_demo(tmp_path / "older", day, filler=20)
    older = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "older" / "list.pql",
                            issued, version=4).read_bytes()  # fmt: skip
    before = counts(hub_folder)
    page = client.get(_upload(client, older).headers["Location"]).get_data(as_text=True)
    assert "not newer than the current 5" in page
    assert counts(hub_folder) == before


def test_a_list_signed_with_demonstration_keys_is_refused_unless_allowed(
    hub_folder: HubFolder, signed_list: bytes, console_clock: Clock
) -> None:
    strict = create_app(console_settings(hub_folder, free_port(), allow_demo_keys=False),
                        console_clock)  # fmt: skip
    client = strict.test_client()
    log_in(client, "office")
    page = client.get(_upload(client, signed_list).headers["Location"]).get_data(as_text=True)
    assert "demonstration key" in page
    assert hub_folder.m.list_release.select().count() == 0


# -- a 100 MB upload, through the real server ---------------------------------------------------


@pytest.fixture
def served(hub_folder: HubFolder, console_clock: Clock) -> Iterator[tuple[int, Flask]]:
    server = make_server(console_settings(hub_folder, free_port()), "127.0.0.1", 0,
                         console_clock, threads=2)  # fmt: skip
    serving = Serving(server).start()
    yield serving.port, server.application
    serving.stop()


def test_a_100_mb_upload_is_refused_without_being_read_and_audited(
    served: tuple[int, Flask], hub_folder: HubFolder
) -> None:
    port, _app = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    # Log in over HTTP, as a browser does.
    connection.request("GET", "/login")
    response = connection.getresponse()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode()).group(1)
    body = f"name=office&password={PASSWORD.replace(' ', '+')}&csrf_token={token}"
    connection.request("POST", "/login", body, {"Cookie": cookie,
                       "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    response = connection.getresponse()
    response.read()
    assert response.status == 302
    cookie = response.getheader("Set-Cookie").split(";")[0]
    size = 100 * 1024 * 1024
    connection.putrequest("POST", "/lists")
    connection.putheader("Cookie", cookie)
    connection.putheader("Content-Type", "multipart/form-data; boundary=xyz")
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    block = b"\0" * (1024 * 1024)
    try:
        for _ in range(100):
            connection.send(block)
    except OSError:
        pass  # the server may answer and close before the body is sent
    response = connection.getresponse()
    page = response.read().decode()
    assert response.status == 413
    assert "The file is too large" in page and "64 MB" in page
    assert hub_folder.m.list_release.select().count() == 0
    refusal = last_refusal(hub_folder)
    assert (refusal.action, refusal.user) == ("upload", "office")
    assert str(size) in refusal.detail


# -- logging in ----------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_name_out_with_growing_delays(
    console_app: Flask, hub_folder: HubFolder, console_clock: Clock
) -> None:
    client = console_app.test_client()
    for _ in range(4):
        assert log_in(client, "anna", "not the password").status_code == 401
    locked = log_in(client, "anna")  # the right password, but too soon
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.get_data(as_text=True)
    console_clock.advance(31)
    assert log_in(client, "anna").status_code == 302
    outcomes = [(r.action, r.outcome) for r in audit_rows(hub_folder.cm) if r.target == "anna"]
    assert outcomes == [("login", "refused")] * 5 + [("login", "done")]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "javascript:alert(1)"])  # fmt: skip
def test_the_login_never_sends_a_person_to_another_site(console_app: Flask, target: str) -> None:
    client = console_app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"name": "victor", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_the_login_returns_to_the_page_asked_for(console_app: Flask) -> None:
    client = console_app.test_client()
    response = client.get("/billing")
    assert response.headers["Location"] == "/login?next=/billing"
    token = csrf_token(client)
    response = client.post(
        "/login?next=/billing", data={"name": "victor", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/billing"


def test_the_session_cookie_is_secure_httponly_and_samesite(
    hub_folder: HubFolder, console_clock: Clock
) -> None:
    app = create_app(console_settings(hub_folder, free_port(), secure_cookies=True),
                     console_clock)  # fmt: skip
    client = app.test_client()
    page = client.get("/login", base_url="https://console.invalid").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url="https://console.invalid", headers={
        "Referer": "https://console.invalid/login"},
        data={"name": "office", "password": PASSWORD, "csrf_token": token})  # fmt: skip
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_passwords_are_stored_as_argon2id_hashes(hub_folder: HubFolder) -> None:
    for user in hub_folder.cm.user.select():
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_pages_load_nothing_from_elsewhere(client_of: Any) -> None:
    client = client_of("office")
    for url in ("/gates", "/entries", "/billing", "/passes", f"/passes/{SERIAL_M1}", "/lists",
                "/codes", "/problems", "/audit"):  # fmt: skip
        response = client.get(url)
        page = response.get_data(as_text=True)
        links = re.findall(r'(?:src|href|action)="([^"]*)"', page)
        assert all(not re.match(r"(https?:)?//", link) for link in links), (url, links)
        assert "<script" not in page, url
        assert "script-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_console_speaks_french_and_german(client_of: Any) -> None:
    client = client_of("office")
    assert "Portiques" in client.get("/gates?lang=fr").get_data(as_text=True)
    assert "Drehkreuze" in client.get("/gates?lang=de").get_data(as_text=True)
    assert "Gates" in client.get("/gates?lang=en").get_data(as_text=True)


def test_resolving_a_problem_keeps_the_note(client_of: Any, hub_folder: HubFolder) -> None:
    p = hub_folder.m.problem
    mine = p.get(p.museum == "M1")
    client = client_of("anna")
    token = csrf_token(client, "/gates")
    client.post(f"/problems/{mine.id}/resolve", data={"note": "", "csrf_token": token})
    assert not p.get_by_id(mine.id).resolved  # a resolution needs its note
    client.post(f"/problems/{mine.id}/resolve", data={"note": "gate restarted, records came",
                                                      "csrf_token": token})  # fmt: skip
    assert p.get_by_id(mine.id).resolved
    page = client.get("/problems?resolved=1").get_data(as_text=True)
    assert "gate restarted, records came" in page and "anna" in page


def test_the_day_figures_bill_a_pass_once_per_museum_and_day_across_gates(
    client_of: Any,
) -> None:
    page = client_of("office").get("/billing.csv?museum=M1&month=2026-11").get_data(as_text=True)
    lines = page.strip().splitlines()
    # SERIAL_M1 entered at G1 and G2 of M1 on the day: two entries, billed once.
    assert "M1,2026-11-03,2,1,2,2" in lines, lines
    assert lines[-1].startswith("M1,total,2,1,2")


def test_an_access_code_issued_in_the_console_opens_the_gate_it_names(
    client_of: Any, hub_folder: HubFolder, console_clock: Clock
) -> None:
    from firmware import access
    from firmware.trust import read_public_key

    client = client_of("anna")
    response = client.post(
        "/codes",
        data={
            "museum": "M1",
            "gate": "nord-1",
            "role": "technician",
            "valid": "1d",
            "csrf_token": csrf_token(client),
        },
    )
    page = response.get_data(as_text=True)
    text = re.search(r'id="code-text">([^<]+)<', page).group(1)
    assert "<svg" in page  # the QR code, drawn on the server
    office = read_public_key(hub_folder.dir / "office.pub")
    code = access.check(text, office, "M1", "nord-1", console_clock(), set())
    assert code.role == "technician"
    with pytest.raises(access.AccessCodeError):
        access.check(text, office, "M1", "sud-2", console_clock(), set())
    assert text not in client.get("/codes").get_data(as_text=True)  # shown once, not kept
    assert paris(2026, 11, 3) < code.expires_at
