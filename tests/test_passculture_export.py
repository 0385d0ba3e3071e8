"""Reconciliation: `portique-hub passculture export` lists validations still standing."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from hub.models import database_url, open_hub
from hub.passculture.models import micros, open_countermarks


def at(day: int, hour: int) -> int:
    return micros(datetime(2026, 9, day, hour, tzinfo=UTC).timestamp())


def add(
    table,
    request: str,
    code: str,
    outcome: str,
    at_us: int,
    action: str = "validate",
    museum: str = "LOUVRE",
    operator: str | None = None,
) -> None:  # noqa: ANN001
    table.create(
        request_id=request,
        museum=museum,
        gate="gate-1",
        code=code,
        action=action,
        operator=operator,
        outcome=outcome,
        reason="ok",
        message="",
        quantity=2,
        booking_id=1001,
        offer_id=77,
        offer_name="Carte musée",
        price_category="Duo",
        price=2400,
        venue_id=4242,
        at_us=at_us,
        answer="{}",
    )


def export(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", "passculture", "export", "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_export_lists_standing_validations_of_the_museum_and_period(tmp_path: Path) -> None:
    m = open_hub(database_url(tmp_path, None))
    t = open_countermarks(m.db)
    add(t, "a" * 32, "AB3DK7", "admit", at(2, 10), operator="camille")
    add(t, "b" * 32, "CD4EF5", "admit", at(3, 10))
    add(t, "c" * 32, "CD4EF5", "undone", at(3, 11), action="undo", operator="camille")
    add(t, "d" * 32, "GH6JK7", "refuse", at(3, 12))
    add(t, "e" * 32, "MN2PQ3", "admit", at(3, 13), museum="ORSAY")
    add(t, "f" * 32, "RS4TU5", "admit", at(20, 10))  # after the period
    # 23:30 UTC on the 1st is 01:30 on the 2nd in Paris: inside the period.
    add(t, "g" * 32, "VW6XY7", "admit", at(1, 23) + 30 * 60 * 1_000_000)
    m.db.close()
    done = export(tmp_path, "--museum", "LOUVRE", "--from", "2026-09-02", "--to", "2026-09-10")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == [
        "code",
        "booking_id",
        "offer",
        "price_category",
        "price",
        "quantity",
        "validated_at",
        "gate",
        "operator",
    ]
    assert [r[0] for r in rows[1:]] == ["VW6XY7", "AB3DK7"]
    assert rows[2] == [
        "AB3DK7",
        "1001",
        "Carte musée",
        "Duo",
        "24.00",
        "2",
        "2026-09-02T12:00:00+02:00",
        "gate-1",
        "camille",
    ]


def test_export_with_unknown_time_zone_says_so(tmp_path: Path) -> None:
    done = export(
        tmp_path,
        "--museum",
        "LOUVRE",
        "--from",
        "2026-09-02",
        "--to",
        "2026-09-10",
        "--timezone",
        "Mars/Olympus",
    )
    assert done.returncode == 2
    assert "unknown time zone" in done.stderr and "Traceback" not in done.stderr
