"""The gate's health, for `portique status` and Prometheus (node_exporter's textfile collector).

The gate's status collector (``firmware/gate/snapshot.py``) hands its one
snapshot here whenever a health item changes (reader, display, journal,
sync, clock, list), every few seconds as a heartbeat, and when it stops: it
becomes ``<runtime_dir>/status.json``, and the same figures go to a
Prometheus text file when ``[status] textfile`` is set. Both live in RAM
(``/run/portique``, systemd's ``RuntimeDirectory``): they are rewritten all
day and need not survive a power cut, so they never wear the SD card.

Each file is written with ``atomic_write`` (beside, then renamed; the fsync
costs nothing in RAM), with mode 0644 set explicitly: the
unit's ``UMask=0077`` would otherwise leave them readable by the daemon's user
alone, and node_exporter and a technician's `portique status` must read them.
They hold no secret (identifiers, counters, health).

A dead daemon cannot leave a healthy status behind: ``written_at`` (and
``portique_status_timestamp_seconds``) stops moving, `portique status` then says
NOT RUNNING, and the Prometheus alert compares the timestamp with the time of
the scrape (docs/operations.md); systemd also removes /run/portique when the
service stops.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric as MetricFamily

from firmware.durable import atomic_write

STATUS_FILE = "status.json"
INTERVAL_S = 10.0
# A status file older than this many intervals means the daemon is not writing it.
STALE_INTERVALS = 3
FILE_MODE = 0o644

# The counters the gate keeps, as (status key, Prometheus name without _total, help).
COUNTERS = (
    ("taps", "taps", "taps decided since the daemon started"),
    ("admitted", "admitted", "entries admitted since the daemon started"),
    ("unexpected_passages", "unexpected_passages",
     "people who walked through with no entry granted, since the daemon started"),
    ("display_failures", "display_failures", "times the screen failed, since the daemon started"),
    ("reader_reconnects", "reader_reconnects",
     "times the NFC reader came back after being lost, since the daemon started"),
)  # fmt: skip


class StatusUnreadable(Exception):
    """The status file exists but cannot be read or parsed; the message says which and why."""


# The health items whose change is written at once, not at the next heartbeat.
HEALTH_KEYS = ("reader_up", "display_up", "journal_ok", "time_trusted", "broker_connected",
               "list_version")  # fmt: skip


def write(runtime_dir: Path, document: dict[str, Any], textfile: Path | None) -> None:
    """Render the gate's health snapshot (``firmware/gate/snapshot.py``) to its files."""
    runtime_dir.mkdir(parents=True, exist_ok=True)  # systemd makes /run/portique; a simulation not
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    atomic_write(runtime_dir / STATUS_FILE, text, mode=FILE_MODE)
    if textfile is not None:
        atomic_write(textfile, prometheus(document), mode=FILE_MODE)


def read(runtime_dir: Path) -> dict[str, Any] | None:
    """The last status written; None when there is none; StatusUnreadable when it cannot be read."""
    path = runtime_dir / STATUS_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StatusUnreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise StatusUnreadable(f"cannot read {path}: not a status file ({exc})") from None


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
        and document.get("display_up") is not False
    )


class Metric(NamedTuple):
    name: str  # after portique_ (a counter's without _total: the library adds it)
    kind: str  # gauge or counter
    help: str
    label: str = ""  # for a mapping of counts: the label its keys go in


_FRESHNESS = {"fresh": 0, "stale": 1, "expired": 2}

# How each status key is exposed to Prometheus, in the order written.
METRICS: dict[str, Metric] = {
    "running": Metric("up", "gauge", "1 while the daemon runs; compare status_timestamp_seconds "
                      "with the scrape time, a killed daemon cannot reset it"),
    "written_at": Metric("status_timestamp_seconds", "gauge",
                         "when the daemon last wrote its status (every 10 s while it runs)"),
    "list_version": Metric("list_version", "gauge", "version of the pass list in force"),
    "list_issued_at": Metric("list_issued_timestamp_seconds", "gauge",
                             "when the hub signed the list in force"),
    "list_expires_at": Metric("list_expires_timestamp_seconds", "gauge",
                              "when the list in force passes its signed expiry"),
    "list_freshness": Metric("list_freshness", "gauge",
                             "0 fresh, 1 stale (past its expiry), 2 expired (refusing)"),
    "backlog": Metric("sync_backlog_records", "gauge",
                      "journal records the hub has not acknowledged"),
    "last_ack_seq": Metric("sync_last_ack_seq", "gauge", "the last record the hub acknowledged"),
    "last_ack_at": Metric("sync_last_ack_timestamp_seconds", "gauge",
                          "when the hub last acknowledged"),
    "broker_connected": Metric("broker_connected", "gauge",
                               "1 while connected to the museum's broker"),
    "reader_up": Metric("reader_up", "gauge", "1 while the NFC reader answers"),
    "display_up": Metric("display_up", "gauge", "1 while the screen shows, 0 while it failed "
                         "(absent: no screen configured)"),
    "clock_trusted": Metric("clock_trusted", "gauge",
                            "0 while the clock is below the gate's floor"),
    "time_trusted": Metric("last_record_time_trusted", "gauge",
                           "0 when the last record was made with the clock floor"),
    "journal_ok": Metric("journal_ok", "gauge", "0 while entries cannot be recorded"),
    "journal_last_seq": Metric("journal_last_seq", "gauge", "the last record in the journal"),
    "taps": Metric("taps", "counter", "taps decided since the daemon started"),
    "admitted": Metric("admitted", "counter", "entries admitted since the daemon started"),
    "unexpected_passages": Metric("unexpected_passages", "counter", "people who walked through "
                                  "with no entry granted, since the daemon started"),
    "display_failures": Metric("display_failures", "counter",
                               "times the screen failed, since the daemon started"),
    "reader_reconnects": Metric("reader_reconnects", "counter", "times the NFC reader came back "
                                "after being lost, since the daemon started"),
    "refusals": Metric("refusals", "counter", "refusals since the daemon started, by reason",
                       "reason"),
    "list_refusals": Metric("list_refusals", "counter", "list files refused, by check", "check"),
    "update_available": Metric("update_available", "gauge", "1 when the office's release notice "
                               "names a version newer than the one the gate runs"),
}  # fmt: skip
# The counters the gate keeps (status key, Prometheus name, help), as the hub's status has them.
COUNTERS = tuple((key, m.name, m.help) for key, m in METRICS.items()
                 if m.kind == "counter" and not m.label)  # fmt: skip
