"""The ledger pages: sales, cash closures, pass orders and pass Culture, as the counters'
records reach the hub, each museum's kept apart; and quarantined records on Problems.

The counters' records are made by the real counter (``firmware.counter``) in a real
journal and stored by the hub's own ingestion, as a counter's batch would be.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from consoleworld import DAY, DAY_WALL, HubFolder, audit_rows, csrf_token, journal_records
from counterworld import make_pass, tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases

from firmware.clock import FlooredClock, ManualClock
from firmware.counter.rules import Basket
from firmware.counter.service import Counter
from firmware.counter.tariffs import current, parse_body
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal
from firmware.journal.outbox import Outbox
from firmware.trust import raw_public
from hub.ingest import Ingest
from hub.models import register_gate
from hub.passculture.models import micros, open_countermarks

PARIS = ZoneInfo("Europe/Paris")
ANNE = StaffMember("Anne", Role.STOCK)
PERIOD = f"from={DAY}&to={DAY}"


def counter_day(directory: Path, museum: str, key: Ed25519PrivateKey, serial: str) -> dict:
    """A day at ``museum``'s counter desk1: two sales, a cancellation, an order, a closure."""
    journal = Journal.open(directory / f"desk-{museum}.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    counter = Counter(journal, FlooredClock(ManualClock(wall=DAY_WALL)), PARIS, museum, "desk1",
                      lambda now: current(tariffs, now), key)  # fmt: skip
    counter.sell(ANNE, make_pass(serial=serial, number=f"{museum}-111"), museum,
                 Basket("reduced", "card", "student", True, voucher_cents=2000))  # fmt: skip
    sale = counter.sell(ANNE, make_pass(serial=serial[:-1] + "9", number=f"{museum}-222"), museum,
                        Basket("normal", "cash"))  # fmt: skip
    counter.cancel(ANNE, sale.record.seq, "wrong pass")
    counter.order_passes(ANNE, 25 if museum == "M1" else 40, "single")
    counter.open_till(ANNE, 5000)
    counter.close_till(ANNE, 5000)
    counter.close_period(ANNE, "day")
    records = Outbox(journal).records(0, 100)
    journal.close()
    return {"first_seq": 1, "last_seq": len(records), "records": records}


def countermark(table: Any, museum: str, code: str, outcome: str = "admit") -> None:
    table.create(request_id=f"{museum}-{code}", museum=museum, gate="G1", code=code,
                 action="validate", operator="Marie", outcome=outcome, reason="ok", message="",
                 quantity=2, booking_id=1001, offer_id=77, offer_name=f"Carte musée {museum}",
                 price_category="Duo", price=2400, venue_id=4242,
                 at_us=micros(DAY_WALL + 600), answer="{}")  # fmt: skip


@pytest.fixture
def ledgers(hub_folder: HubFolder) -> HubFolder:
    m = hub_folder.m
    ingest = Ingest(m, lambda: DAY_WALL + 3600)
    for museum, serial in (("M1", "01020304"), ("M2", "0A0B0C0D")):
        key = Ed25519PrivateKey.generate()
        register_gate(m, museum, "desk1", raw_public(key.public_key()), DAY_WALL)
        ingest.batch(museum, "desk1", counter_day(hub_folder.dir, museum, key, serial))
    marks = open_countermarks(m.db)
    countermark(marks, "M1", "ABCD23")
    countermark(marks, "M2", "WXYZ45")
    return hub_folder


# -- sales ------------------------------------------------------------------------------


@both_databases  # each page's queries once on PostgreSQL too
def test_the_sales_page_shows_a_museums_takings_by_day_and_its_lines(
    ledgers: HubFolder, client_of: Any
) -> None:
    page = client_of("office").get(f"/sales?museum=M1&{PERIOD}").get_data(as_text=True)
    # 99.00 less a 20.00 voucher by card; 119.00 cash, then cancelled.
    assert '<strong id="sales-total">79.00</strong>' in page
    day = re.search(r'<table id="sales-days">.*?</table>', page, re.S).group(0)
    assert "<td>M1</td><td>2026-11-03</td><td>2</td><td>0</td><td>1</td><td>79.00</td>" in day
    assert "card 79.00" in day and "cash 0.00" in day
    assert "M1-111" in page and "M1-222" in page and "M2-" not in page


def test_the_sales_export_is_the_hubs_csv_and_is_audited(ledgers: HubFolder,
                                                         client_of: Any) -> None:  # fmt: skip
    response = client_of("victor").get(f"/sales.csv?museum=M1&{PERIOD}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["kind"], r["paid"]) for r in rows] == [
        ("sale", "79.00"), ("sale", "119.00"), ("cancellation", "-119.00")]  # fmt: skip
    last = audit_rows(ledgers.cm)[-1]
    assert (last.action, last.user, last.target) == ("export", "victor",
                                                     f"sales M1 {DAY}..{DAY}")  # fmt: skip


def test_a_sales_export_of_every_museum_at_once_is_refused(ledgers: HubFolder,
                                                           client_of: Any) -> None:  # fmt: skip
    response = client_of("office").get(f"/sales.csv?{PERIOD}")
    assert response.status_code == 400
    assert "Choose a museum to export" in response.get_data(as_text=True)


# -- closures and orders ------------------------------------------------------------------


