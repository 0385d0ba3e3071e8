"""The gate's health, for `portique status` and Prometheus (node_exporter's textfile collector).

The gate's status collector (``firmware/gate/snapshot.py``) hands its one
snapshot here every few seconds and when it stops: it becomes
``<data_dir>/status.json`` (written with ``atomic_write``) and the same
figures as a Prometheus text file when ``[status] textfile`` is set.
`portique status` reads the file and says how old it is: a daemon that
stopped writing is reported as not running, not as healthy.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware.durable import atomic_write

STATUS_FILE = "status.json"
INTERVAL_S = 10.0
# A status file older than this many intervals means the daemon is not writing it.
STALE_INTERVALS = 3


def write(data_dir: Path, document: dict[str, Any], textfile: Path | None) -> None:
    """Render the gate's health snapshot (``firmware/gate/snapshot.py``) to its files."""
    atomic_write(data_dir / STATUS_FILE, json.dumps(document, indent=1, sort_keys=True) + "\n")
    if textfile is not None:
        atomic_write(textfile, prometheus(document))


def read(data_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((data_dir / STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None


def daemon_running(document: dict[str, Any], now: float) -> bool:
    fresh = now - float(document.get("written_at", 0)) <= STALE_INTERVALS * INTERVAL_S
    return bool(document.get("running")) and fresh


def healthy(document: dict[str, Any]) -> bool:
    """Every item a technician should not have to look at is fine."""
    return (
        bool(document["reader_up"])
        and bool(document["journal_ok"])
        and bool(document["clock_trusted"])
        and document["list_freshness"] == "fresh"
        and document["list_version"] > 0
        and document["broker_connected"] is not False
    )


def prometheus(document: dict[str, Any]) -> str:
    """The status as Prometheus text exposition, every metric named portique_*."""
    labels = f'museum="{_escape(document["museum"])}",gate="{_escape(document["gate"])}"'
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, value: object, extra: str = "") -> None:
        if value is None:
            return
        if not any(line.startswith(f"# HELP portique_{name} ") for line in lines):
            lines.append(f"# HELP portique_{name} {help_text}")
            lines.append(f"# TYPE portique_{name} {kind}")
        lines.append(f"portique_{name}{{{labels}{extra}}} {float(value)}")

    fresh = {"fresh": 0, "stale": 1, "expired": 2}
    metric("up", "gauge", "1 while the daemon writes its status", document["running"])
    metric("list_version", "gauge", "version of the pass list in force", document["list_version"])
    metric("list_issued_timestamp_seconds", "gauge", "when the hub signed the list in force",
           document["list_issued_at"])  # fmt: skip
    metric("list_freshness", "gauge", "0 fresh, 1 stale (past its expiry), 2 expired (refusing)",
           fresh[document["list_freshness"]])  # fmt: skip
    metric("sync_backlog_records", "gauge", "journal records the hub has not acknowledged",
           document["backlog"])  # fmt: skip
    metric("sync_last_ack_seq", "gauge", "the last record the hub acknowledged",
           document["last_ack_seq"])  # fmt: skip
    metric("sync_last_ack_timestamp_seconds", "gauge", "when the hub last acknowledged",
           document["last_ack_at"])  # fmt: skip
    metric("broker_connected", "gauge", "1 while connected to the museum's broker",
           document["broker_connected"])  # fmt: skip
    metric("reader_up", "gauge", "1 while the NFC reader answers", document["reader_up"])
    metric("clock_trusted", "gauge", "0 while the clock is below the gate's floor",
           document["clock_trusted"])  # fmt: skip
    metric("journal_ok", "gauge", "0 while entries cannot be recorded", document["journal_ok"])
    metric("taps_total", "counter", "taps decided since the daemon started", document["taps"])
    metric("admitted_total", "counter", "entries admitted since the daemon started",
           document["admitted"])  # fmt: skip
    for reason, count in sorted(document["refusals"].items()):
        metric("refusals_total", "counter", "refusals since the daemon started, by reason",
               count, f',reason="{_escape(reason)}"')  # fmt: skip
    for code, count in sorted(document["list_refusals"].items()):
        metric("list_refusals_total", "counter", "list files refused, by check", count,
               f',check="{_escape(code)}"')  # fmt: skip
    return "\n".join(lines) + "\n"


def _freshness(state: str) -> str:
    return {"fresh": "fresh", "stale": "STALE: past its expiry, staff are warned",
            "expired": "EXPIRED: taps are refused list_expired"}[state]  # fmt: skip


def _escape(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def human(document: dict[str, Any], now: float) -> str:
    """The status for a technician: one line per health item."""

    def when(epoch: float | None) -> str:
        if not epoch:
            return "never"
        return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")

    running = daemon_running(document, now)
    age = now - float(document["written_at"])
    refusals = ", ".join(f"{r} {n}" for r, n in sorted(document["refusals"].items())) or "none"
    backlog = document["backlog"]
    rows = [
        ("gate", f"{document['museum']}/{document['gate']}"),
        ("daemon", "running" if running else f"NOT RUNNING (status written {age:.0f} s ago)"),
        ("pass list", f"version {document['list_version']}, signed "
         f"{when(document['list_issued_at'])}, {_freshness(document['list_freshness'])}"),
        ("reader", ("up: " if document["reader_up"] else "DOWN: ") + document["reader_detail"]),
        ("clock", "trusted" if document["clock_trusted"] else "UNTRUSTED: the floor is used"),
        ("journal", f"last record {document['journal_last_seq']}"
         + ("" if document["journal_ok"] else f", FAILING: {document['journal_detail']}")),
        ("hub", "no sync configured" if document["broker_connected"] is None else (
            "connected" if document["broker_connected"] else "NOT CONNECTED")),
        ("backlog", "-" if backlog is None else f"{backlog} record(s) not acknowledged"),
        ("last ack", f"record {document['last_ack_seq']} at {when(document['last_ack_at'])}"
         if document["last_ack_seq"] else "none yet"),
        ("taps", f"{document['taps']} since start, {document['admitted']} admitted"),
        ("refusals", refusals),
    ]  # fmt: skip
    return "\n".join(f"{name:<10} {value}" for name, value in rows)
