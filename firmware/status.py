"""The gate's health, for `portique status` and Prometheus (node_exporter's textfile collector).

The loop, which owns the state, writes ``<runtime_dir>/status.json`` whenever
a health item changes (reader, display, journal, sync, clock), every few
seconds as a heartbeat, and when it stops; the same figures go to a
Prometheus text file when ``[status] textfile`` is set. Both live in RAM
(``/run/portique``, systemd's ``RuntimeDirectory``): they are rewritten all
day and need not survive a power cut, so they never wear the SD card.

Each file is written beside and renamed, with mode 0644 set explicitly: the
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
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from firmware.gate.loop import GateLoop

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


def snapshot(loop: GateLoop, running: bool = True) -> dict[str, Any]:
    """Every health item, read on the loop's thread."""
    now = loop.clock.now()
    status, lists, sync = loop.status, loop.store.lists, loop.status.sync
    return {
        "museum": loop.museum,
        "gate": loop.gate,
        "running": running,
        "pid": os.getpid(),
        "written_at": now.wall,
        "clock_trusted": now.trusted,
        "list_version": lists.version,
        "list_issued_at": lists.issued_at or None,
        "list_expires_at": lists.expires_at or None,
        "list_freshness": loop.list_freshness(now.wall),
        "list_refusals": dict(lists.rejections),
        "journal_ok": status.journal_ok,
        "journal_detail": status.journal_detail,
        "journal_last_seq": loop.journal.last_seq,
        "reader_up": bool(status.reader_up),
        "reader_detail": status.reader_detail,
        "display_up": status.display_up,
        "display_detail": status.display_detail,
        "taps": status.taps,
        "admitted": status.admitted,
        "refusals": dict(status.refusals),
        "unexpected_passages": status.unexpected_passages,
        "display_failures": status.display_failures,
        "reader_reconnects": status.reader_reconnects,
        "broker_connected": sync.broker_connected,
        "backlog": sync.backlog,
        "last_ack_seq": sync.last_ack_seq,
        "last_ack_at": sync.last_ack_wall,
    }


def health_key(loop: GateLoop) -> tuple[object, ...]:
    """The health items whose change is written at once, not at the next heartbeat."""
    status = loop.status
    return (
        status.reader_up,
        status.display_up,
        status.journal_ok,
        status.time_trusted,
        status.sync.broker_connected,
        loop.store.lists.version,
    )


def write(runtime_dir: Path, document: dict[str, Any], textfile: Path | None) -> None:
    runtime_dir.mkdir(parents=True, exist_ok=True)  # systemd makes /run/portique; a simulation not
    _replace(runtime_dir / STATUS_FILE, json.dumps(document, indent=1, sort_keys=True) + "\n")
    if textfile is not None:
        _replace(textfile, prometheus(document))


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)  # whatever the umask: readers are other users
        handle.write(text)
    os.replace(tmp, path)


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


class _Snapshot:
    """A prometheus_client collector over one status document (labels escaped by the library)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def collect(self) -> Iterator[Metric]:
        doc = self.document
        ids = [str(doc["museum"]), str(doc["gate"])]

        def gauge(name: str, help_text: str, value: object) -> Iterator[Metric]:
            if value is not None:
                family = GaugeMetricFamily(f"portique_{name}", help_text, labels=["museum", "gate"])
                family.add_metric(ids, float(value))  # type: ignore[arg-type]
                yield family

        fresh = {"fresh": 0, "stale": 1, "expired": 2}
        yield from gauge(
            "up",
            "1 while the daemon runs; compare status_timestamp_seconds "
            "with the scrape time, a killed daemon cannot reset it",
            doc["running"],
        )
        yield from gauge(
            "status_timestamp_seconds",
            "when the daemon last wrote its status (every 10 s while it runs)",
            doc["written_at"],
        )
        yield from gauge("list_version", "version of the pass list in force", doc["list_version"])
        yield from gauge(
            "list_issued_timestamp_seconds",
            "when the hub signed the list in force",
            doc["list_issued_at"],
        )
        yield from gauge(
            "list_freshness",
            "0 fresh, 1 stale (past its expiry), 2 expired (refusing)",
            fresh[doc["list_freshness"]],
        )
        yield from gauge(
            "sync_backlog_records", "journal records the hub has not acknowledged", doc["backlog"]
        )
        yield from gauge(
            "sync_last_ack_seq", "the last record the hub acknowledged", doc["last_ack_seq"]
        )
        yield from gauge(
            "sync_last_ack_timestamp_seconds", "when the hub last acknowledged", doc["last_ack_at"]
        )
        yield from gauge(
            "broker_connected", "1 while connected to the museum's broker", doc["broker_connected"]
        )
        yield from gauge("reader_up", "1 while the NFC reader answers", doc["reader_up"])
        yield from gauge(
            "display_up",
            "1 while the screen shows, 0 while it failed (absent: no screen configured)",
            doc.get("display_up"),
        )
        yield from gauge(
            "clock_trusted", "0 while the clock is below the gate's floor", doc["clock_trusted"]
        )
        yield from gauge("journal_ok", "0 while entries cannot be recorded", doc["journal_ok"])
        for key, name, help_text in COUNTERS:
            counter = CounterMetricFamily(f"portique_{name}", help_text, labels=["museum", "gate"])
            counter.add_metric(ids, float(doc.get(key, 0)))
            yield counter
        yield from _by_label(
            "refusals",
            "refusals since the daemon started, by reason",
            "reason",
            ids,
            doc["refusals"],
        )
        yield from _by_label("list_refusals", "list files refused, by check", "check", ids,
                             doc["list_refusals"])  # fmt: skip


def _by_label(name: str, help_text: str, label: str, ids: list[str],
              counts: dict[str, int]) -> Iterator[Metric]:  # fmt: skip
    family = CounterMetricFamily(f"portique_{name}", help_text, labels=["museum", "gate", label])
    for value, count in sorted(counts.items()):
        family.add_metric([*ids, str(value)], float(count))
    yield family


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
    ]  # fmt: skip
    return "\n".join(f"{name:<10} {value}" for name, value in rows)


def _display(document: dict[str, Any]) -> str:
    up = document.get("display_up")
    if up is None:
        return "none configured"
    detail = document.get("display_detail", "")
    return ("up: " if up else "FAILED: ") + detail
