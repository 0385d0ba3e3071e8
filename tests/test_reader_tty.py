"""The reader on a serial port: nfcpy's real ``pn532`` driver talking to an emulated PN532 on a pty.

The daemon tests run `portique run` as systemd does (a new session, no
controlling terminal, stdin from /dev/null) and pull the reader's plug by
hanging up the pty. The reader tests run ``NfcReader`` in this process and
make the chip fall silent, answer garbage, answer slowly, or be absent.
Everything is awaited with timeouts; nothing is timed.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nfc
import nfc.clf.transport
import pytest
from conftest import ACTIVE, FAMILY, SOLD
from pn532 import DevLink, EmulatedPn532, dev_link
from test_daemon import Daemon, export, write_config
from test_daemon import demo_signed_list as demo_signed_list  # a fixture

from firmware.clock import SystemClock
from firmware.config import ReaderSettings
from firmware.events import CardTapped, ReaderHealth
from firmware.reader import NfcReader

WAIT_S = 20.0  # an upper bound for something to happen, never a timing assertion
_names = itertools.count()

if not os.access("/dev", os.W_OK):  # CI runs as root; a desktop user cannot add /dev links
    pytest.skip("needs write access to /dev to link an emulated reader", allow_module_level=True)


@pytest.fixture
def link() -> Iterator[DevLink]:
    with dev_link(f"pq-test-{os.getpid()}-{next(_names)}") as made:
        yield made


@pytest.fixture
def chip(link: DevLink) -> Iterator[EmulatedPn532]:
    emulated = EmulatedPn532()
    link.point_to(emulated.port)
    yield emulated
    emulated.unplug()


def replug(link: DevLink) -> EmulatedPn532:
    """The reader plugged in again: a new port, the same /dev name (as udev links it)."""
    emulated = EmulatedPn532()
    link.point_to(emulated.port)
    return emulated


# -- the daemon as a systemd service -------------------------------------------


@pytest.fixture
def service(tmp_path: Path, demo_signed_list: Path, link: DevLink) -> Iterator[Daemon]:
    running = Daemon(write_config(tmp_path, demo_signed_list, link.nfc_path), as_service=True)
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


def test_unplugging_the_reader_under_systemd_is_a_lost_reader_not_a_death(
    service: Daemon, chip: EmulatedPn532, link: DevLink, tmp_path: Path
) -> None:
    service.wait_for("reader up")
    chip.put_card(bytes.fromhex(ACTIVE))
    assert "ADMIT (ok)" in service.wait_for(f"tap chip {ACTIVE}")

    chip.unplug()  # the pty hangs up, as a USB adapter pulled out
    down = service.wait_for("reader down")
    assert link.nfc_path in down and "stopped answering" in down
    assert service.proc.poll() is None, "the daemon died when the reader was unplugged"

    again = replug(link)
    try:
        service.wait_for("reader up")
        again.put_card(bytes.fromhex(SOLD))
        assert "ADMIT (activated)" in service.wait_for(f"tap chip {SOLD}")
    finally:
        again.unplug()
    assert service.stop() == 0
    service.wait_for("gate stopped: relay in safe state")
    log = "".join(service.log)
    assert log.count("reader down") == 1, log  # the loss in one line...
    assert "Traceback" not in log and "SIGHUP" not in log, log  # ...and no hang-up at all
    assert [r["credential"] for r in export(tmp_path / "portique.toml")] == [ACTIVE, SOLD]


def test_a_reader_absent_at_start_is_used_as_soon_as_it_is_plugged_in(
    service: Daemon, link: DevLink
) -> None:
    assert link.nfc_path in service.wait_for("reader down")
    plugged = replug(link)
    try:
        service.wait_for("reader up")
        plugged.put_card(bytes.fromhex(FAMILY))
        assert "ADMIT (ok)" in service.wait_for(f"tap chip {FAMILY}")
    finally:
        plugged.unplug()
    assert service.stop() == 0


def test_a_hangup_signal_is_logged_and_never_kills_the_daemon(service: Daemon) -> None:
    service.wait_for("running")
    service.proc.send_signal(signal.SIGHUP)
    assert "SIGHUP" in service.wait_for("SIGHUP")
    assert service.proc.poll() is None
    assert service.stop() == 0


# -- the reader thread against a misbehaving chip ------------------------------


class Watch:
    """An ``NfcReader`` on the emulated chip, its events in a queue."""

    def __init__(self, path: str, **settings: float) -> None:
        self.events: queue.Queue[object] = queue.Queue()
        self.reader = NfcReader(
            ReaderSettings(path=path, **settings), self.events.put, SystemClock()
        )
        self.reader.start()

    def next(self) -> object:
        try:
            return self.events.get(timeout=WAIT_S)
        except queue.Empty:
            pytest.fail(f"no event from the reader within {WAIT_S} s")

    def health(self, up: bool) -> ReaderHealth:
        event = self.next()
        assert isinstance(event, ReaderHealth) and event.up is up, event
        return event

    def tap(self) -> CardTapped:
        event = self.next()
        assert isinstance(event, CardTapped), event
        return event

    def assert_no_event(self) -> None:
        assert self.events.empty(), self.events.get()


@pytest.fixture
def watch(chip: EmulatedPn532, link: DevLink) -> Iterator[Watch]:
    watching = Watch(link.nfc_path)
    watching.health(up=True)
    yield watching
    watching.reader.stop()


def test_a_tap_on_the_pn532_is_read_through_nfcpys_driver(
    watch: Watch, chip: EmulatedPn532
) -> None:
    for serial in ("04A1B2C3D4E5F6", "8A1B2C3D", "04112233445566778899"):
        chip.put_card(bytes.fromhex(serial))
        assert watch.tap().serial == bytes.fromhex(serial)
        chip.take_card()


REMOVAL_S = ReaderSettings().removal_ms / 1000


def polls_for(chip: EmulatedPn532, seconds: float) -> bool:
    """Wait while the host keeps polling for ``seconds`` (a count of polls alone is not
    a duration: a sense may send more than one command, and polls speed up and slow down)."""
    clock = SystemClock()
    start = clock.monotonic()
    while clock.monotonic() - start < seconds:
        if not chip.wait_polls(1, WAIT_S):
            return False
    return True


def test_a_card_held_through_a_reader_glitch_is_one_tap(
    watch: Watch, chip: EmulatedPn532, link: DevLink
) -> None:
    card = bytes.fromhex(ACTIVE)
    chip.put_card(card)
    assert watch.tap().serial == card
    chip.unplug()  # a USB glitch: the port vanishes, the card stays where it is
    watch.health(up=False)
    again = replug(link)
    try:
        again.put_card(card)
        watch.health(up=True)
        # Polls far past the removal time later, the card is still the same tap.
        assert polls_for(again, 2 * REMOVAL_S)
        watch.assert_no_event()
        again.take_card()
        assert polls_for(again, 2 * REMOVAL_S)  # away longer than the removal time
        again.put_card(card)  # presented again: a new tap
        assert watch.tap().serial == card
    finally:
        again.unplug()


def test_a_silent_reader_is_reported_down_and_used_again_when_it_answers(
    watch: Watch, chip: EmulatedPn532
) -> None:
    chip.silent = True
    assert "stopped answering" in watch.health(up=False).detail
    chip.silent = False
    watch.health(up=True)
    chip.put_card(bytes.fromhex(ACTIVE))
    assert watch.tap().serial == bytes.fromhex(ACTIVE)


def test_a_reply_cut_short_is_a_lost_reader_in_one_line_not_a_crash(
    watch: Watch, chip: EmulatedPn532, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="portique.reader")
    chip.garbage = True  # nfcpy indexes past the end of the short reply: IndexError
    down = watch.health(up=False)
    assert "stopped answering" in down.detail and "IndexError" in down.detail
    chip.garbage = False
    watch.health(up=True)
    chip.put_card(bytes.fromhex(ACTIVE))
    assert watch.tap().serial == bytes.fromhex(ACTIVE)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_a_slow_chip_is_still_a_working_reader(watch: Watch, chip: EmulatedPn532) -> None:
    chip.delay_s = 0.3  # each poll acknowledged at once, answered late (within nfcpy's 1 s)
    assert chip.wait_polls(2, WAIT_S)
    chip.put_card(bytes.fromhex(ACTIVE))
    assert watch.tap().serial == bytes.fromhex(ACTIVE)
    watch.assert_no_event()  # never reported down


# -- opening ports: no controlling terminal, udev's name ------------------------


def test_the_port_probe_never_makes_the_reader_a_controlling_terminal(
    chip: EmulatedPn532, link: DevLink
) -> None:
    # nfcpy's probe is the only plain open() in its transport module; the reader
    # module replaces it with one that passes O_NOCTTY.
    source = Path(nfc.clf.transport.__file__).read_text(encoding="latin-1")
    assert source.count("open(") - source.count("def open(") - source.count(".open(") == 1
    probe = nfc.clf.transport.open  # type: ignore[attr-defined]
    assert probe.__module__ == "firmware.reader.nfc"
    script = (
        "import os, sys; os.setsid();"
        "import firmware.reader.nfc, nfc.clf.transport as t;"
        f"t.TTY.find({link.nfc_path!r});"
        "fd = os.open('/dev/tty', os.O_RDWR)"  # fails with ENXIO when there is no ctty
    )
    done = subprocess.run(
        [sys.executable, "-c", script], stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    assert done.returncode != 0 and "No such device or address" in done.stderr, done.stderr


UDEV_RULES = Path(__file__).parent.parent / "provisioning" / "60-portique-reader.rules"


def test_the_udev_name_and_the_documented_path_open_the_reader_through_nfcpy() -> None:
    rules = UDEV_RULES.read_text()
    (name,) = set(re.findall(r'SYMLINK\+="([^"]+)"', rules))
    (documented,) = set(re.findall(r'path = "(tty:[^"]+)"', rules))
    docs = (UDEV_RULES.parent.parent / "docs" / "operations.md").read_text()
    assert f'path = "{documented}"' in docs
    if os.path.lexists(f"/dev/{name}"):
        pytest.skip(f"/dev/{name} exists on this machine: a real reader is plugged in")
    chip = EmulatedPn532()
    try:
        with dev_link(name) as link:  # what udev makes for a USB adapter
            link.point_to(chip.port)
            clf = nfc.ContactlessFrontend()
            assert clf.open(documented), f"nfcpy cannot open {documented} for /dev/{name}"
            clf.close()
    finally:
        chip.unplug()
