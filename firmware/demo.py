"""A demonstration pass list: a few named passes to try, plus filler.

Dates are relative to the day it is generated, so the demo behaves the same
whenever it is run. The serials are the ones the README tells you to tap.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from firmware.gate.passes import add_months, last_valid_day

DEMO_MUSEUM = "DEMO"  # the museum of provisioning/simulation.toml
TYPES = (("solo", 1, 5), ("duo", 2, 5), ("family", 2, 5), ("single", 1, 0))

# serial, pass number, what the README says happens when it is tapped
NAMED = (
    ("04A1B2C3D4E501", "100001", "active, valid: admitted"),
    ("04A1B2C3D4E502", "100002", "sold, never used: admitted and activated for one year"),
    ("04A1B2C3D4E503", "100003", "expired last month: refused, renewal possible"),
    ("04A1B2C3D4E504", "100004", "blocked by the central office: refused"),
    ("04A1B2C3D4E505", "100005", "still in a museum's stock: refused, not sold"),
    ("04A1B2C3D4E506", "100006", "ends in 3 weeks: admitted with a renewal hint"),
    ("04A1B2C3D4E507", "100007", "family pass with 5 children allowed: admitted"),
    ("04A1B2C3D4E508", "100008", "single pass, no children allowed: admitted at once"),
)


def _named_rows(today: date) -> list[list[str]]:
    def active(activated: date, kind: str = "solo") -> tuple[str, str, str, str]:
        return kind, "active", activated.isoformat(), last_valid_day(activated).isoformat()

    rows = {
        "04A1B2C3D4E501": active(today - timedelta(days=40)),
        "04A1B2C3D4E502": ("solo", "sold", "", ""),
        "04A1B2C3D4E503": active(add_months(today, -13)),
        "04A1B2C3D4E504": ("duo", "blocked", "", ""),
        "04A1B2C3D4E505": ("solo", "stock", "", ""),
        "04A1B2C3D4E506": active(add_months(today, -12) + timedelta(days=22)),
        "04A1B2C3D4E507": active(today - timedelta(days=100), "family"),
        "04A1B2C3D4E508": active(today - timedelta(days=10), "single"),
    }
    return [[serial, number, f"ID{number}", *rows[serial]] for serial, number, _ in NAMED]


def write_demo(out_dir: Path, today: date, filler: int = 2000, seed: int = 7) -> tuple[Path, Path]:
    """Write ``passes.csv`` and ``types.csv`` into ``out_dir``; return their paths.

    ``filler`` extra passes (mostly active) make the list a realistic size;
    they are reproducible for a given ``seed``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    types_path, passes_path = out_dir / "types.csv", out_dir / "passes.csv"
    with open(types_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "persons", "children"))
        writer.writerows(TYPES)
    with open(passes_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("serial", "pass_number", "id_number", "pass_type", "state",
                         "activated_on", "expires_on", "stock_of"))  # fmt: skip
        # The stock pass is in the simulated museum's stock: its desk may sell it.
        writer.writerows([*row, DEMO_MUSEUM if row[4] == "stock" else ""]
                         for row in _named_rows(today))  # fmt: skip
        writer.writerows([*row, ""] for row in filler_rows(today, filler, seed))
    return passes_path, types_path


def filler_rows(today: date, count: int, seed: int) -> Iterator[list[str]]:
    """``count`` random passes with unique 7-byte serials starting 0x05 (never a named one)."""
    rng = random.Random(seed)
    for index in range(count):
        serial = "05" + f"{index:06X}" + rng.randbytes(3).hex().upper()
        number = f"{200000 + index}"
        kind = rng.choice(("solo", "solo", "solo", "duo", "family"))
        if rng.random() < 0.9:
            activated = today - timedelta(days=rng.randrange(0, 330))
            state, act, exp = "active", activated.isoformat(), last_valid_day(activated).isoformat()
        else:
            state, act, exp = "sold", "", ""
        yield [serial, number, f"ID{number}", kind, state, act, exp]


def write_demo_list(
    passes: Path,
    types: Path,
    keys: Path,
    out: Path,
    now: float,
    valid_s: float = 30 * 86400,
    version: int | None = None,
) -> Path:
    """Sign the demo CSVs as a snapshot with the demonstration keys in ``keys``.

    The version defaults to the time of signing, so each new demo list
    supersedes the last.
    """
    from firmware.lists.publisher import Signer, build_snapshot
    from firmware.store.csvlist import read_passes, read_types

    signer = Signer.from_files(keys / "signing.key", keys / "signing.cert.json")
    pass_types = read_types(types)
    rows = list(read_passes(passes, pass_types))
    version = int(now) if version is None else version
    out.write_bytes(build_snapshot(rows, pass_types, version, now, now + valid_s, signer))
    return out
