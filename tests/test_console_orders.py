"""Shipping and delivering pass orders from the console: the office only, through
``hub/orders.py`` (its checks, its stock deltas), audited, each refusal said clearly and
nothing stored.

The orders are made by the real counter in a real journal and stored by the hub's own
ingestion (``test_console_ledgers.counter_day``): M1 ordered 25 passes, M2 40.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from consoleworld import DAY_WALL, HubFolder, audit_rows, csrf_token, journal_records
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases
from test_console_ledgers import counter_day

from firmware.trust import raw_public
from hub.ingest import Ingest
from hub.models import register_gate
from hub.orders import list_orders, ship

SERIALS = ["04A1000000000A", "04A1000000000B", "04A1000000000C"]


@pytest.fixture
def ordered(hub_folder: HubFolder) -> HubFolder:
    m = hub_folder.m
    ingest = Ingest(m, lambda: DAY_WALL + 3600)
    for museum, serial in (("M1", "01020304"), ("M2", "0A0B0C0D")):
        key = Ed25519PrivateKey.generate()
        register_gate(m, museum, "desk1", raw_public(key.public_key()), DAY_WALL)
        ingest.batch(museum, "desk1", counter_day(hub_folder.dir, museum, key, serial))
    return hub_folder


def order_of(folder: HubFolder, museum: str) -> Any:
    return next(o for o in list_orders(folder.m, museum))


def post(client: Any, path: str, **fields: str) -> Any:
    return client.post(path, data={**fields, "csrf_token": csrf_token(client, "/orders")})


def flash_of(client: Any) -> str:
    page = client.get("/orders").get_data(as_text=True)
    return page.split('<p class="flash" role="status">', 1)[1].split("</p>", 1)[0]


def stored(folder: HubFolder) -> tuple[int, int]:
    """Deltas and office rows: what a refused ship or deliver must leave as it was."""
    from hub.orders import orders_table

    return folder.m.delta.select().count(), orders_table(folder.m).select().count()


@both_databases  # through the hub's functions on PostgreSQL too
def test_the_office_ships_pasted_serials_then_delivers_them_as_the_museums_stock(
    ordered: HubFolder, client_of: Any
) -> None:
    client = client_of("office")
    order = order_of(ordered, "M1")
    page = client.get("/orders").get_data(as_text=True)
    assert f'id="ship-{order.order[:8]}"' in page
    # Pasted as a spreadsheet column would be: lines, a comma, spaces, lower case.
    pasted = f"{SERIALS[0].lower()}\r\n{SERIALS[1]}, {SERIALS[2]}\n\n"
    response = post(client, "/orders/ship", order=order.order, serials=pasted)
    assert response.status_code == 303
    assert "shipped: 3 serials" in flash_of(client)
    shipped = order_of(ordered, "M1")
    assert (shipped.state, shipped.serials) == ("shipped", tuple(SERIALS))
    last = audit_rows(ordered.cm)[-1]
    assert (last.action, last.user, last.outcome, last.museum) == ("ship", "office", "done", "M1")
    page = client.get("/orders").get_data(as_text=True)
    assert f'id="deliver-{order.order[:8]}"' in page and "shipped · 3 serials" in page
    deltas_before = ordered.m.delta.select().count()
    response = post(client, "/orders/deliver", order=order.order)
    assert response.status_code == 303
    assert order_of(ordered, "M1").state == "delivered"
    d = ordered.m.delta
    items = [json.loads(row.item) for row in d.select().where(d.dseq > deltas_before)]
    assert [(i["kind"], i["serial"], i["stock_of"]) for i in items] == [
        ("stock", s, "M1") for s in SERIALS]  # fmt: skip
    last = audit_rows(ordered.cm)[-1]
    assert (last.action, last.outcome, last.detail) == ("deliver", "done", "3 stock deltas")
    # No broker listens in this test: the office is told the gates get it at their next hello.
    assert "every gate gets it when it connects" in flash_of(client)


def _refused(folder: HubFolder, client: Any, path: str, wanted: str, **fields: str) -> None:
    before = stored(folder)
    response = post(client, path, **fields)
    assert response.status_code == 303
    shown = flash_of(client)
    assert "Nothing was stored" in shown and wanted in shown, shown
    assert stored(folder) == before
    last = audit_rows(folder.cm)[-1]
    assert (last.user, last.outcome) == ("office", "refused")


def test_more_serials_than_the_order_asked_for_are_refused(ordered: HubFolder,
                                                           client_of: Any) -> None:  # fmt: skip
    too_many = " ".join(f"04A10000000{n:03X}" for n in range(26))  # the order is for 25
    _refused(ordered, client_of("office"), "/orders/ship", "Wrong number of serials",
             order=order_of(ordered, "M1").order, serials=too_many)  # fmt: skip


def test_no_serial_at_all_is_refused(ordered: HubFolder, client_of: Any) -> None:
    _refused(ordered, client_of("office"), "/orders/ship", "Wrong number of serials",
             order=order_of(ordered, "M1").order, serials=" \n, ")  # fmt: skip


def test_a_serial_typed_twice_is_refused(ordered: HubFolder, client_of: Any) -> None:
    _refused(ordered, client_of("office"), "/orders/ship", "typed twice",
             order=order_of(ordered, "M1").order,
             serials=f"{SERIALS[0]}\n{SERIALS[0].lower()}")  # fmt: skip


def test_a_serial_shipped_to_another_museum_is_refused(ordered: HubFolder,
                                                       client_of: Any) -> None:  # fmt: skip
    ship(ordered.m, order_of(ordered, "M2").order, [SERIALS[0]], DAY_WALL)
    _refused(ordered, client_of("office"), "/orders/ship", "already shipped in another order",
             order=order_of(ordered, "M1").order, serials=SERIALS[0])  # fmt: skip
    assert order_of(ordered, "M1").state == "received"


def test_a_serial_already_activated_is_refused(ordered: HubFolder, client_of: Any) -> None:
    # A new gate activated this pass: the hub's ingestion keeps it in its activations.
    key = Ed25519PrivateKey.generate()
    register_gate(ordered.m, "M1", "G3", raw_public(key.public_key()), DAY_WALL)
    body = journal_records(ordered.dir / "j-act.sqlite", "M1", "G3",
                           [{"credential": SERIALS[1], "reason": "activated"}])  # fmt: skip
    Ingest(ordered.m, lambda: DAY_WALL + 3600).batch("M1", "G3", body)
    assert ordered.m.activation.get_or_none(ordered.m.activation.serial == SERIALS[1])
    _refused(ordered, client_of("office"), "/orders/ship", "already activated",
             order=order_of(ordered, "M1").order, serials=SERIALS[1])  # fmt: skip


@pytest.mark.parametrize("serial", ["XYZ", "04A1'; DROP TABLE delta; --", "04A1B2C3D4E5F6A7B8C9D0"])
def test_a_serial_that_is_not_a_chip_serial_is_refused(ordered: HubFolder, client_of: Any,
                                                       serial: str) -> None:  # fmt: skip
    _refused(ordered, client_of("office"), "/orders/ship", "not a chip serial",
             order=order_of(ordered, "M1").order, serials=serial)  # fmt: skip


def test_an_order_shipped_twice_is_refused_the_second_time(ordered: HubFolder,
                                                           client_of: Any) -> None:  # fmt: skip
    order = order_of(ordered, "M1").order
    ship(ordered.m, order, [SERIALS[0]], DAY_WALL)
    _refused(ordered, client_of("office"), "/orders/ship", "already shipped",
             order=order, serials=SERIALS[1])  # fmt: skip
    assert order_of(ordered, "M1").serials == (SERIALS[0],)


def test_an_unknown_order_is_refused(ordered: HubFolder, client_of: Any) -> None:
    _refused(ordered, client_of("office"), "/orders/ship", "no such pass order",
             order="ffffffff", serials=SERIALS[0])  # fmt: skip
    _refused(ordered, client_of("office"), "/orders/deliver", "no such pass order",
             order="' OR 1=1 --")  # fmt: skip


def test_an_order_not_yet_shipped_cannot_be_delivered(ordered: HubFolder,
                                                      client_of: Any) -> None:  # fmt: skip
    _refused(ordered, client_of("office"), "/orders/deliver", "Only a shipped order",
             order=order_of(ordered, "M1").order)  # fmt: skip
    assert order_of(ordered, "M1").state == "received"


def test_an_order_delivered_twice_stores_its_stock_once(ordered: HubFolder,
                                                        client_of: Any) -> None:  # fmt: skip
    client = client_of("office")
    order = order_of(ordered, "M1").order
    post(client, "/orders/ship", order=order, serials=SERIALS[0])
    post(client, "/orders/deliver", order=order)
    _refused(ordered, client, "/orders/deliver", "Only a shipped order", order=order)


def test_a_pasted_file_of_serials_far_beyond_any_order_is_refused_unread(
    ordered: HubFolder, client_of: Any
) -> None:
    flood = "\n".join(["04A1000000000A"] * 5000)
    _refused(ordered, client_of("office"), "/orders/ship", "at most 1000 serials",
             order=order_of(ordered, "M1").order, serials=flood)  # fmt: skip


@pytest.mark.parametrize("name", ["anna", "victor", "bruno"])
def test_only_the_office_ships_or_delivers_and_museums_see_no_buttons(
    ordered: HubFolder, client_of: Any, name: str
) -> None:
    client = client_of(name)
    order = order_of(ordered, "M1").order
    assert 'id="ship-' not in client.get("/orders").get_data(as_text=True)
    before = stored(ordered)
    assert post(client, "/orders/ship", order=order, serials=SERIALS[0]).status_code == 403
    assert post(client, "/orders/deliver", order=order).status_code == 403
    assert stored(ordered) == before
    last = audit_rows(ordered.cm)[-1]
    assert (last.user, last.outcome) == (name, "refused") and "may not orders" in last.detail


def test_a_ship_without_its_csrf_token_is_refused_and_audited(ordered: HubFolder,
                                                              client_of: Any) -> None:  # fmt: skip
    before = stored(ordered)
    form = {"order": order_of(ordered, "M1").order, "serials": SERIALS[0]}
    response = client_of("office").post("/orders/ship", data=form)
    assert response.status_code == 400
    assert "not sent from this console" in response.get_data(as_text=True)
    assert client_of("office").post("/orders/deliver", data=form).status_code == 400
    assert stored(ordered) == before
    last = audit_rows(ordered.cm, "refused")[-1]
    assert (last.action, last.user) == ("csrf", "office")


def test_a_ship_with_another_persons_csrf_token_is_refused(ordered: HubFolder,
                                                           client_of: Any) -> None:  # fmt: skip
    theirs = csrf_token(client_of("anna"), "/orders")
    before = stored(ordered)
    form = {"order": order_of(ordered, "M1").order, "serials": SERIALS[0], "csrf_token": theirs}
    assert client_of("office").post("/orders/ship", data=form).status_code == 400
    assert stored(ordered) == before


def test_a_refusal_is_said_in_the_office_persons_language(ordered: HubFolder,
                                                          client_of: Any) -> None:  # fmt: skip
    client = client_of("office")
    client.get("/orders?lang=fr")
    order = order_of(ordered, "M1").order
    post(client, "/orders/ship", order=order, serials=f"{SERIALS[0]} {SERIALS[0]}")
    assert "Rien n'a été enregistré. Un numéro de série est saisi deux fois." in flash_of(
        client).replace("&#39;", "'")  # fmt: skip
    page = client.get("/orders").get_data(as_text=True)
    assert f'id="ship-{order[:8]}">Expédier</button>' in page
