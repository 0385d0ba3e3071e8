"""Who may do what in the console: every route, every role, and museums kept apart.

The table below is the promise, written independently of the code: a route the
application has and the table lacks fails the first test, so no page can be
added without saying who may use it.
"""

from __future__ import annotations

from typing import Any

import pytest
from consoleworld import DAY, PEOPLE, SERIAL_M1, audit_rows, csrf_token, log_in
from flask import Flask
from pgserver import both_databases

# Every test on SQLite and on PostgreSQL: the console reads either as the hub does.
pytestmark = both_databases

ALL = {"admin", "manager", "viewer"}
PUBLIC = "public"

# (endpoint, method) -> who may: a set of roles, or PUBLIC (anyone, logged in or not).
RIGHTS: dict[tuple[str, str], Any] = {
    ("static", "GET"): PUBLIC,
    ("console.login", "GET"): PUBLIC,
    ("console.login", "POST"): PUBLIC,
    ("console.logout", "POST"): ALL,
    ("console.home", "GET"): ALL,
    ("console.gates", "GET"): ALL,
    ("console.entries", "GET"): ALL,
    ("console.entries_csv", "GET"): ALL,
    ("console.billing", "GET"): ALL,
    ("console.billing_csv", "GET"): ALL,
    ("console.passes", "GET"): ALL,
    ("console.pass_page", "GET"): ALL,
    ("console.block", "POST"): {"admin"},
    ("console.unblock", "POST"): {"admin"},
    ("console.lists", "GET"): ALL,
    ("console.publish_list", "POST"): {"admin"},
    ("console.codes", "GET"): ALL,
    ("console.issue_code", "POST"): {"admin", "manager"},
    ("console.problems", "GET"): ALL,
    ("console.resolve", "POST"): {"admin", "manager"},
    ("console.audit_log", "GET"): {"admin", "manager"},
    ("console.software", "GET"): ALL,
    ("console.publish_release", "POST"): {"admin"},
    ("console.sales", "GET"): ALL,
    ("console.sales_csv", "GET"): ALL,
    ("console.closures", "GET"): ALL,
    ("console.orders", "GET"): ALL,
    ("console.passculture", "GET"): ALL,
    ("console.passculture_csv", "GET"): ALL,
    ("console.ship_order", "POST"): {"admin"},
    ("console.deliver_order", "POST"): {"admin"},
    ("console.passplus", "GET"): ALL,
    ("console.passplus_csv", "GET"): ALL,
}

# A concrete request for each route: the URL and, for a form, its fields (own museum).
REQUESTS: dict[str, tuple[str, dict[str, Any]]] = {
    "static": ("/static/console.css", {}),
    "console.login": ("/login", {"name": "nobody", "password": "x"}),
    "console.logout": ("/logout", {}),
    "console.home": ("/", {}),
    "console.gates": ("/gates", {}),
    "console.entries": ("/entries?museum=M1", {}),
    "console.entries_csv": (f"/entries.csv?museum=M1&from={DAY}&to={DAY}", {}),
    "console.billing": ("/billing?museum=M1&month=2026-11", {}),
    "console.billing_csv": ("/billing.csv?museum=M1&month=2026-11", {}),
    "console.passes": ("/passes?q=100001", {}),
    "console.pass_page": (f"/passes/{SERIAL_M1}", {}),
    "console.block": ("/passes/block", {"serial": SERIAL_M1}),
    "console.unblock": ("/passes/unblock", {"serial": SERIAL_M1}),
    "console.lists": ("/lists", {}),
    "console.publish_list": ("/lists", {}),
    "console.codes": ("/codes", {}),
    "console.issue_code": (
        "/codes",
        {"museum": "M1", "gate": "G9", "role": "technician", "valid": "1d"},
    ),  # fmt: skip
    "console.problems": ("/problems", {}),
    "console.resolve": ("/problems/{m1_problem}/resolve", {"note": "checked the cable"}),
    "console.audit_log": ("/audit", {}),
    "console.software": ("/software", {}),
    "console.publish_release": ("/software", {"version": "9.9.9", "date": DAY, "notes": "x"}),
    "console.sales": ("/sales?museum=M1", {}),
    "console.sales_csv": (f"/sales.csv?museum=M1&from={DAY}&to={DAY}", {}),
    "console.closures": ("/closures?museum=M1", {}),
    "console.orders": ("/orders?museum=M1", {}),
    "console.passculture": ("/passculture?museum=M1", {}),
    "console.passculture_csv": (f"/passculture.csv?museum=M1&from={DAY}&to={DAY}", {}),
    # No order in this world: the office's request reaches hub/orders.py, which refuses it.
    "console.ship_order": ("/orders/ship", {"order": "0123abcd", "serials": "04A1000000000A"}),
    "console.deliver_order": ("/orders/deliver", {"order": "0123abcd"}),
    "console.passplus": ("/passplus?museum=M1", {}),
    "console.passplus_csv": (f"/passplus.csv?museum=M1&from={DAY}&to={DAY}", {}),
}
ROLE_OF = {"admin": "office", "manager": "anna", "viewer": "victor"}


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_of_the_console_has_its_rights_written_down(console_app: Flask) -> None:
    assert routes(console_app) == set(RIGHTS)


def _send(client: Any, endpoint: str, method: str, m1_problem: int) -> Any:
    url, fields = REQUESTS[endpoint]
    url = url.format(m1_problem=m1_problem)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={**fields, "csrf_token": csrf_token(client, "/login")})


