"""Archives of the journal that an auditor can check offline.

An archive is one JSON file: the records (every column, as hashed), the
gate's public key, and the gate's signature over the archive's summary (its
first and last sequence numbers and the last record's hash). ``portique
journal verify --archive FILE`` checks the hash chain, every closure's
signature, each day closure's totals against the records it covers when
they are all in the archive, and the archive's own signature. The key id is
printed so the auditor can compare it with the one registered at the hub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.counter.closures import (
    chain_problems,
    closure_problems,
    closures_of,
    period_totals,
)
from firmware.durable import atomic_write
from firmware.journal.journal import Journal
from firmware.protocol.record import COLUMNS, GENESIS_HASH, record_hash
from firmware.trust import b64, canonical, key_id, raw_public, unb64, verify_signature

FORMAT = "portique-archive-1"
_BOOLEANS = ("time_trusted", "admitted", "billable")


def record_dicts(journal: Journal) -> list[dict[str, Any]]:
    rows = []
    for record in journal.records():
        row = {name: getattr(record, name) for name in COLUMNS}
        for name in _BOOLEANS:
            row[name] = bool(row[name])
        rows.append(row)
    return rows


def export_archive(journal: Journal, key: Ed25519PrivateKey, out: Path) -> int:
    """Write the journal's records to ``out`` as a signed archive; return how many."""
    rows = record_dicts(journal)
    summary = {
        "format": FORMAT,
        "first_seq": rows[0]["seq"] if rows else 0,
        "last_seq": rows[-1]["seq"] if rows else 0,
        "last_hash": rows[-1]["hash"] if rows else GENESIS_HASH,
        "count": len(rows),
    }
    public = raw_public(key.public_key())
    archive = {
        "summary": summary,
        "public_key": b64(public),
        "key_id": key_id(public),
        "signature": b64(key.sign(canonical(summary))),
        "records": rows,
    }
    atomic_write(out, json.dumps(archive, ensure_ascii=False, separators=(",", ":")))
    return len(rows)


def verify_archive(path: Path, gate_key: bytes | None = None) -> tuple[str, int, list[str]]:
    """(gate key id, records checked, problems) for the archive file ``path``.

    ``gate_key`` is the gate's public key as registered at the hub: without
    it, an archive re-signed whole by someone else's key would check out.
    """
    try:
        archive = json.loads(path.read_text(encoding="utf-8"))
        rows: list[dict[str, Any]] = archive["records"]
        public = unb64(archive["public_key"], "archive public_key")
        summary = archive["summary"]
        signature = unb64(archive["signature"], "archive signature")
    except OSError as exc:
        return "", 0, [f"archive {path} cannot be read ({exc.strerror})"]
    except (ValueError, KeyError, TypeError) as exc:
        return "", 0, [f"archive {path} is not a portique archive ({exc})"]
    problems = _chain_problems(rows)
    if gate_key is not None and gate_key != public:
        problems.append(f"signed by key {key_id(public)}, not by the gate's key {key_id(gate_key)}")
    if not verify_signature(public, signature, canonical(summary)):
        problems.append("the archive's signature does not match its gate key")
    elif rows and (summary.get("last_hash") != rows[-1]["hash"]
                   or summary.get("count") != len(rows)):  # fmt: skip
        problems.append("records were added or removed after the archive was signed")
    problems += _closure_problems(rows, public)
    return key_id(public), len(rows), problems


def _chain_problems(rows: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if not rows:
        return problems
    prev = GENESIS_HASH if rows[0]["seq"] == 1 else rows[0]["prev_hash"]
    expected = rows[0]["seq"]
    for row in rows:
        if row["seq"] != expected:
            problems.append(f"seq {expected} missing before {row['seq']}")
        if row["prev_hash"] != prev:
            problems.append(f"seq {row['seq']}: previous-hash link broken")
        if record_hash(row) != row["hash"]:
            problems.append(f"seq {row['seq']}: content does not match its hash")
        prev, expected = row["hash"], row["seq"] + 1
    return problems


def _closure_problems(rows: list[dict[str, Any]], public: bytes) -> list[str]:
    problems: list[str] = []
    by_seq = {row["seq"]: row for row in rows}
    for document in closures_of(rows, "day"):
        problems += closure_problems(document, public)
        body = document["closure"]
        last = by_seq.get(body["last_seq"])
        if last is not None and last["hash"] != body["last_hash"]:
            problems.append(f"day closure {body['label']}: record {body['last_seq']} changed")
        covered = [by_seq.get(seq) for seq in range(body["first_seq"], body["last_seq"] + 1)]
        if all(covered):
            recount, _ = period_totals("day", covered, body["first_seq"] - 1)
            if recount.as_dict() != body["totals"]:
                problems.append(f"day closure {body['label']}: totals differ from its records")
    for period in ("month", "year"):
        for document in closures_of(rows, period):
            problems += closure_problems(document, public)
    for period in ("day", "month", "year"):
        problems += chain_problems(closures_of(rows, period))
    return problems