# Status keys that are words, not numbers: Prometheus has the figure they explain;
# `portique status` and status.json have the words.
EXPLAINS = {"reader_detail": "reader_up", "journal_detail": "journal_ok",
            "display_detail": "display_up", "software_version": "update_available",
            "release_version": "update_available", "release_date": "update_available",
            "release_notes": "update_available"}  # fmt: skip
# The collector's own keys that are labels or bookkeeping, not figures.
_OWN = ("museum", "gate", "pid")


class _Snapshot:
    """A prometheus_client collector over one status document (labels escaped by the library).

    Every status key is a metric (``METRICS``), the words beside one
    (``EXPLAINS``), or, for a key added without a line in ``METRICS``, a
    gauge under its own name: nothing reported is left out.
    """

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def collect(self) -> Iterator[MetricFamily]:
        doc = self.document
        ids = [str(doc["museum"]), str(doc["gate"])]
        order = list(METRICS)
        keys = [key for key in doc if key not in EXPLAINS and key not in _OWN]
        for key in sorted(keys, key=lambda k: order.index(k) if k in order else len(order)):
            metric = METRICS.get(key) or Metric(key, "gauge", f"status key {key}")
            value = doc[key]
            if key == "list_freshness":
                value = _FRESHNESS.get(value)
            if isinstance(value, dict):
                yield _by_label(metric, ids, value)
            elif value is None or isinstance(value, bool | int | float):
                kind = CounterMetricFamily if metric.kind == "counter" else GaugeMetricFamily
                family = kind(f"portique_{metric.name}", metric.help, labels=["museum", "gate"])
                if value is not None:  # not known (no sync, no screen): described, no sample
                    family.add_metric(ids, float(value))
                yield family


def _by_label(metric: Metric, ids: list[str], counts: dict[str, int]) -> MetricFamily:
    family = CounterMetricFamily(f"portique_{metric.name}", metric.help,
                                 labels=["museum", "gate", metric.label or "key"])  # fmt: skip
    for value, count in sorted(counts.items()):
        family.add_metric([*ids, str(value)], float(count))
    return family


def prometheus(document: dict[str, Any]) -> str:
    """The status as Prometheus text exposition, every metric named portique_*."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(document))  # type: ignore[arg-type]
    return generate_latest(registry).decode()


def _freshness(state: str) -> str:
    return {"fresh": "fresh", "stale": "STALE: past its expiry, staff are warned",
            "expired": "EXPIRED: taps are refused list_expired"}[state]  # fmt: skip


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
        ("display", _display(document)),
        ("taps", f"{document['taps']} since start, {document['admitted']} admitted"),
        ("refusals", refusals),
        ("passages", f"{document.get('unexpected_passages', 0)} without an entry granted"),
        ("failures", f"display {document.get('display_failures', 0)}, reader reconnected "
         f"{document.get('reader_reconnects', 0)} time(s)"),
        ("software", _software(document)),
    ]  # fmt: skip
    return "\n".join(f"{name:<10} {value}" for name, value in rows)


def _software(document: dict[str, Any]) -> str:
    running = document.get("software_version", "unknown")
    release = document.get("release_version")
    if not release:
        return f"version {running}; no release notice from the office"
    if document.get("update_available"):
        notes = document.get("release_notes") or ""
        return (
            f"version {running}; NEW VERSION {release} of {document.get('release_date')} "
            f"is available" + (f": {notes}" if notes else "")
        )
    return f"version {running}, up to date (the office's latest is {release})"


def _display(document: dict[str, Any]) -> str:
    up = document.get("display_up")
    if up is None:
        return "none configured"
    detail = document.get("display_detail", "")
    return ("up: " if up else "FAILED: ") + detail
