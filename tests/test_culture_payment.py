"""Payment method "pass Culture": a museum-card booking validated at the desk pays a sale,
once, on the counter's real journal; the receipt and the hub's sales export name it."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from counterworld import T0, make_pass
from test_counter_service import CASHIER, world  # noqa: F401 - the counter's fixture

from firmware.counter.records import detail_of
from firmware.counter.rules import Basket, CounterRefused
from firmware.counter.service import Counter
from firmware.gate.culture import KIND
from firmware.journal.journal import Entry
from firmware.journal.outbox import Outbox
from firmware.sync.protocol import validate
from hub.ingest import Ingest
from hub.models import open_hub
from hub.sales import export_sales

SECOND = make_pass(serial="04A1B2C3D4E5F7", number="100201")


def validated(counter: Counter, code: str, reason: str = "passculture") -> int:
    """A validation as the desk's pass Culture module journals it (firmware/gate/culture.py)."""
    return counter.journal.append(Entry(
        kind="decision", wall=T0, monotonic=0.0, time_trusted=True, day="2026-03-02",
        museum="M1", gate="desk1", credential_kind=KIND, credential=code,
        admitted=reason != "undone", reason=reason, operator="Anne",
    )).seq  # fmt: skip


def refused(counter: Counter, basket: Basket, record=None) -> str:  # noqa: ANN001
    with pytest.raises(CounterRefused) as caught:
        counter.sell(CASHIER, record or make_pass(), "M1", basket)
    return caught.value.code


def test_a_validated_booking_pays_a_sale_once(world) -> None:  # noqa: ANN001, F811
    counter, _clock, printer, _key = world
    validated(counter, "AB3DK7")
    done = counter.sell(CASHIER, make_pass(), "M1",
                        Basket("normal", "passculture", passculture_code="ab3dk7"))  # fmt: skip
    detail = detail_of(done.record)
    assert (detail["payment"], detail["passculture_code"]) == ("passculture", "AB3DK7")
    assert b"pass Culture" in printer.output
    basket = Basket("normal", "passculture", passculture_code="AB3DK7")
    assert refused(counter, basket, SECOND) == "passculture_already_paid"


def test_a_booking_not_validated_here_or_undone_cannot_pay(world) -> None:  # noqa: ANN001, F811
    counter = world[0]
    basket = Basket("normal", "passculture", passculture_code="AB3DK7")
    assert refused(counter, basket) == "passculture_not_validated"
    validated(counter, "AB3DK7")
    validated(counter, "AB3DK7", reason="undone")
    assert refused(counter, basket) == "passculture_not_validated"
    assert counter.journal.last_seq == 2  # nothing sold


def test_a_cancelled_sale_frees_the_booking_to_pay_again(world) -> None:  # noqa: ANN001, F811
    counter = world[0]
    validated(counter, "AB3DK7")
    basket = Basket("normal", "passculture", passculture_code="AB3DK7")
    sale = counter.sell(CASHIER, make_pass(), "M1", basket).record
    counter.cancel(CASHIER, sale.seq, "wrong pass handed over")
    assert counter.sell(CASHIER, SECOND, "M1", basket).record.seq > sale.seq


@pytest.mark.parametrize(
    ("basket", "code"),
    [
        (Basket("normal", "passculture"), "passculture_code_required"),
        (Basket("normal", "passculture", passculture_code="AB3DK0"), "passculture_bad_code"),
        (Basket("normal", "card", passculture_code="AB3DK7"), "passculture_code_unused"),
    ],
)
def test_a_pass_culture_payment_needs_its_code_and_only_then(world, basket: Basket,  # noqa: ANN001, F811
                                                             code: str) -> None:  # fmt: skip
    assert refused(world[0], basket) == code


def test_the_hub_sales_export_shows_the_pass_culture_payment(world, tmp_path) -> None:  # noqa: ANN001, F811
    counter = world[0]
    validated(counter, "AB3DK7")
    counter.sell(CASHIER, make_pass(), "M1",
                 Basket("normal", "passculture", passculture_code="AB3DK7"))  # fmt: skip
    records = Outbox(counter.journal).records(0, 100)
    body = {"type": "batch", "museum": "M1", "gate": "desk1", "sent_at": T0,
            "records": records, "first_seq": 1, "last_seq": len(records)}  # fmt: skip
    validate("batch", body)
    m = open_hub(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    assert Ingest(m, lambda: T0).batch("M1", "desk1", body).stored == len(records)
    out = io.StringIO()
    assert export_sales(m, "M1", date(2020, 1, 1), date(2100, 1, 1), out) == 1
    sale = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert (sale["payment"], sale["paid"]) == ("passculture", "119.00")
    m.db.close()
