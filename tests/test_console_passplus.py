"""The Pass+ page: the hub's redemptions per museum and period, its partner export, and
second uses shown as problems; each museum's kept apart.

The tickets are answered by the hub's own handler (``hub/passplus/handler.py``), as a
gate's question over MQTT would be: nothing is written into its tables by hand.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from consoleworld import DAY, DAY_WALL, HubFolder, audit_rows
from pgserver import both_databases

from hub.ingest import Ingest
from hub.keys import HubSigner
from hub.passplus.export import export_redemptions
from hub.passplus.handler import PassPlusHandler
from hub.passplus.models import open_tables

PERIOD = f"from={DAY}&to={DAY}"


def redeem(handler: PassPlusHandler, museum: str, number: str,
           amount: int = 2000, price: int = 1500) -> None:  # fmt: skip
    handler.on_redeem(museum, "G1", {
        "request_id": uuid.uuid4().hex, "number": number, "wallet": "culture",
        "amount_cents": amount, "price_cents": price, "generated_on": "2026-09-15",
        "operator": "Marie",
    })  # fmt: skip


@pytest.fixture
def tickets(hub_folder: HubFolder) -> HubFolder:
    """At M1: two tickets paid, one shown again at M1 and at M2; at M2 one paid, one refused."""
    # Not connected: the answers to the gates are queued and dropped, the tables are real.
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    report = Ingest(hub_folder.m, lambda: DAY_WALL + 600).report
    handler = PassPlusHandler(hub_folder.m.db, client, HubSigner.load(hub_folder.dir),
                              lambda: DAY_WALL + 600, hub_folder.dir, report)  # fmt: skip
    redeem(handler, "M1", "PP-1111-0001", amount=2000, price=1500)
    redeem(handler, "M1", "PP-1111-0002", amount=1000, price=1500)
    redeem(handler, "M1", "PP-1111-0001")  # the same ticket, a second time
    redeem(handler, "M2", "PP-2222-0001", amount=500)
    redeem(handler, "M2", "PP-1111-0002")  # M1's ticket shown at M2
    return hub_folder


@both_databases  # the page's queries once on PostgreSQL too
def test_the_pass_plus_page_shows_a_museums_redemptions_and_second_uses_as_problems(
    tickets: HubFolder, client_of: Any
) -> None:
    page = client_of("office").get(f"/passplus?museum=M1&{PERIOD}").get_data(as_text=True)
    assert '<strong id="passplus-count">2</strong>' in page
    assert '<strong id="passplus-paid">25.00</strong>' in page  # 15.00 + 10.00, no change
    assert '<strong id="passplus-second-uses">1</strong>' in page
    redeemed = re.search(r'<table id="passplus-redeemed">.*?</table>', page, re.S).group(0)
    assert "PP-1111-0001" in redeemed and "PP-1111-0002" in redeemed
    refused = re.search(r'<table id="passplus-refused">.*?</table>', page, re.S).group(0)
    assert '<tr class="unhealthy">' in refused and "second use: already redeemed" in refused
    assert "PP-2222" not in page and "M2/" not in page
    # The hub's own problem report, on the Problems page too.
    assert "PP-1111-0001 presented again" in client_of("office").get(
        "/problems?museum=M1").get_data(as_text=True)  # fmt: skip


def test_the_pass_plus_page_of_every_museum_shows_each(tickets: HubFolder,
                                                       client_of: Any) -> None:  # fmt: skip
    page = client_of("office").get(f"/passplus?{PERIOD}").get_data(as_text=True)
    assert "M1/G1" in page and "M2/G1" in page and "PP-2222-0001" in page
    assert '<strong id="passplus-second-uses">2</strong>' in page


def test_a_day_outside_the_period_shows_nothing(tickets: HubFolder, client_of: Any) -> None:
    page = client_of("office").get("/passplus?museum=M1&from=2026-11-04&to=2026-11-30")
    assert '<strong id="passplus-count">0</strong>' in page.get_data(as_text=True)


def test_the_pass_plus_export_is_the_hubs_own_csv_and_is_audited(
    tickets: HubFolder, client_of: Any
) -> None:
    response = client_of("victor").get(f"/passplus.csv?museum=M1&{PERIOD}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    # Exactly what `portique-hub passplus export` writes for the same museum and days.
    expected = io.StringIO()
    used, _refused = open_tables(tickets.m.db)
    from datetime import date

    export_redemptions(used, "M1", date.fromisoformat(DAY), date.fromisoformat(DAY), expected)
    assert response.get_data(as_text=True) == expected.getvalue()
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["number"], r["paid"]) for r in rows] == [("PP-1111-0001", "15.00"),
                                                        ("PP-1111-0002", "10.00")]  # fmt: skip
    last = audit_rows(tickets.cm)[-1]
    assert (last.action, last.user, last.target) == ("export", "victor",
                                                     f"passplus M1 {DAY}..{DAY}")  # fmt: skip


def test_a_pass_plus_export_of_every_museum_at_once_is_refused(tickets: HubFolder,
                                                               client_of: Any) -> None:  # fmt: skip
    response = client_of("office").get(f"/passplus.csv?{PERIOD}")
    assert response.status_code == 400
    assert "Choose a museum to export" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", [f"/passplus?museum=M2&{PERIOD}",
                                 f"/passplus.csv?museum=M2&{PERIOD}"])  # fmt: skip
def test_a_museum_viewer_never_sees_another_museums_pass_plus(
    tickets: HubFolder, client_of: Any, url: str
) -> None:
    client = client_of("victor")
    page = client.get(f"/passplus?{PERIOD}").get_data(as_text=True)
    assert "PP-2222" not in page and "M2/" not in page
    assert client.get(url).status_code == 403
    last = audit_rows(tickets.cm)[-1]
    assert (last.user, last.outcome, last.museum) == ("victor", "refused", "M2")


def test_a_malformed_period_is_refused_with_a_message(tickets: HubFolder,
                                                      client_of: Any) -> None:  # fmt: skip
    response = client_of("anna").get("/passplus?from=2026-13-01")
    assert response.status_code == 400
    assert "YYYY-MM-DD" in response.get_data(as_text=True)


def test_the_pass_plus_page_speaks_german(tickets: HubFolder, client_of: Any) -> None:
    page = client_of("anna").get(f"/passplus?lang=de&{PERIOD}").get_data(as_text=True)
    assert "Einlösungen" in page and "zweite Verwendung: bereits eingelöst" in page
