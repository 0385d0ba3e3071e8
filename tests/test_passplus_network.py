"""Pass+ tickets at the desk of running gates, answered by a real hub over a real mosquitto:
used once in the whole network, campaign dates from the hub, exported per museum."""

from __future__ import annotations

import io
import queue
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from cultureworld import MUSEUM, CultureGate
from syncworld import WAIT_S, Hub, LogWatch

from firmware.events import PassPlusTicket
from firmware.gate.passplus import PassPlusOutcome
from hub.passplus.export import export_redemptions
from hub.passplus.models import open_tables

TODAY = date.today().isoformat()


class Desk:
    """A gate with staff logged in, and the Pass+ outcomes its screen would show."""

    def __init__(self, gate: CultureGate) -> None:
        self.gate = gate
        self.outcomes: queue.Queue[PassPlusOutcome] = queue.Queue()
        gate.sync.gate.on_view.append(
            lambda view: self.outcomes.put(view) if isinstance(view, PassPlusOutcome) else None
        )
        gate.login("Marie")

    def redeem(self, number: str, wallet: str = "culture", amount: int = 2000,
               price: int = 1500, generated_on: str = TODAY) -> PassPlusOutcome:  # fmt: skip
        self.gate.post(PassPlusTicket(number, wallet, amount, generated_on, price))
        while (shown := self.outcomes.get(timeout=WAIT_S)).outcome == "waiting":
            pass
        return shown

    def records(self) -> list[tuple[str, str]]:
        def read() -> list[tuple[str, str]]:
            db = self.gate.sync.journal.db
            return db.execute_sql("SELECT credential, reason FROM record WHERE kind = 'passplus' "
                                  "ORDER BY seq").fetchall()  # fmt: skip

        return [tuple(row) for row in self.gate.sync.on_loop(read)]


@pytest.fixture
def desks(make_culture_gate: Callable[..., CultureGate]) -> tuple[Desk, Desk]:
    return Desk(make_culture_gate("desk-1")), Desk(make_culture_gate("desk-2"))


def test_a_culture_ticket_pays_once_and_is_refused_again_here_and_at_another_gate(
    desks: tuple[Desk, Desk], culture_hub: Hub
) -> None:
    first, second = desks
    paid = first.redeem("PP-1234-5678", amount=2000, price=1500)
    assert (paid.outcome, paid.pays_cents, paid.remaining_cents) == ("redeemed", 1500, 0)
    again = first.redeem("pp-1234-5678")
    assert (again.outcome, again.reason) == ("refuse", "already_used")  # the gate alone
    elsewhere = second.redeem("PP-1234-5678")
    assert (elsewhere.outcome, elsewhere.reason) == ("refuse", "already_used")  # the hub
    assert first.records() == [("PP-1234-5678", "redeemed"), ("PP-1234-5678", "already_used")]
    assert second.records() == [("PP-1234-5678", "already_used")]
    problems = [p for p in culture_hub.m.problem.select() if p.kind == "passplus_second_use"]
    assert len(problems) == 1 and "desk-1" in problems[0].detail and "Marie" in problems[0].detail


def test_a_ticket_pays_part_of_a_price_and_never_gives_change(desks: tuple[Desk, Desk]) -> None:
    part = desks[0].redeem("PP-0000-0001", amount=1000, price=1500)
    assert (part.pays_cents, part.remaining_cents) == (1000, 500)
    over = desks[0].redeem("PP-0000-0002", amount=3000, price=1500)
    assert (over.pays_cents, over.remaining_cents) == (1500, 0)


@pytest.mark.parametrize(
    ("wallet", "amount", "generated_on", "reason"),
    [
        ("sport", 2000, TODAY, "sport_wallet"),  # refused by the gate, with the reason
        ("loisirs", 2000, TODAY, "unknown_wallet"),
        ("culture", 0, TODAY, "bad_amount"),
        ("culture", 2000, "2020-01-15", "expired"),  # the hub's campaign dates
        ("culture", 2000, "31/01/2026", "bad_date"),
        ("culture", 2000, (date.today() + timedelta(days=3)).isoformat(), "not_in_campaign"),
    ],
)
def test_a_ticket_the_rules_refuse_is_refused_with_its_reason(
    desks: tuple[Desk, Desk], wallet: str, amount: int, generated_on: str, reason: str
) -> None:
    shown = desks[0].redeem("PP-9999-0001", wallet, amount, generated_on=generated_on)
    assert (shown.outcome, shown.reason) == ("refuse", reason)
    assert shown.message


def test_campaign_dates_are_the_hubs_data(desks: tuple[Desk, Desk], culture_hub: Hub) -> None:
    day = date.today()
    (culture_hub.dir / "passplus.toml").write_text(
        f'[[campaign]]\nname = "short"\ngenerated_until = {day - timedelta(days=10)}\n'
        f"redeemable_until = {day - timedelta(days=1)}\n"
    )
    old = (day - timedelta(days=20)).isoformat()
    shown = desks[0].redeem("PP-7777-0001", generated_on=old)
    assert (shown.outcome, shown.reason) == ("refuse", "expired")
    assert "short" in shown.message  # the campaign the hub's data names


def test_a_broken_campaign_file_refuses_tickets_and_says_why(
    desks: tuple[Desk, Desk], culture_hub: Hub, logs: LogWatch
) -> None:
    (culture_hub.dir / "passplus.toml").write_text("[[campaign]]\nname = 3\n")
    shown = desks[0].redeem("PP-7777-0002")
    assert (shown.outcome, shown.reason) == ("refuse", "not_in_campaign")
    assert "passplus.toml: campaign 1" in logs.wait_for("Pass+ tickets are refused")


def test_the_hub_exports_redemptions_per_museum_and_period(
    desks: tuple[Desk, Desk], culture_hub: Hub
) -> None:
    desks[0].redeem("PP-1111-2222", amount=2000, price=1500)
    desks[1].redeem("PP-1111-3333", amount=500, price=1500)
    used, _refused = open_tables(culture_hub.m.db)
    out = io.StringIO()
    day = date.today()
    assert export_redemptions(used, MUSEUM, day - timedelta(days=1), day + timedelta(days=1),
                              out) == 2  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0] == ("number,wallet,amount,paid,price,generated_on,campaign,redeemed_at,"
                        "gate,operator")  # fmt: skip
    assert lines[1].startswith("PP-1111-2222,culture,20.00,15.00,15.00,")
    assert lines[1].endswith(",desk-1,Marie") and lines[2].endswith(",desk-2,Marie")
    assert export_redemptions(used, "ELSEWHERE", day, day, io.StringIO()) == 0


def test_portique_hub_passplus_export_writes_the_csv(desks: tuple[Desk, Desk],
                                                     culture_hub: Hub) -> None:  # fmt: skip
    desks[0].redeem("PP-4242-0001", amount=1200, price=1500)
    day = date.today().isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "hub", "passplus", "export", "--data", str(culture_hub.dir),
         "--museum", MUSEUM, "--from", day, "--to", day],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith("PP-4242-0001,culture,12.00,12.00,15.00,")
    bad = subprocess.run(
        [sys.executable, "-m", "hub", "passplus", "export", "--data", str(culture_hub.dir),
         "--museum", MUSEUM, "--from", day, "--to", day, "--timezone", "Mars/Olympus"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown time zone" in bad.stderr
