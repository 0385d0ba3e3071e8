"""The hub's sales ledger: counters' records arrive like entries, sales export as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from counterworld import T0, make_pass, tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.clock import FlooredClock, ManualClock
from firmware.counter.rules import Basket
from firmware.counter.service import Counter
from firmware.counter.tariffs import current, parse_body
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal
from firmware.journal.outbox import Outbox
from firmware.sync.protocol import validate
from hub.ingest import Ingest
from hub.models import open_hub
from hub.sales import export_sales, ledger, pass_orders, update_ledger

PARIS = ZoneInfo("Europe/Paris")
ANNE = StaffMember("Anne", Role.STOCK)


GATE_KEY = Ed25519PrivateKey.generate()


def counter_records(tmp_path: Path) -> list[dict]:
    journal = Journal.open(tmp_path / "journal.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    counter = Counter(journal, FlooredClock(ManualClock(wall=T0)), PARIS, "M1", "desk1",
                      lambda now: current(tariffs, now), GATE_KEY)  # fmt: skip
    basket = Basket("reduced", "card", "student", True, voucher_cents=2000, immediate_entry=True)
    counter.sell(ANNE, make_pass(serial="01020304", number="111"), "M1", basket)
    sale = counter.sell(ANNE, make_pass(serial="01020305", number="222"), "M1",
                        Basket("normal", "cash"))  # fmt: skip
    counter.cancel(ANNE, sale.record.seq, "wrong pass")
    counter.order_passes(ANNE, 25, "single")
    counter.open_till(ANNE, 5000)
    counter.reprint(ANNE, sale.record.seq)
    counter.close_till(ANNE, 5000)
    counter.close_period(ANNE, "day")
    records = Outbox(journal).records(0, 100)
    journal.close()
    return records


def test_sales_reach_the_ledger_and_export_as_csv(tmp_path: Path) -> None:
    records = counter_records(tmp_path)
    m = open_hub(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    body = {"type": "batch", "museum": "M1", "gate": "desk1", "sent_at": T0,
            "records": records, "first_seq": 1, "last_seq": len(records)}  # fmt: skip
    validate("batch", body)  # every counter record kind travels in an ordinary batch
    assert {r["kind"] for r in records} >= {
        "sale",
        "cancellation",
        "pass_order",
        "till_open",
        "receipt_reprint",
        "till_close",
        "closure",
    }
    result = Ingest(m, lambda: T0).batch("M1", "desk1", body)
    assert result.stored == len(records) and result.ack_seq == len(records)
    out = io.StringIO()
    assert export_sales(m, "M1", current_day(), current_day(), out) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    first = rows[0]
    assert (first["pass"], first["tariff"], first["price"], first["voucher"], first["paid"]) == (
        "111", "reduced", "99.00", "20.00", "79.00")  # fmt: skip
    assert (first["payment"], first["seller"], first["gate"]) == ("card", "Anne", "desk1")
    assert [r["kind"] for r in rows] == ["sale", "sale", "cancellation"]
    assert rows[2]["paid"] == "-119.00" and rows[2]["refers_to"] == rows[1]["seq"]
    table = ledger(m)
    sale_row = table.get(table.seq == int(first["seq"]))
    assert sale_row.at_us == round(T0 * 1_000_000)
    assert update_ledger(m) == 0  # filling twice adds nothing
    assert [(o["quantity"], o["state"]) for o in pass_orders(m, "M1")] == [(25, "received")]


def current_day():  # noqa: ANN201
    from datetime import datetime

    return datetime.fromtimestamp(T0, PARIS).date()


def test_a_renewal_reaches_other_gates_with_its_dates_and_no_day_is_lost(tmp_path: Path) -> None:
    from datetime import date, timedelta

    from firmware.gate.decision import Credential, History, Moment, Reason, Rules, decide
    from firmware.gate.passes import PassState
    from firmware.store.store import hub_view
    from firmware.sync.deltas import apply_deltas
    from firmware.sync.protocol import validate
    from hub.sales import sale_delta

    desk = Journal.open(tmp_path / "desk.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    counter = Counter(desk, FlooredClock(ManualClock(wall=T0)), PARIS, "M1", "desk1",
                      lambda now: current(tariffs, now), Ed25519PrivateKey.generate())  # fmt: skip
    today = current_day()
    listed = make_pass(PassState.ACTIVE, today - timedelta(days=330), today + timedelta(days=34))
    counter.renew(ANNE, listed, Basket("normal", "cash"))
    records = Outbox(desk).records(0, 10)
    desk.close()

    m = open_hub(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    items = [item for r in records if (item := sale_delta(m, r, T0))]
    validate("deltas", {"type": "deltas", "museum": "*", "gate": "*", "issued_at": T0,
                        "items": items})  # fmt: skip
    other = Journal.open(tmp_path / "other.sqlite")
    assert apply_deltas(other, tuple(items), 0, "M2", "gate1").applied == 1
    row = other.models.remote_pass.get_by_id(listed.serial)
    other.close()
    remote = listed._replace(state=PassState(row.state),
                             activated_on=date.fromisoformat(row.activated_on),
                             expires_on=date.fromisoformat(row.expires_on))  # fmt: skip
    seen = hub_view(remote, listed)
    assert seen.state is PassState.SOLD and seen.expires_on == listed.expires_on

    def entry(day: date):  # noqa: ANN202
        return decide(Credential("chip", listed.serial), seen, History(),
                      Moment(0.0, day, True), Rules())  # fmt: skip

    assert entry(listed.expires_on).reason is Reason.OK  # the paid year runs to its end
    later = listed.expires_on + timedelta(days=10)
    assert entry(later).reason is Reason.ACTIVATED and entry(later).valid_until > later


def test_the_hub_checks_z_reports_with_the_registered_gate_key(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from firmware.trust import raw_public
    from hub.cli import main as hub_main
    from hub.models import register_gate
    from hub.sales import closures, statistics_of

    records = counter_records(tmp_path)
    m = open_hub(f"sqlite:///{tmp_path / 'hub.sqlite'}")
    Ingest(m, lambda: T0).batch("M1", "desk1", {"records": records, "first_seq": 1,
                                                "last_seq": len(records)})  # fmt: skip
    assert "not registered" in closures(m, "M1")[0][1][0]
    register_gate(m, "M1", "desk1", raw_public(GATE_KEY.public_key()), T0)
    [(document, problems)] = closures(m, "M1")
    assert problems == [] and document["closure"]["totals"]["net_cents"] == 7900
    assert hub_main(["sales", "closures", "--museum", "M1", "--data", str(tmp_path)]) == 0
    assert "day 2026-05-28 no. 1  net 79.00" in capsys.readouterr().out
    register_gate(m, "M1", "desk1", raw_public(Ed25519PrivateKey.generate().public_key()), T0)
    assert hub_main(["sales", "closures", "--museum", "M1", "--data", str(tmp_path)]) == 1
    assert "signature does not match" in capsys.readouterr().out
    [day] = statistics_of(m, "M1", current_day(), current_day(), "day")
    assert (day.entries, day.sales, day.cancellations, day.revenue_cents) == (1, 2, 1, 7900)
