"""`portique status` and the Prometheus text file tell the truth about each health item."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import EXPIRED, FAMILY, World, paris
from prometheus_client.parser import text_string_to_metric_families

from firmware import status
from firmware.events import DisplayFailed, PersonPassed, ReaderHealth
from firmware.sync.protocol import validate


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


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text, parsed by prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


IDS = (("gate", "G1"), ("museum", "M1"))


def test_prometheus_text_parses_with_one_sample_per_figure(world: World) -> None:
    world.tap(EXPIRED)
    document = report(world)
    found = samples(status.prometheus(document))
    assert found[("portique_refusals_total", (*IDS[:1], IDS[1], ("reason", "expired")))] == 1.0
    assert found[("portique_reader_up", IDS)] == 0.0
    assert found[("portique_up", IDS)] == 1.0
    # The heartbeat a scraper compares with its own clock: a killed daemon cannot move it.
    assert found[("portique_status_timestamp_seconds", IDS)] == document["written_at"]
    assert all(name.startswith("portique_") for name, _ in found)


def test_a_museum_id_with_a_newline_cannot_split_a_metric_line(world: World) -> None:
    hostile = 'M1"} 1\nportique_up{museum="X'
    text = status.prometheus({**report(world), "museum": hostile})
    assert all(line.startswith(("#", "portique_")) for line in text.splitlines()), text
    ups = [(n, dict(labels)) for (n, labels) in samples(text) if n == "portique_up"]
    assert ups == [("portique_up", {"museum": hostile, "gate": "G1"})]


def test_every_counter_the_gate_keeps_reaches_status_prometheus_and_the_hub(make_world) -> None:
    # A broker that is never reached: the status message is built all the same.
    world = make_world(gpio={"passage_sensor_pin": 5}, sync={"host": "127.0.0.1", "port": 9})
    world.loop.handle(PersonPassed(world.clock.monotonic()))  # nobody was admitted
    world.loop.handle(DisplayFailed("X server gone"))
    world.loop.handle(ReaderHealth(True, "ready", 0.0))
    world.loop.handle(ReaderHealth(False, "stopped answering", 0.0))
    world.loop.handle(ReaderHealth(True, "ready", 0.0))
    document = report(world)
    counters = {"unexpected_passages": 1, "display_failures": 1, "reader_reconnects": 1}
    assert {key: document[key] for key in counters} == counters
    found = samples(status.prometheus(document))
    for key, value in counters.items():
        assert found[(f"portique_{key}_total", IDS)] == value
    assert world.gate.sync is not None
    hub = world.gate.sync.status_message(online=True)
    assert {key: hub["counters"][key] for key in counters} == counters
    assert hub["display_up"] is False
    message = {
        "type": "status", "museum": "M1", "gate": "G1", "sent_at": 1.0, "session": "a" * 32,
        "n": 1, "online": True, "list_version": 1, "list_age_s": None, "backlog": 0,
        "last_seq": 0, "last_ack_seq": 0, "last_ack_at": None, "reader_up": True,
        "reader_detail": "ready", "journal_ok": True, "time_trusted": True,
        "broker_connected": True, "display_up": False, "counters": hub["counters"],
    }  # fmt: skip
    validate("status", message)  # the hub's schema takes them


def test_status_is_written_when_health_changes_not_only_on_the_timer(world: World) -> None:
    written: list[dict] = []
    world.gate.status.on_status = written.append
    world.gate.status.report()
    for up in (True, False):  # no time passes: only the change can cause a write
        world.loop.post(ReaderHealth(up, "reader x", world.clock.monotonic()))
        world.loop.process_pending()
        assert written[-1]["reader_up"] is up
    world.loop.post(DisplayFailed("KMSDRM: no screen"))
    world.loop.process_pending()
    assert written[-1]["display_up"] is False
    count = len(written)
    world.loop.post(ReaderHealth(False, "reader x", world.clock.monotonic()))
    world.loop.process_pending()
    assert len(written) == count  # nothing changed, nothing written


def test_the_status_files_go_to_the_runtime_dir_readable_under_umask_0077(
    make_world, tmp_path: Path
) -> None:
    textfile = tmp_path / "run" / "portique.prom"
    world = make_world(status={"textfile": str(textfile)})
    old = os.umask(0o077)  # the unit's UMask
    try:
        world.gate.status.report()
    finally:
        os.umask(old)
    runtime = world.gate.settings.status.runtime_dir
    assert status.read(runtime)["gate"] == "G1"
    assert not (world.gate.settings.gate.data_dir / status.STATUS_FILE).exists()
    for path in (runtime / status.STATUS_FILE, textfile):
        assert stat.S_IMODE(path.stat().st_mode) == status.FILE_MODE, path
    assert "portique_up" in textfile.read_text()


def portique_status(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "firmware", "status", "-c", str(config), *args],
                          capture_output=True, text=True)  # fmt: skip


def test_the_command_says_when_the_daemon_is_not_running(tmp_path: Path) -> None:
    data_dir = tmp_path / "run"
    data_dir.mkdir()
    config = tmp_path / "portique.toml"
    config.write_text(f'[status]\nruntime_dir = "{data_dir}"\n')
    done = portique_status(config)
    assert done.returncode == 3 and "the daemon is not running" in done.stderr

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


def test_the_command_says_cannot_read_when_it_cannot(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    config = tmp_path / "portique.toml"
    config.write_text(f'[status]\nruntime_dir = "{runtime}"\n')
    (runtime / status.STATUS_FILE).write_text('{"museum": "M1", "gate": ')  # cut short
    done = portique_status(config)
    assert (
        done.returncode == 3 and "cannot read" in done.stderr and "not running" not in done.stderr
    )
    (runtime / status.STATUS_FILE).unlink()
    (runtime / status.STATUS_FILE).mkdir()  # any OSError: here EISDIR
    done = portique_status(config)
    assert done.returncode == 3 and "cannot read" in done.stderr, done.stderr
