"""`portique status` and the Prometheus text file tell the truth about each health item."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from conftest import EXPIRED, FAMILY, World, paris

from firmware import status
from firmware.events import ReaderHealth

METRIC = re.compile(r'^portique_[a-z_]+\{museum="M1",gate="G1"(,[a-z]+="[a-z_]+")?\} -?\d+\.\d+$')


def report(world: World) -> dict:
    written: list[dict] = []
    world.gate.status.on_status = written.append
    world.gate.status.report()
    return written[-1]


def test_reader_health_is_reported_as_it_changes(world: World) -> None:
    assert report(world)["reader_up"] is False
    world.loop.handle(ReaderHealth(True, "reader udp:x ready", world.clock.monotonic()))
    document = report(world)
    assert document["reader_up"] is True and document["reader_detail"] == "reader udp:x ready"
    world.loop.handle(ReaderHealth(False, "reader udp:x stopped answering", 0.0))
    assert report(world)["reader_up"] is False


def test_taps_and_refusals_by_reason_are_counted(world: World) -> None:
    world.tap(FAMILY)
    world.tap(EXPIRED)
    world.tap("DEADBEEF")
    document = report(world)
    assert (document["taps"], document["admitted"]) == (3, 1)
    assert document["refusals"] == {"expired": 1, "unknown_pass": 1}
    assert document["journal_last_seq"] == 3


def test_the_list_in_force_and_its_freshness_are_reported(make_world) -> None:
    fresh = report(make_world())
    assert fresh["list_version"] == 1780286400 and fresh["list_freshness"] == "fresh"
    assert fresh["list_issued_at"] == paris(2026, 6, 1, 6)


def test_a_stale_list_is_reported_stale(make_world) -> None:
    late = report(make_world(wall=paris(2026, 6, 1, 6) + 61 * 86400))
    assert late["list_freshness"] == "stale" and not status.healthy(late)


def test_an_untrusted_clock_is_reported(make_world) -> None:
    document = report(make_world(wall=0.0))
    assert document["clock_trusted"] is False and not status.healthy(document)


def test_a_failing_journal_is_reported(world: World) -> None:
    pages = world.journal.db.execute_sql("PRAGMA page_count").fetchone()[0]
    world.journal.db.execute_sql(f"PRAGMA max_page_count = {pages}")
    for index in range(40):
        world.tap(f"DEAD{index:04X}")
    document = report(world)
    assert document["journal_ok"] is False and "disk full" in document["journal_detail"]


def test_prometheus_text_has_one_well_formed_line_per_figure(world: World) -> None:
    world.tap(EXPIRED)
    text = status.prometheus(report(world))
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert samples and all(METRIC.match(line) for line in samples), text
    assert 'portique_refusals_total{museum="M1",gate="G1",reason="expired"} 1.0' in samples
    assert 'portique_reader_up{museum="M1",gate="G1"} 0.0' in samples
    helps = [line for line in text.splitlines() if line.startswith("# HELP")]
    assert len(helps) == len(set(helps))


def test_the_loop_writes_the_status_file_and_the_textfile(make_world, tmp_path: Path) -> None:
    textfile = tmp_path / "portique.prom"
    world = make_world(status={"textfile": str(textfile)})
    world.gate.status.report()
    data_dir = world.gate.settings.gate.data_dir
    assert status.read(data_dir)["gate"] == "G1"
    assert "portique_up" in textfile.read_text()


def portique_status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "firmware", "status", "-c", str(config), *args],
                          capture_output=True, text=True)  # fmt: skip


def test_the_command_says_when_the_daemon_is_not_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    config = tmp_path / "portique.toml"
    config.write_text(f'[gate]\ndata_dir = "{data_dir}"\n')
    done = portique_status(config)
    assert done.returncode == 3 and "has not run there yet" in done.stderr

    document = {
        "museum": "M1", "gate": "G1", "running": True, "pid": 1, "written_at": 1_000_000.0,
        "clock_trusted": True, "list_version": 3, "list_issued_at": 999_000.0,
        "list_expires_at": None, "list_freshness": "fresh", "list_refusals": {},
        "journal_ok": True, "journal_detail": "", "journal_last_seq": 7, "reader_up": True,
        "reader_detail": "ready", "display_up": None, "taps": 7, "admitted": 6,
        "refusals": {"expired": 1}, "broker_connected": None, "backlog": None,
        "last_ack_seq": None, "last_ack_at": None,
    }  # fmt: skip
    (data_dir / status.STATUS_FILE).write_text(json.dumps(document))
    done = portique_status(config)
    assert done.returncode == 3  # written long ago: nobody is writing it now
    assert "NOT RUNNING" in done.stdout and "expired 1" in done.stdout
    machine = json.loads(portique_status(config, "--json").stdout)
    assert machine["daemon_running"] is False and machine["taps"] == 7