@both_databases  # each page's queries once on PostgreSQL too
def test_cash_closures_show_their_totals_and_signature_checked(ledgers: HubFolder,
                                                               client_of: Any) -> None:  # fmt: skip
    page = client_of("anna").get("/closures").get_data(as_text=True)
    table = re.search(r'<table id="closures">.*?</table>', page, re.S).group(0)
    assert "<td>M1</td><td>desk1</td>" in table and "signature and sequence good" in table
    assert "M2" not in table


def test_a_closure_whose_signature_does_not_match_the_registered_key_stands_out(
    ledgers: HubFolder, client_of: Any
) -> None:
    # The desk re-registered with another key: its old closures no longer verify under it.
    register_gate(ledgers.m, "M1", "desk1", raw_public(Ed25519PrivateKey.generate().public_key()),
                  DAY_WALL)  # fmt: skip
    page = client_of("office").get("/closures?museum=M1").get_data(as_text=True)
    assert '<tr class="unhealthy"><td>M1</td><td>desk1</td>' in page
    assert "signature and sequence good" not in page


@both_databases  # each page's queries once on PostgreSQL too
def test_pass_orders_show_their_quantity_and_state(ledgers: HubFolder, client_of: Any) -> None:
    office = client_of("office").get("/orders").get_data(as_text=True)
    assert "<td>M1/desk1</td><td>25</td><td>single</td>" in office
    assert "<td>M2/desk1</td><td>40</td><td>single</td>" in office
    assert "received" in office
    manager = client_of("anna").get("/orders").get_data(as_text=True)
    assert "M1/desk1" in manager and "M2/desk1" not in manager


# -- pass Culture -------------------------------------------------------------------------


@both_databases  # each page's queries once on PostgreSQL too
def test_the_pass_culture_page_lists_the_museums_counter_marks(ledgers: HubFolder,
                                                               client_of: Any) -> None:  # fmt: skip
    page = client_of("victor").get(f"/passculture?{PERIOD}").get_data(as_text=True)
    assert "ABCD23" in page and "Carte musée M1" in page and "24.00" in page
    assert "WXYZ45" not in page


def test_the_pass_culture_reconciliation_export_is_audited(ledgers: HubFolder,
                                                           client_of: Any) -> None:  # fmt: skip
    response = client_of("anna").get(f"/passculture.csv?museum=M1&{PERIOD}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["code"], r["price"], r["quantity"]) for r in rows] == [("ABCD23", "24.00", "2")]
    assert audit_rows(ledgers.cm)[-1].target == f"passculture M1 {DAY}..{DAY}"


@pytest.mark.parametrize("path", ["/sales", "/closures", "/orders", "/passculture"])
def test_a_museum_viewer_never_sees_another_museums_ledger(ledgers: HubFolder, client_of: Any,
                                                           path: str) -> None:  # fmt: skip
    client = client_of("victor")
    page = client.get(f"{path}?{PERIOD}").get_data(as_text=True)
    assert "M2/" not in page and "<td>M2</td>" not in page and "WXYZ45" not in page
    assert client.get(f"{path}?museum=M2&{PERIOD}").status_code == 403
    last = audit_rows(ledgers.cm)[-1]
    assert (last.user, last.outcome, last.museum) == ("victor", "refused", "M2")


# -- quarantined records on the Problems page -----------------------------------------------


@both_databases  # each page's queries once on PostgreSQL too
def test_a_quarantined_record_shows_on_its_problem_and_is_resolved_with_a_note(
    hub_folder: HubFolder, client_of: Any
) -> None:
    body = journal_records(hub_folder.dir / "j-forged.sqlite", "M1", "G2",
                           [{"credential": "04DD0000000005", "pass_number": "100005"}])  # fmt: skip
    body["records"][0]["credential"] = "04EE0000000006"  # changed after the gate hashed it
    Ingest(hub_folder.m, lambda: DAY_WALL + 3600).batch("M1", "G2", body)
    q = hub_folder.m.quarantine
    assert q.select().where(q.flaw == "bad_hash").count() == 1  # the hub's own check did it
    p = hub_folder.m.problem
    problem = p.get(p.kind == "bad_hash")
    client = client_of("anna")
    page = client.get("/problems").get_data(as_text=True)
    shown = re.search(rf'<tr id="problem-{problem.id}">.*?</tr>', page, re.S).group(0)
    assert "Quarantined record" in shown and "04EE0000000006" in shown and "bad hash" in shown
    response = client.post(f"/problems/{problem.id}/resolve",
                           data={"note": "card reader swapped; gate re-sent",
                                 "csrf_token": csrf_token(client, "/problems")})  # fmt: skip
    assert response.status_code == 303
    assert p.get_by_id(problem.id).resolved
    resolved = client.get("/problems?resolved=1").get_data(as_text=True)
    row = re.search(rf'<tr id="problem-{problem.id}">.*?</tr>', resolved, re.S).group(0)
    assert "card reader swapped; gate re-sent" in row and "04EE0000000006" in row
    assert q.select().count() == 1  # the evidence stays


def test_another_museums_quarantined_record_is_not_shown(hub_folder: HubFolder,
                                                         client_of: Any) -> None:  # fmt: skip
    body = journal_records(hub_folder.dir / "j-forged.sqlite", "M2", "G1",
                           [{"credential": "04DD0000000005"}])  # fmt: skip
    body["records"][0]["children"] = 4
    Ingest(hub_folder.m, lambda: DAY_WALL + 3600).batch("M2", "G1", body)
    page = client_of("anna").get("/problems").get_data(as_text=True)
    assert "Quarantined record" not in page and "04DD0000000005" not in page
    assert "04DD0000000005" in client_of("office").get("/problems").get_data(as_text=True)
