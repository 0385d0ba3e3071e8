"""Reading pass lists from CSV, the format the central office exports.

``passes.csv``: serial,pass_number,id_number,pass_type,state,activated_on,expires_on
                and optionally stock_of (the museum whose stock a pass in state stock is in)
``types.csv``:  code,persons,children

Every row is checked; a bad row is refused with the file, line and column.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from firmware.gate.decision import VALID_SERIAL_BYTES
from firmware.gate.passes import PassState, PassType

PASS_COLUMNS = (
    "serial", "pass_number", "id_number", "pass_type", "state", "activated_on", "expires_on",
)  # fmt: skip
TYPE_COLUMNS = ("code", "persons", "children")

PassRow = tuple[str, str, str, str, str, str | None, str | None, str | None]
_MUSEUM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # a museum id, as in the sync topics


class ListError(Exception):
    """A pass list that cannot be used; the message names the file and line."""


def read_types(path: Path) -> dict[str, PassType]:
    types: dict[str, PassType] = {}
    for line, row in _rows(path, TYPE_COLUMNS):
        code = row["code"].strip()
        persons = _count(path, line, "persons", row["persons"], 1, 10)
        children = _count(path, line, "children", row["children"], 0, 10)
        if not code:
            raise ListError(f"{path}:{line}: empty pass type code")
        types[code] = PassType(code=code, persons=persons, children=children)
    return types


def read_passes(path: Path, types: dict[str, PassType]) -> Iterator[PassRow]:
    """Yield checked rows, serials normalised to upper-case hex."""
    for line, row in _rows(path, PASS_COLUMNS):
        yield _check_pass(path, line, row, types)


def _check_pass(path: Path, line: int, row: dict[str, str], types: dict[str, PassType]) -> PassRow:
    where = f"{path}:{line}"
    serial = row["serial"].strip().replace(":", "").upper()
    try:
        size = len(bytes.fromhex(serial))
    except ValueError:
        raise ListError(f"{where}: serial {row['serial']!r} is not hexadecimal") from None
    if size not in VALID_SERIAL_BYTES:
        raise ListError(f"{where}: serial {serial} has {size} bytes; a chip UID has 4, 7 or 10")
    if row["pass_type"] not in types:
        raise ListError(f"{where}: pass type {row['pass_type']!r} is not in the types list")
    if row["state"] not in {s.value for s in PassState}:
        allowed = ", ".join(s.value for s in PassState)
        raise ListError(f"{where}: state {row['state']!r} is not one of {allowed}")
    activated = _day(where, "activated_on", row["activated_on"])
    expires = _day(where, "expires_on", row["expires_on"])
    if row["state"] == PassState.ACTIVE and (activated is None or expires is None):
        raise ListError(f"{where}: an active pass needs activated_on and expires_on")
    number = row["pass_number"].strip()
    if not number:
        raise ListError(f"{where}: empty pass_number")
    owner = (row.get("stock_of") or "").strip() or None
    if owner is not None and not _MUSEUM.match(owner):
        raise ListError(f"{where}: stock_of {owner!r} is not a museum id (letters, digits, _ . -)")
    if owner is not None and row["state"] != PassState.STOCK:
        raise ListError(f"{where}: stock_of names a museum, but the pass is {row['state']}, "
                        "not in stock")  # fmt: skip
    return (serial, number, row["id_number"].strip(), row["pass_type"], row["state"],
            activated, expires, owner)  # fmt: skip


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ListError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ListError(f"{path}: missing column(s) {', '.join(missing)}; "
                            f"expected {','.join(columns)}")  # fmt: skip
        try:
            for row in reader:
                if any(row[c] is None for c in columns):  # an optional last column may go
                    raise ListError(f"{path}:{reader.line_num}: too few fields")
                yield reader.line_num, row
        except UnicodeDecodeError:
            raise ListError(f"{path}: is not UTF-8 text") from None


def _day(where: str, column: str, text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ListError(f"{where}: {column} {text!r} is not a date (YYYY-MM-DD)") from None


def _count(path: Path, line: int, column: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not low <= value <= high:
        raise ListError(f"{path}:{line}: {column} {text!r} must be a number from {low} to {high}")
    return value
