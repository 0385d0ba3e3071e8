"""The counter's pages with sample data, for ``portique screenshot`` and the screenshot tests.

Added to ``samples.SAMPLES`` when imported (``screenshot.py`` does), each drives a
real ``DeskUi`` with the views the counter would publish and a cashier's touches.
"""

from __future__ import annotations

from datetime import date

from firmware.display.samples import SAMPLES, _act
from firmware.display.ui import Ui
from firmware.gate.counter_views import (
    CounterDone,
    CounterPass,
    StatisticsView,
    TariffChoice,
    TillView,
)
from firmware.gate.views import StaffSession

MANAGER = StaffSession("Marc", "stock", frozenset({
    "entries", "figures", "status", "sales", "renewals", "statistics", "pass_orders",
    "cash_register"}))  # fmt: skip
TARIFFS = (
    TariffChoice("normal", "Plein tarif", 11900, False),
    TariffChoice("reduced", "Tarif réduit", 9900, True,
                 ("pupil", "student", "teacher", "trainee", "disabled", "job_seeker",
                  "museum_support")),
)  # fmt: skip
STOCK_PASS = CounterPass("chip", "04D1000000A001", True, "200001", "solo", "stock",
                         stock_of="DEMO", actions=("sell", "information"), tariffs=TARIFFS,
                         currency="EUR")  # fmt: skip


def _desk(ui: Ui) -> None:
    ui.state.desk.desk_mode = True
    ui.on_view(MANAGER)


def _sale(ui: Ui) -> None:
    _desk(ui)
    ui.on_view(STOCK_PASS)
    _act(ui, ("desk_action", "sell"), ("desk_tariff", "reduced"), ("desk_category", "student"),
         "desk_proof", "desk_next", *[("digit", d) for d in "2000"], "ok",
         ("desk_payment", "card"), "desk_immediate")  # fmt: skip


DESK_SAMPLES = {
    "desk_idle": lambda ui: setattr(ui.state.desk, "desk_mode", True),
    "desk_home": lambda ui: (_desk(ui), _act(ui, *[("digit", d) for d in "2000"])),
    "desk_pass": lambda ui: (_desk(ui), ui.on_view(STOCK_PASS)),
    "desk_category": lambda ui: (_desk(ui), ui.on_view(STOCK_PASS),
                                 _act(ui, ("desk_action", "sell"), ("desk_tariff", "reduced"),
                                      ("desk_category", "student"), "desk_proof")),
    "desk_payment": _sale,
    "desk_done": lambda ui: (_sale(ui), ui.on_view(CounterDone(
        "sale", 412, "200001", 7900, "EUR", "active", date(2027, 5, 31), True,
        ("ask_to_register",), "printed"))),
    "desk_till": lambda ui: (_desk(ui), _act(ui, "desk_till"), ui.on_view(TillView(
        False, 10000, 21900, (("card", 7900), ("cash", 11900)), "EUR", 21800, -100))),
    "desk_statistics": lambda ui: (_desk(ui), _act(ui, ("desk_statistics", "day")),
                                   ui.on_view(StatisticsView(
        "day", ("2026-05-27", "2026-05-28", "2026-05-29", "2026-05-30", "2026-05-31",
                "2026-06-01"), (120, 98, 143, 210, 187, 148), (4, 2, 6, 9, 7, 5),
        (47600, 23800, 71400, 107100, 83300, 59500), "EUR"))),
}  # fmt: skip
SAMPLES.update(DESK_SAMPLES)
