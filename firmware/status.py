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
from typing import Any, NamedTuple

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


class Metric(NamedTuple):
    name: str  # after portique_
    kind: str  # gauge or counter
    help: str
    label: str = ""  # for a mapping of counts: the label its keys go in


_FRESHNESS = {"fresh": 0, "stale": 1, "expired": 2}

# How each status key is exposed to Prometheus, in the order written.
METRICS: dict[str, Metric] = {
    "running": Metric("up", "gauge", "1 while the daemon writes its status"),
    "list_version": Metric("list_version", "gauge", "version of the pass list in force"),
    "list_issued_at": Metric("list_issued_timestamp_seconds", "gauge",
                             "when the hub signed the list in force"),
    "list_expires_at": Metric("list_expires_timestamp_seconds", "gauge",
                              "when the list in force passes its signed expiry"),
    "list_freshness": Metric("list_freshness", "gauge",
                             "0 fresh, 1 stale (past its expiry), 2 expired (refusing)"),
    "list_refusals": Metric("list_refusals_total", "counter", "list files refused, by check",
                            "check"),
    "backlog": Metric("sync_backlog_records", "gauge",
                      "journal records the hub has not acknowledged"),
    "last_ack_seq": Metric("sync_last_ack_seq", "gauge", "the last record the hub acknowledged"),
    "last_ack_at": Metric("sync_last_ack_timestamp_seconds", "gauge",
                          "when the hub last acknowledged"),
    "broker_connected": Metric("broker_connected", "gauge",
                               "1 while connected to the museum's broker"),
    "reader_up": Metric("reader_up", "gauge", "1 while the NFC reader answers"),
    "display_up": Metric("display_up", "gauge", "1 while the screen runs, 0 after it failed"),
    "clock_trusted": Metric("clock_trusted", "gauge",
                            "0 while the clock is below the gate's floor"),
    "time_trusted": Metric("last_record_time_trusted", "gauge",
                           "0 when the last record was made with the clock floor"),
    "journal_ok": Metric("journal_ok", "gauge", "0 while entries cannot be recorded"),
    "journal_last_seq": Metric("journal_last_seq", "gauge", "the last record in the journal"),
    "taps": Metric("taps_total", "counter", "taps decided since the daemon started"),
    "admitted": Metric("admitted_total", "counter", "entries admitted since the daemon started"),
    "refusals": Metric("refusals_total", "counter",
                       "refusals since the daemon started, by reason", "reason"),
    "unexpected_passages": Metric("unexpected_passages_total", "counter",
                                  "people through the gate with no entry granted"),
}  # fmt: skip
# Status keys that are words, not numbers: Prometheus has the figure they explain;
# `portique status` and status.json have the words.
EXPLAINS = {"reader_detail": "reader_up", "journal_detail": "journal_ok",
            "display_detail": "display_up"}  # fmt: skip
# The collector's own keys: labels, or the file's bookkeeping.
_OWN = ("museum", "gate", "pid", "written_at")


def prometheus(document: dict[str, Any]) -> str:
    """The status as Prometheus text exposition, every metric named portique_*.

    Every status key is either a metric here, the words beside one
    (``EXPLAINS``), or, for a key added without a line in ``METRICS``, a
    gauge under its own name: nothing reported is left out.
    """
    labels = f'museum="{_escape(document["museum"])}",gate="{_escape(document["gate"])}"'
    lines: list[str] = []
    known = {key: METRICS.get(key) or Metric(key, "gauge", f"status key {key}")
             for key in document if key not in EXPLAINS and key not in _OWN}  # fmt: skip
    for key in sorted(known, key=lambda k: list(METRICS).index(k) if k in METRICS else 99):
        metric, value = known[key], document[key]
        if key == "list_freshness":
            value = _FRESHNESS.get(value)
        if not isinstance(value, bool | int | float | dict | None):
            continue  # words: status.json and `portique status` show them
        lines.append(f"# HELP portique_{metric.name} {metric.help}")
        lines.append(f"# TYPE portique_{metric.name} {metric.kind}")
        samples = value.items() if isinstance(value, dict) else [("", value)]
        for item, figure in sorted(samples):
            if figure is None:
                continue  # not known (no sync configured, no screen): no sample
            extra = f',{metric.label or "key"}="{_escape(item)}"' if item else ""
            lines.append(f"portique_{metric.name}{{{labels}{extra}}} {float(figure)}")
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
        ("screen", {None: "none configured", True: "up"}.get(
            document.get("display_up"), f"FAILED: {document.get('display_detail', '')}")),
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
        ("passages", f"{document.get('unexpected_passages', 0)} without an entry granted"),
    ]  # fmt: skip
    return "\n".join(f"{name:<10} {value}" for name, value in rows)