def test_the_login_form_opens_a_session_for_the_right_password_only(console_app: Flask) -> None:
    client = console_app.test_client()
    assert log_in(client, "anna", "wrong password!").status_code == 401
    assert client.get("/gates").status_code == 302
    assert log_in(client, "anna").status_code == 302
    assert client.get("/gates").status_code == 200


def _m1_problem(hub_folder: Any) -> int:
    p = hub_folder.m.problem
    return p.get(p.museum == "M1").id


def test_nobody_logged_in_is_sent_to_the_login_page(console_app: Flask, hub_folder: Any) -> None:
    problem = _m1_problem(hub_folder)
    for (endpoint, method), who in sorted(RIGHTS.items()):
        response = _send(console_app.test_client(), endpoint, method, problem)
        where = f"{method} {endpoint}: {response.status_code}"
        if who == PUBLIC:
            assert response.status_code in (200, 401), where
        else:
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login"), where


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_may_use_exactly_the_routes_the_table_gives_it(
    client_of: Any, hub_folder: Any, role: str
) -> None:
    problem = _m1_problem(hub_folder)
    client = client_of(ROLE_OF[role])
    # Logging out ends the session: that route goes last.
    for (endpoint, method), who in sorted(
        RIGHTS.items(), key=lambda r: r[0][0] == "console.logout"
    ):
        if who == PUBLIC:
            continue
        refused_before = len(audit_rows(hub_folder.cm, "refused"))
        response = _send(client, endpoint, method, problem)
        where = f"{role} {method} {endpoint}: {response.status_code}"
        if role in who:
            assert response.status_code not in (401, 403), where
            refused = audit_rows(hub_folder.cm, "refused")[refused_before:]
            assert not [r for r in refused if "may not" in r.detail], where
            if endpoint != "console.logout":
                assert not response.headers.get("Location", "").startswith("/login"), where
        else:
            assert response.status_code == 403, where
            refused = audit_rows(hub_folder.cm, "refused")[refused_before:]
            assert [(r.user, r.outcome) for r in refused] == [(ROLE_OF[role], "refused")], where


M2_READS = [
    "/gates?museum=M2",
    "/entries?museum=M2",
    f"/entries.csv?museum=M2&from={DAY}&to={DAY}",
    "/billing?museum=M2&month=2026-11",
    "/billing.csv?museum=M2&month=2026-11",
    "/lists?museum=M2",
    "/codes?museum=M2",
    "/problems?museum=M2",
    "/software?museum=M2",
    "/sales?museum=M2",
    f"/sales.csv?museum=M2&from={DAY}&to={DAY}",
    "/closures?museum=M2",
    "/orders?museum=M2",
    "/passculture?museum=M2",
    f"/passculture.csv?museum=M2&from={DAY}&to={DAY}",
    "/passplus?museum=M2",
    f"/passplus.csv?museum=M2&from={DAY}&to={DAY}",
]


@pytest.mark.parametrize("url", M2_READS)
def test_a_museum_manager_asking_for_another_museum_by_url_is_refused_and_audited(
    client_of: Any, hub_folder: Any, url: str
) -> None:
    client = client_of("anna")
    response = client.get(url)
    assert response.status_code == 403
    last = audit_rows(hub_folder.cm)[-1]
    assert (last.user, last.outcome, last.museum) == ("anna", "refused", "M2")


def test_a_museum_manager_cannot_issue_a_code_for_another_museums_gate(
    client_of: Any, hub_folder: Any
) -> None:
    client = client_of("anna")
    response = client.post(
        "/codes",
        data={
            "museum": "M2",
            "gate": "G1",
            "role": "technician",
            "valid": "1d",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 403
    assert hub_folder.cm.issued_code.select().count() == 0
    assert audit_rows(hub_folder.cm)[-1].outcome == "refused"


def test_a_museum_manager_cannot_resolve_another_museums_problem(
    client_of: Any, hub_folder: Any
) -> None:
    p = hub_folder.m.problem
    theirs = p.get(p.museum == "M2")
    client = client_of("anna")
    response = client.post(
        f"/problems/{theirs.id}/resolve",
        data={"note": "not mine", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 403
    assert not p.get_by_id(theirs.id).resolved
    assert hub_folder.cm.problem_note.select().count() == 0


def test_pages_of_a_museum_show_nothing_of_another_museum(client_of: Any) -> None:
    client = client_of("anna")
    for url in ("/gates", "/entries", "/billing?month=2026-11", "/lists", "/problems",
                f"/passes/{SERIAL_M1}", "/audit", "/software", f"/sales?from={DAY}&to={DAY}",
                "/closures", "/orders", f"/passculture?from={DAY}&to={DAY}",
                f"/passplus?from={DAY}&to={DAY}"):  # fmt: skip
        page = client.get(url).get_data(as_text=True)
        assert "M2/" not in page and ">M2<" not in page, url


def test_a_pass_history_shows_every_museum_to_the_office_and_one_museum_to_its_manager(
    client_of: Any,
) -> None:
    office = client_of("office").get(f"/passes/{SERIAL_M1}").get_data(as_text=True)
    assert "M1/G1" in office and "M1/G2" in office and "M2/G1" in office
    manager = client_of("anna").get(f"/passes/{SERIAL_M1}").get_data(as_text=True)
    assert "M1/G1" in manager and "M2/G1" not in manager


def test_every_role_in_the_table_has_an_account_in_the_world(hub_folder: Any) -> None:
    assert {role for role, _ in PEOPLE.values()} == ALL
    assert {user.role for user in hub_folder.cm.user.select()} == ALL
