"""The console's busiest page: a month of entries for every museum, with its chart.

A hub holding 20 museums x 31 days x 100 decisions (62,000 records, stored
through the hub's ingestion from real gate journals) serves the entries page
through Flask's test client, logged in as the office. The floor is the page's
own figures query (``queries.day_figures``) alone: what the database must do.
"""

from __future__ import annotations

import shutil
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from firmware.journal.journal import Entry, Journal
from firmware.journal.outbox import Outbox
from firmware.trust import generate_private_key, raw_public
from hub.console import queries
from hub.console.app import ConsoleSettings, create_app
from hub.console.auth import Person, add_user, open_session
from hub.console.models import open_console
from hub.ingest import Ingest
from hub.keys import init_keys
from hub.models import database_url, open_hub, register_gate

MUSEUMS, DAYS, PER_DAY = 20, 31, 100
FIRST = date(2026, 10, 1)
ROUNDS = 15


def _fill(directory: Path) -> None:
    init_keys(directory, time.time())
    m = open_hub(database_url(directory, None))
    ingest = Ingest(m, time.time)
    for index in range(MUSEUMS):
        museum = f"M{index:02d}"
        register_gate(m, museum, "G1", raw_public(generate_private_key(
            directory / f"{museum}.key").public_key()), 0.0)  # fmt: skip
        journal = Journal.open(directory / f"{museum}.sqlite")
        journal.db.execute_sql("PRAGMA synchronous=OFF")
        for day in range(DAYS):
            text = (FIRST + timedelta(days=day)).isoformat()
            for tap in range(PER_DAY):
                refused = tap % 10 == 0
                journal.append(Entry(
                    kind="decision", wall=1_790_000_000.0 + day * 86400 + tap, monotonic=0.0,
                    time_trusted=True, day=text, museum=museum, gate="G1",
                    credential_kind="chip", credential=f"05{index:02X}{tap % 80:08X}",
                    admitted=not refused, reason="expired" if refused else "ok",
                    billable=not refused, children=tap % 3,
                ))  # fmt: skip
        outbox = Outbox(journal)
        for start in range(0, journal.last_seq, 1000):
            records = outbox.records(start, 1000)
            ingest.batch(
                museum,
                "G1",
                {
                    "first_seq": records[0]["seq"],
                    "last_seq": records[-1]["seq"],
                    "records": records,
                },
            )
        journal.close()
    open_console(m)
    m.db.close()


def _median_ms(action) -> float:  # noqa: ANN001
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(workdir: Path) -> dict[str, float]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    _fill(workdir)
    app = create_app(ConsoleSettings(workdir, database_url(workdir, None),
                                     secure_cookies=False))  # fmt: skip
    cm = app.extensions["portique"].cm
    add_user(cm, "office", "admin", None, "a long enough secret", 0.0)
    client = app.test_client()
    with client.session_transaction() as session:
        session["token"] = open_session(cm, Person("office", "admin", None), time.time())
    last = FIRST + timedelta(days=DAYS - 1)
    url = f"/entries?from={FIRST}&to={last}"
    assert client.get(url).status_code == 200

    def page() -> None:
        assert client.get(url).status_code == 200

    return {
        "console_entries_month_page_ms": _median_ms(page),
        "console_entries_month_query_floor_ms": _median_ms(
            lambda: queries.day_figures(cm.hub, None, FIRST, last)
        ),
    }
