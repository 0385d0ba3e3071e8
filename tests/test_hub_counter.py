"""The hub side of the counter: sales reach the ledger once and every gate with their dates,
typed-number activations reach every gate, billing counts one entry per pass, museum and day."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import SOLD
from counterworld import T0, make_pass, tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pgserver import both_databases
from syncworld import Hub, SyncGate, wait_until

from firmware.clock import FlooredClock, ManualClock
from firmware.counter.rules import Basket, CounterRefused
from firmware.counter.service import Counter
from firmware.counter.tariffs import current, parse_body
from firmware.gate.decision import (
    Credential,
    CredentialKind,
    History,
    Moment,
    Reason,
    Rules,
    decide,
)
from firmware.gate.passes import PassRecord, PassState, last_valid_day
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal
from firmware.journal.outbox import Outbox
from firmware.store.store import hub_view, merge
from firmware.sync.deltas import apply_deltas
from hub.actions import store_list
from hub.ingest import Ingest
from hub.models import database_url, open_hub
from hub.sales import export_sales, ledger

PARIS = ZoneInfo("Europe/Paris")
ANNE = StaffMember("Anne", Role.STOCK)
TODAY = datetime.fromtimestamp(T0, PARIS).date()


def hub_models(tmp_path: Path, db_url: str | None):  # noqa: ANN201
    return open_hub(database_url(tmp_path, db_url))


def desk(tmp_path: Path, name: str = "desk") -> tuple[Journal, Counter]:
    journal = Journal.open(tmp_path / f"{name}.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    counter = Counter(journal, FlooredClock(ManualClock(wall=T0)), PARIS, "M1", "desk1",
                      lambda now: current(tariffs, now), Ed25519PrivateKey.generate())  # fmt: skip
    return journal, counter


def batch(journal: Journal) -> dict:
    records = Outbox(journal).records(0, 1000)
    return {"records": records, "first_seq": 1, "last_seq": len(records)}


def gate_sees(tmp_path: Path, items: list[dict], listed: PassRecord,
              local: PassRecord | None = None) -> PassRecord:  # fmt: skip
    """What another gate decides on after applying ``items``: its list says ``listed``."""
    other = Journal.open(tmp_path / f"gate-{len(list(tmp_path.iterdir()))}.sqlite")
    apply_deltas(other, tuple(items), 0, "M2", "gate1")
    row = other.models.remote_pass.get_or_none(other.models.remote_pass.serial == listed.serial)
    other.close()
    assert row is not None, "the delta did not reach the gate"
    remote = listed._replace(
        state=PassState(row.state),
        activated_on=date.fromisoformat(row.activated_on) if row.activated_on else None,
        expires_on=date.fromisoformat(row.expires_on) if row.expires_on else None,
    )
    renewed = row.kind == "renewal"
    return merge(local, hub_view(remote, listed, renewed), renewed)


def entry(record: PassRecord, day: date):  # noqa: ANN201
    return decide(Credential("chip", record.serial), record, History(), Moment(0.0, day, True),
                  Rules())  # fmt: skip


# -- sales ingest ------------------------------------------------------------------------


@both_databases
def test_each_sale_lands_in_the_ledger_once_however_often_its_batch_is_sent(
    tmp_path: Path, db_url: str | None
) -> None:
    journal, counter = desk(tmp_path)
    counter.sell(
        ANNE,
        make_pass(serial="01020304", number="111"),
        "M1",
        Basket("reduced", "card", "student", True, 2000, immediate_entry=True),
    )
    counter.sell(ANNE, make_pass(serial="01020305", number="222"), "M1", Basket("normal", "cash"))
    body = batch(journal)
    journal.close()
    m = hub_models(tmp_path, db_url)
    ingest = Ingest(m, lambda: T0)
    first = ingest.batch("M1", "desk1", body)
    again = ingest.batch("M1", "desk1", body)  # the gate did not hear the ack: sent again
    assert again.deltas == [] and again.stored == 0
    table = ledger(m)
    assert table.select().count() == 2
    sales = [d for d in first.deltas if d["kind"] == "sale"]
    assert [(d["serial"], d["state"], d["activated_on"], d["expires_on"]) for d in sales] == [
        ("01020304", "active", TODAY.isoformat(), last_valid_day(TODAY).isoformat()),
        ("01020305", "sold", None, None),
    ]
    out = io.StringIO()
    assert export_sales(m, "M1", TODAY, TODAY, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["date"], r["pass"], r["tariff"], r["price"], r["voucher"], r["payment"],
             r["seller"], r["gate"]) for r in rows] == [
        (TODAY.isoformat(), "111", "reduced", "99.00", "20.00", "card", "Anne", "desk1"),
        (TODAY.isoformat(), "222", "normal", "119.00", "0.00", "cash", "Anne", "desk1"),
    ]  # fmt: skip
    out = io.StringIO()
    assert export_sales(m, "M2", TODAY, TODAY, out) == 0  # another museum's sales are not here
    assert export_sales(m, "M1", TODAY + timedelta(days=1), TODAY + timedelta(days=9), out) == 0


def test_a_cancelled_sale_puts_the_pass_back_into_the_museums_stock_on_every_gate(
    tmp_path: Path,
) -> None:
    journal, counter = desk(tmp_path)
    stock = make_pass(serial="01020305", number="222")
    sale = counter.sell(ANNE, stock, "M1", Basket("normal", "cash"))
    counter.cancel(ANNE, sale.record.seq, "wrong pass")
    body = batch(journal)
    journal.close()
    result = Ingest(hub_models(tmp_path, None), lambda: T0).batch("M1", "desk1", body)
    last = result.deltas[-1]
    assert (last["kind"], last["state"], last["stock_of"]) == ("stock", "stock", "M1")
    other = Journal.open(tmp_path / "other.sqlite")
    apply_deltas(other, tuple(result.deltas), 0, "M2", "gate1")
    row = other.models.remote_pass.get_by_id("01020305")
    assert (row.state, row.stock_of) == ("stock", "M1")


def test_a_record_that_is_not_a_sale_is_reported_and_stops_nothing(tmp_path: Path) -> None:
    journal, counter = desk(tmp_path)
    counter.sell(ANNE, make_pass(serial="01020305", number="222"), "M1", Basket("normal", "cash"))
    body = batch(journal)
    journal.close()
    m = hub_models(tmp_path, None)
    forged = dict(body["records"][0], detail='{"state": "sold"}')  # no tariff, no price
    from firmware.protocol.record import record_hash

    forged["hash"] = record_hash(forged)
    result = Ingest(m, lambda: T0).batch("M1", "desk1", {**body, "records": [forged]})
    assert result.stored == 1 and ledger(m).select().count() == 0
    assert [p.kind for p in m.problem.select()] == ["bad_sale"]


# -- renewals carry their dates -----------------------------------------------------------

EDGES = {
    "three_months_minus_a_day": TODAY + timedelta(days=91),  # 2026-08-27 < 2026-08-28
    "expired": TODAY - timedelta(days=5),
}


@pytest.mark.parametrize("edge", sorted(EDGES))
@pytest.mark.parametrize("immediate", [True, False])
def test_a_renewal_reaches_other_gates_with_its_dates_and_no_paid_day_is_lost(
    tmp_path: Path, edge: str, immediate: bool
) -> None:
    expires = EDGES[edge]
    activated = expires - timedelta(days=364)
    listed = make_pass(PassState.ACTIVE, activated, expires)
    journal, counter = desk(tmp_path)
    counter.renew(ANNE, listed, Basket("normal", "cash", immediate_entry=immediate))
    body = batch(journal)
    journal.close()
    m = hub_models(tmp_path, None)
    result = Ingest(m, lambda: T0).batch("M1", "desk1", body)
    [renewal] = [d for d in result.deltas if d["kind"] == "renewal"]
    assert renewal["activated_on"] is not None or not immediate
    # The gate that activated the first year (its own record) and one that only has the list.
    for local in (listed, None):
        seen = gate_sees(tmp_path, result.deltas, listed, local)
        if immediate:
            left = max((expires - TODAY).days, 0)
            assert seen.state is PassState.ACTIVE and seen.activated_on == TODAY
            assert seen.expires_on == last_valid_day(TODAY) + timedelta(days=left)
            assert entry(seen, seen.expires_on).reason is Reason.OK
        elif expires >= TODAY:  # the paid year runs to its end, the next starts after it
            assert seen.state is PassState.SOLD and seen.expires_on == expires
            assert entry(seen, expires).reason is Reason.OK
            after = expires + timedelta(days=3)
            assert entry(seen, after).reason is Reason.ACTIVATED
            assert entry(seen, after).valid_until == last_valid_day(after)
        else:  # expired: the next entry starts the new year
            assert seen.state is PassState.SOLD
            assert entry(seen, TODAY).reason is Reason.ACTIVATED
    assert [p.kind for p in m.problem.select()] == []  # the immediate entry is no conflict


def test_a_renewal_at_exactly_three_months_is_refused_and_sends_nothing(tmp_path: Path) -> None:
    listed = make_pass(PassState.ACTIVE, TODAY - timedelta(days=273), TODAY + timedelta(days=92))
    journal, counter = desk(tmp_path)
    with pytest.raises(CounterRefused) as refused:
        counter.renew(ANNE, listed, Basket("normal", "cash"))
    assert refused.value.code == "renewal_too_early"
    assert Outbox(journal).records(0, 10) == []
    journal.close()


def test_the_new_years_first_entry_after_a_renewal_is_passed_on_not_reported_as_a_conflict(
    tmp_path: Path,
) -> None:
    from hub.activations import activation_delta

    listed = make_pass(PassState.ACTIVE, TODAY - timedelta(days=300), TODAY + timedelta(days=64))
    m = hub_models(tmp_path, None)
    m.activation.create(serial=listed.serial, pass_number=listed.pass_number,
                        activated_on=listed.activated_on.isoformat(),
                        expires_on=listed.expires_on.isoformat(), wall=T0 - 300 * 86400,
                        museum="M2", gate="g", seq=1)  # fmt: skip
    problems: list[str] = []
    day = listed.expires_on + timedelta(days=2)
    record = {"credential": listed.serial, "credential_kind": "chip", "day": day.isoformat(),
              "wall": T0 + 70 * 86400, "museum": "M1", "gate": "G1", "seq": 9,
              "pass_number": listed.pass_number, "refers_to": None,
              "valid_until": last_valid_day(day).isoformat()}  # fmt: skip
    with m.db.atomic():
        delta = activation_delta(m, record, T0, lambda *a: problems.append(a[2]))
    assert delta is not None and delta["activated_on"] == day.isoformat() and problems == []


# -- typed-number activations and billing across gates (real gates, a real mosquitto) -----


def typed(gate: SyncGate, number: str, operator: str = "Anne") -> int:
    """Staff type ``number`` at ``gate`` (the chip could not be read)."""

    def present() -> int:
        record = gate.gate.store.lookup_number(number)
        gate.gate.admissions.present(Credential(CredentialKind.NUMBER, number), record, operator)
        return gate.journal.last_seq

    return gate.on_loop(present)


def publish_gates_list(hub: Hub, tmp_path: Path) -> None:
    """The hub keeps the list it published: its number → serial map for typed entries."""
    data = (tmp_path / "today" / "list.pql").read_bytes()
    with hub.m.db.atomic():
        store_list(hub.m, data, 1, T0)


@both_databases
def test_a_typed_number_activation_reaches_the_other_museum_which_does_not_activate_again(
    hub: Hub, make_gate, tmp_path: Path
) -> None:
    one, two = make_gate("G1"), make_gate("G2", museum="M2")
    publish_gates_list(hub, tmp_path)
    typed(one, "100002")  # the sold pass, never used: staff type its number
    hub.wait_stored("M1", "G1", 1)
    assert one.journal.models.record.get_by_id(1).reason == "activated"
    remote = two.journal.models.remote_pass
    wait_until(lambda: remote.get_or_none(remote.serial == SOLD) is not None, "delta at G2")
    row = remote.get(remote.serial == SOLD)
    assert (row.state, row.pass_number, row.origin_museum) == ("active", "100002", "M1")
    # At the second museum the typed number is the pass the hub activated: admitted, no
    # second activation; a tap of its chip finds the same year.
    typed(two, "100002")
    hub.wait_stored("M2", "G2", 1)
    assert two.journal.models.record.get_by_id(1).reason == "ok"
    seen = two.on_loop(lambda: two.gate.store.lookup(SOLD))
    assert (seen.state, seen.activated_on.isoformat()) == ("active", row.activated_on)
    assert hub.m.activation.get_by_id(SOLD).museum == "M1"
    assert hub.problems() == []


def test_a_typed_number_the_hub_cannot_resolve_is_reported_not_passed_on(
    hub: Hub, make_gate
) -> None:
    one = make_gate("G1")  # the hub never published a list: it cannot map the number
    typed(one, "100002")
    hub.wait_stored("M1", "G1", 1)
    assert ("unknown_number", 1) in hub.problems()
    assert hub.m.delta.select().count() == 0


@both_databases
def test_a_pass_admitted_at_two_gates_of_one_museum_on_one_day_is_billed_once(
    hub: Hub, make_gate
) -> None:
    from conftest import ACTIVE

    from hub.export import export_entries

    one, two = make_gate("G1"), make_gate("G2")  # two gates of museum M1
    other = make_gate("G3", museum="M2")
    for gate in (one, two, other):  # each gate flags its own first entry billable
        gate.on_loop(lambda g=gate: g.gate.admissions.present(
            Credential(CredentialKind.CHIP, ACTIVE), g.gate.store.lookup(ACTIVE)))  # fmt: skip
    hub.wait_stored("M1", "G1", 1)
    hub.wait_stored("M1", "G2", 1)
    hub.wait_stored("M2", "G3", 1)
    hub.unpacked()  # batch2 is acknowledged once stored raw: its rows follow
    assert two.journal.models.record.get_by_id(1).billable  # G2 cannot know of G1's entry
    day = datetime.now().date()
    out = io.StringIO()
    assert export_entries(hub.m, "M1", day - timedelta(days=1), day + timedelta(days=1), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["gate"], r["billable"]) for r in rows] == [("G1", "1"), ("G2", "0")]
    out = io.StringIO()
    export_entries(hub.m, "M2", day - timedelta(days=1), day + timedelta(days=1), out)
    assert [r["billable"] for r in csv.DictReader(io.StringIO(out.getvalue()))] == ["1"]


@both_databases
def test_a_chip_read_and_a_typed_number_of_one_pass_are_billed_once_whatever_the_flags(
    tmp_path: Path, db_url: str | None
) -> None:
    from consoleworld import DAY, journal_records

    from hub.console.queries import day_figures
    from hub.export import export_entries

    m = hub_models(tmp_path, db_url)
    ingest = Ingest(m, lambda: T0)
    chip = [{"credential": "04AA000000000001", "pass_number": "100001", "billable": True}]
    ingest.batch("M1", "G1", journal_records(tmp_path / "g1.sqlite", "M1", "G1", chip))
    # Typed at G2 later that day, and a pass G2 wrongly flagged not billable.
    typed_ = [
        {"credential_kind": "number", "credential": "100001", "pass_number": "100001",
         "billable": True},
        {"credential": "04AA000000000002", "pass_number": "100002", "billable": False},
    ]  # fmt: skip
    ingest.batch("M1", "G2", journal_records(tmp_path / "g2.sqlite", "M1", "G2", typed_))
    day = date.fromisoformat(DAY)
    out = io.StringIO()
    export_entries(m, "M1", day, day, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    billed = sorted((r["pass_number"], r["gate"], r["billable"]) for r in rows)
    assert billed == [("100001", "G1", "1"), ("100001", "G2", "0"), ("100002", "G2", "1")]
    [figures] = day_figures(m, "M1", day, day)
    assert (figures.entries, figures.billable) == (3, 2)


def test_the_desk_that_renewed_with_immediate_entry_keeps_the_new_year_once_the_hub_answers(
    tmp_path: Path,
) -> None:
    listed = make_pass(PassState.ACTIVE, TODAY - timedelta(days=300), TODAY + timedelta(days=64))
    journal, counter = desk(tmp_path)
    counter.renew(ANNE, listed, Basket("normal", "cash", immediate_entry=True))
    result = Ingest(hub_models(tmp_path, None), lambda: T0).batch("M1", "desk1", batch(journal))
    apply_deltas(journal, tuple(result.deltas), 0, "M1", "desk1")  # its own renewal, echoed
    row = journal.models.remote_pass.get_by_id(listed.serial)
    local = journal.models.local_pass.get_by_id(listed.serial)
    journal.close()
    assert row.kind == "renewal"
    mine = listed._replace(activated_on=date.fromisoformat(local.activated_on),
                           expires_on=date.fromisoformat(local.expires_on))  # fmt: skip
    remote = listed._replace(activated_on=date.fromisoformat(row.activated_on),
                             expires_on=date.fromisoformat(row.expires_on))  # fmt: skip
    seen = merge(mine, hub_view(remote, listed, True), True)
    assert seen.activated_on == TODAY and seen.expires_on > listed.expires_on
