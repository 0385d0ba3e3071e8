"""The counter: a sale from "validate" to the record durable and the receipt rendered.

A real journal on this disk, python-escpos's Dummy printer (the bytes a
printer would receive), no TSE. Figures: a sale (role check, tariffs,
rules, the stale-record check, commit, receipt), the day's signed closure
over those sales, and the floor: a bare SQLite WAL ``synchronous=FULL``
insert-and-commit of a row the size of a sale record, on the same disk.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from escpos.printer import Dummy

from bench.tap import CommitFloor, _record_bytes, percentile
from firmware.clock import FlooredClock, SystemClock
from firmware.counter.receipt import ReceiptPrinter
from firmware.counter.rules import Basket
from firmware.counter.service import Counter
from firmware.counter.tariffs import Tariffs, parse_body
from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal

SALES = 500
ZONE = ZoneInfo("Europe/Paris")


def _tariffs(now: float) -> Tariffs:
    return parse_body({
        "type": "portique-tariffs", "version": 1, "currency": "EUR", "issued_at": now - 60,
        "not_before": now - 60, "expires_at": now + 86400, "pass_types": {"single": [1, 5]},
        "tariffs": {"normal": {"label": "Plein tarif", "pass_type": "single",
                               "price_cents": 11900}},
    }, "bench")  # fmt: skip


def run(workdir: Path) -> dict[str, float]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    clock = FlooredClock(SystemClock())
    tariffs = _tariffs(clock.now().wall)
    journal = Journal.open(workdir / "journal.sqlite")
    printer = Dummy()
    counter = Counter(journal, clock, ZONE, "BENCH", "desk", lambda now: tariffs,
                      Ed25519PrivateKey.generate(), ReceiptPrinter(printer, ZONE,
                                                                   check_paper=False))  # fmt: skip
    seller = StaffMember("bench", Role.STOCK)
    single = PassType("single", 1, 5)
    sales, floor_ms = [], []
    floor: CommitFloor | None = None
    try:
        for n in range(SALES + 1):
            record = PassRecord(f"04{n:012X}", f"P{n:07d}", f"I{n:07d}", single,
                                PassState.STOCK)  # fmt: skip
            basket = Basket("normal", "cash" if n % 2 else "card", voucher_cents=n % 3 * 500)
            started = time.perf_counter()
            counter.sell(seller, record, "BENCH", basket)
            sales.append((time.perf_counter() - started) * 1000)
            if floor is None:
                floor = CommitFloor(workdir / "floor.sqlite", _record_bytes(journal.path))
            floor_ms.append(floor.commit_ms())
        started = time.perf_counter()
        counter.close_period(seller, "day")
        closure_ms = (time.perf_counter() - started) * 1000
    finally:
        journal.close()
    sales, floor_ms = sales[1:], floor_ms[1:]
    return {
        "counter_sale_p50_ms": percentile(sales, 0.50),
        "counter_sale_p99_ms": percentile(sales, 0.99),
        "counter_commit_floor_p50_ms": percentile(floor_ms, 0.50),
        "counter_commit_floor_p99_ms": percentile(floor_ms, 0.99),
        "counter_sale_p50_over_floor_p50": percentile(sales, 0.50) / percentile(floor_ms, 0.50),
        "counter_day_closure_ms": closure_ms,
        "counter_day_closure_sales": float(SALES + 1),
    }
