"""Pass orders at the hub (received → shipped → delivered) and the office's renewal with dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import DEMO_KEYS
from counterworld import T0, tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases

from firmware.clock import FlooredClock, ManualClock
from firmware.counter.service import Counter
from firmware.counter.tariffs import current, parse_body
from firmware.demo import write_demo, write_demo_list
from firmware.gate.passes import PassState, last_valid_day
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal
from firmware.journal.outbox import Outbox
from firmware.sync.deltas import apply_deltas
from hub.actions import ActionRefused, store_list
from hub.cli import main as hub_main
from hub.ingest import Ingest
from hub.models import database_url, open_hub
from hub.orders import deliver, list_orders, ship
from hub.renewals import known_pass, renew_pass

PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime.fromtimestamp(T0, PARIS).date()
STOCK_MANAGER = StaffMember("Sam", Role.STOCK)
SERIALS = ["04A1B2C3D4E5A1", "04A1B2C3D4E5A2", "04A1B2C3D4E5A3"]


def ordered(tmp_path: Path, db_url: str | None, quantity: int = 3, museum: str = "M1"):  # noqa: ANN201
    """A hub that received one order of ``quantity`` single passes from ``museum``'s desk."""
    journal = Journal.open(tmp_path / f"desk-{museum}.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    counter = Counter(journal, FlooredClock(ManualClock(wall=T0)), PARIS, museum, "desk1",
                      lambda now: current(tariffs, now), Ed25519PrivateKey.generate())  # fmt: skip
    counter.order_passes(STOCK_MANAGER, quantity, "single")
    records = Outbox(journal).records(0, 10)
    journal.close()
    m = open_hub(database_url(tmp_path, db_url))
    Ingest(m, lambda: T0).batch(museum, "desk1", {"records": records, "first_seq": 1,
                                                  "last_seq": len(records)})  # fmt: skip
    return m


@both_databases
def test_an_order_goes_received_shipped_delivered_and_its_serials_become_the_museums_stock(
    tmp_path: Path, db_url: str | None
) -> None:
    m = ordered(tmp_path, db_url)
    [order] = list_orders(m, "M1")
    assert (order.state, order.quantity, order.pass_type, order.by) == (
        "received", 3, "single", "Sam")  # fmt: skip
    assert ship(m, order.order[:8], SERIALS, T0).state == "shipped"
    done, deltas = deliver(m, order.order[:8], T0 + 86400)
    assert done.state == "delivered" and done.serials == tuple(SERIALS)
    assert [(d["kind"], d["state"], d["stock_of"]) for d in deltas] == [
        ("stock", "stock", "M1")
    ] * 3
    gate = Journal.open(tmp_path / "gate.sqlite")
    apply_deltas(gate, tuple(deltas), 0, "M2", "gate1")
    rows = {r.serial: (r.state, r.stock_of) for r in gate.models.remote_pass.select()}
    gate.close()
    assert rows == {serial: ("stock", "M1") for serial in SERIALS}


@both_databases
def test_shipping_or_delivering_out_of_order_is_refused_and_stores_nothing(
    tmp_path: Path, db_url: str | None
) -> None:
    m = ordered(tmp_path, db_url, quantity=2)
    [order] = list_orders(m)

    def refused(call) -> str:  # noqa: ANN001
        with pytest.raises(ActionRefused) as caught:
            call()
        return caught.value.code

    assert refused(lambda: deliver(m, order.order, T0)) == "not_shipped"
    assert refused(lambda: ship(m, order.order, SERIALS, T0)) == "bad_count"  # 3 for 2
    assert refused(lambda: ship(m, order.order, ["XYZ"], T0)) == "bad_serial"
    assert refused(lambda: ship(m, order.order, [SERIALS[0]] * 2, T0)) == "duplicate_serial"
    assert refused(lambda: ship(m, "deadbeef", SERIALS[:1], T0)) == "no_order"
    assert list_orders(m)[0].state == "received" and m.delta.select().count() == 0
    ship(m, order.order, SERIALS[:2], T0)
    assert refused(lambda: ship(m, order.order, SERIALS[:1], T0)) == "already_shipped"
    deliver(m, order.order, T0)
    assert refused(lambda: deliver(m, order.order, T0)) == "not_shipped"  # delivered once
    assert m.delta.select().count() == 2


def test_a_serial_shipped_to_one_museum_cannot_be_shipped_to_another(tmp_path: Path) -> None:
    m = ordered(tmp_path, None, museum="M1")
    ordered(tmp_path, None, museum="M2")
    first, second = list_orders(m)
    ship(m, first.order, SERIALS[:1], T0)
    with pytest.raises(ActionRefused, match="already shipped"):
        ship(m, second.order, SERIALS[:1], T0)


def test_the_orders_commands_show_ship_and_deliver_with_clear_messages(
    tmp_path: Path, capsys
) -> None:  # noqa: ANN001
    from conftest import free_port

    m = ordered(tmp_path, None)
    [order] = list_orders(m)
    m.db.close()
    data = ["--data", str(tmp_path)]
    assert hub_main(["init", *data]) == 0
    assert hub_main(["orders", "list", *data]) == 0
    assert "received" in capsys.readouterr().out
    assert hub_main(["orders", "deliver", order.order[:8], *data]) == 2
    assert "only a shipped order can be delivered" in capsys.readouterr().err
    assert hub_main(["orders", "ship", order.order[:8], "--serials", *SERIALS, *data]) == 0
    dead = ["--port", str(free_port())]  # no broker: stored, the gates get it at their hello
    assert hub_main(["orders", "deliver", order.order[:8], *data, *dead]) == 0
    assert "next connection" in capsys.readouterr().err
    assert hub_main(["orders", "list", "--museum", "M1", *data]) == 0
    assert f"delivered  serials {' '.join(SERIALS)}" in capsys.readouterr().out


# -- the office's renewal --------------------------------------------------------------


def published(tmp_path: Path):  # noqa: ANN201
    """A hub that published the demo list of ``TODAY`` to every gate."""
    passes, types = write_demo(tmp_path / "demo", TODAY, filler=20)
    data = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "demo" / "list.pql", T0,
                           version=1).read_bytes()  # fmt: skip
    m = open_hub(database_url(tmp_path, None))
    store_list(m, data, 1, T0)
    return m


ENDING = "04A1B2C3D4E506"  # ends in 3 weeks
FRESH = "04A1B2C3D4E501"  # activated 40 days ago
EXPIRED = "04A1B2C3D4E503"


def test_an_office_renewal_keeps_the_current_year_and_refuses_a_second_one(
    tmp_path: Path,
) -> None:
    m = published(tmp_path)
    before = known_pass(m, ENDING)
    item = renew_pass(m, ENDING, False, T0)
    assert (item["kind"], item["state"]) == ("renewal", "sold")
    kept = (before.activated_on.isoformat(), before.expires_on.isoformat())
    assert (item["activated_on"], item["expires_on"]) == kept
    with pytest.raises(ActionRefused) as again:
        renew_pass(m, ENDING, False, T0)
    assert again.value.code == "already_renewed"


def test_an_office_renewal_with_immediate_entry_keeps_the_days_left(tmp_path: Path) -> None:
    m = published(tmp_path)
    before = known_pass(m, ENDING)
    item = renew_pass(m, ENDING, True, T0)
    left = (before.expires_on - TODAY).days
    assert (item["state"], item["activated_on"]) == ("active", TODAY.isoformat())
    assert item["expires_on"] == (last_valid_day(TODAY) + timedelta(days=left)).isoformat()
    assert known_pass(m, ENDING).state is PassState.ACTIVE


def test_an_office_renewal_of_an_expired_pass_keeps_the_year_that_ran_out(tmp_path: Path) -> None:
    m = published(tmp_path)
    before = known_pass(m, EXPIRED)
    item = renew_pass(m, EXPIRED, False, T0)
    assert (item["state"], item["expires_on"]) == ("sold", before.expires_on.isoformat())


def test_an_office_renewal_too_early_or_of_an_unknown_pass_is_refused(
    tmp_path: Path, capsys
) -> None:  # noqa: ANN001
    m = published(tmp_path)
    for serial, code in ((FRESH, "renewal_too_early"), ("0102030405060708090A", "unknown_pass")):
        with pytest.raises(ActionRefused) as refused:
            renew_pass(m, serial, False, T0)
        assert refused.value.code == code
    m.db.close()
    assert hub_main(["pass", "renew", FRESH, "--data", str(tmp_path)]) == 2
    assert "it can be renewed from" in capsys.readouterr().err
    assert open_hub(database_url(tmp_path, None)).delta.select().count() == 0
