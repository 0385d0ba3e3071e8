"""The console in a real browser: Debian's chromium, headless, driven by Selenium through
Debian's chromedriver (nothing is downloaded), against a real hub, mosquitto and gates.

One browser for the whole session; each test logs in afresh.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import ACTIVE, ENDING_SOON
from consoleworld import PASSWORD
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from syncworld import WAIT_S, Hub, Mosquitto, SyncGate, wait_until
from test_provision import provision

from firmware.events import CardTapped
from firmware.trust import generate_private_key, write_public_key
from firmware.version import SOFTWARE_VERSION
from hub.console.app import ConsoleSettings
from hub.console.auth import add_user
from hub.console.models import open_console
from hub.console.serve import Serving, make_server
from hub.keys import OFFICE_PUBLIC
from hub.publish import Broker

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="session")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(downloads: Path) -> Iterator[webdriver.Chrome]:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not fetch a driver
    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
    })  # fmt: skip
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


class Console:
    """The console served by waitress over the hub's folder, with an admin and a manager."""

    def __init__(self, hub: Hub, broker: Mosquitto) -> None:
        self.office_key = hub.dir / "office.key"
        write_public_key(generate_private_key(self.office_key), hub.dir / OFFICE_PUBLIC)
        settings = ConsoleSettings(hub.dir, hub.settings.db_url, Broker(port=broker.port),
                                   office_key=self.office_key, secure_cookies=False,
                                   refresh_s=1)  # fmt: skip
        cm = open_console(hub.m)
        add_user(cm, "office", "admin", None, PASSWORD, 0.0)
        add_user(cm, "anna", "manager", "M1", PASSWORD, 0.0)
        self.serving = Serving(make_server(settings, "127.0.0.1", 0, time.time))
        self.url = f"http://127.0.0.1:{self.serving.port}"


@pytest.fixture
def console(hub: Hub, broker: Mosquitto) -> Iterator[Console]:
    running = Console(hub, broker)
    running.serving.start()
    yield running
    running.serving.stop()


def log_in(browser: webdriver.Chrome, console: Console, name: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{console.url}/login")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.ID, "whoami")))


def tap(gate: SyncGate, serial: str) -> None:
    gate.loop.post(CardTapped(bytes.fromhex(serial), gate.gate.clock.source.monotonic()))


def test_the_office_sees_a_gate_go_offline_when_it_stops(
    browser: webdriver.Chrome, console: Console, make_gate: Callable[..., SyncGate], hub: Hub
) -> None:
    gate = make_gate("G1")
    p = hub.m.progress
    hub.wait(lambda: p.get(p.museum == "M1", p.gate == "G1").online, WAIT_S, "G1 online")
    log_in(browser, console, "office")
    browser.get(f"{console.url}/gates")
    row = browser.find_element(By.ID, "gate-M1-G1")
    assert row.find_element(By.CLASS_NAME, "state").text == "online"
    gate.stop()
    # The page reloads itself every second: no click, no reload from the test.
    WebDriverWait(browser, WAIT_S).until(
        lambda b: "offline" in b.find_element(By.ID, "gate-M1-G1").get_attribute("class")
    )
    assert browser.find_element(By.ID, "gate-M1-G1").find_element(
        By.CLASS_NAME, "state").text == "offline"  # fmt: skip


def test_a_museum_manager_exports_the_days_entries_as_csv(
    browser: webdriver.Chrome, console: Console, make_gate: Callable[..., SyncGate], hub: Hub,
    downloads: Path,
) -> None:  # fmt: skip
    gate = make_gate("G1")
    tap(gate, ACTIVE)
    tap(gate, ENDING_SOON)
    hub.wait(lambda: hub.m.entry.select().where(hub.m.entry.admitted).count() >= 2, WAIT_S,
             "two entries stored")  # fmt: skip
    log_in(browser, console, "anna")
    today = date.today().isoformat()
    browser.get(f"{console.url}/entries?museum=M1&from={today}&to={today}")
    assert browser.find_element(By.CSS_SELECTOR, ".chart svg")
    browser.find_element(By.ID, "export").click()
    exported = downloads / f"entries-M1-{today}-{today}.csv"
    wait_until(lambda: exported.exists() and exported.stat().st_size > 0, "the CSV downloaded")
    with open(exported, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["gate"] for row in rows} == {"G1"} and len(rows) == 2
    assert all(row["date"] == today for row in rows)


def test_the_office_blocks_a_pass_and_the_gate_refuses_it(
    browser: webdriver.Chrome, console: Console, make_gate: Callable[..., SyncGate], hub: Hub
) -> None:
    gate = make_gate("G1")
    log_in(browser, console, "office")
    browser.get(f"{console.url}/passes")
    browser.find_element(By.ID, "q").send_keys(ACTIVE.lower())
    browser.find_element(By.ID, "search").click()
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.ID, "block"))).click()
    flash = WebDriverWait(browser, WAIT_S).until(
        ec.presence_of_element_located((By.CLASS_NAME, "flash"))
    )
    assert "Sent to every gate." in flash.text
    remote = gate.journal.models.remote_pass

    def blocked_at_gate() -> bool:
        row = gate.on_loop(lambda: remote.get_or_none(remote.serial == ACTIVE))
        return row is not None and row.state == "blocked"

    wait_until(blocked_at_gate, "the block reached the gate")
    tap(gate, ACTIVE)
    record = gate.journal.models.record

    def last_reason() -> str | None:
        row = gate.on_loop(lambda: record.select().order_by(record.seq.desc()).first())
        return row.reason if row else None

    wait_until(lambda: last_reason() == "blocked", "the gate refused the blocked pass")


def test_a_museum_manager_issues_an_access_code_and_a_technician_provisions_with_it(
    browser: webdriver.Chrome, console: Console, hub: Hub, broker: Mosquitto, tmp_path: Path
) -> None:
    log_in(browser, console, "anna")
    browser.get(f"{console.url}/codes")
    browser.find_element(By.ID, "code-gate").send_keys("G1")
    Select(browser.find_element(By.ID, "code-role")).select_by_value("technician")
    browser.find_element(By.ID, "issue").click()
    # The click submits the form; the answer is a new page: wait for it, not for luck.
    shown = ec.presence_of_element_located((By.ID, "code-text"))
    text = WebDriverWait(browser, WAIT_S).until(shown).text
    assert browser.find_element(By.CSS_SELECTOR, "#code-qr svg")
    browser.get(f"{console.url}/codes")
    assert "not yet" in browser.find_element(By.ID, "codes").text
    # The technician types it at the new gate M1/G1: the hub enrols the gate with it.
    done = provision(tmp_path, hub.dir / OFFICE_PUBLIC, text, "--broker",
                     f"127.0.0.1:{broker.port}", "--no-tls")  # fmt: skip
    assert done.returncode == 0, done.stderr
    g = hub.m.gate_key
    wait_until(lambda: g.get_or_none(g.museum == "M1", g.gate == "G1") is not None, "enrolled")
    browser.get(f"{console.url}/codes")
    assert "yes, gate enrolled" in browser.find_element(By.ID, "codes").text


def test_the_office_announces_a_new_version_and_the_gate_shows_it_to_staff(
    browser: webdriver.Chrome, console: Console, make_gate: Callable[..., SyncGate], hub: Hub
) -> None:
    gate = make_gate("G1")
    log_in(browser, console, "office")
    browser.get(f"{console.url}/software")
    assert browser.find_element(By.ID, "software-M1-G1").text.split()[1] == SOFTWARE_VERSION
    browser.find_element(By.ID, "release-version").send_keys("99.0.0")
    date_box = browser.find_element(By.ID, "release-date")
    browser.execute_script("arguments[0].value = '2026-12-01'", date_box)  # the date picker
    browser.find_element(By.ID, "release-notes").send_keys("the reader recovers faster")
    browser.find_element(By.ID, "publish-release").click()
    flash = WebDriverWait(browser, WAIT_S).until(
        ec.presence_of_element_located((By.CLASS_NAME, "flash"))
    )
    assert "Release notice 99.0.0 sent to every gate." in flash.text
    seen = lambda: gate.on_loop(lambda: gate.gate.status.health())  # noqa: E731
    wait_until(lambda: seen()["update_available"], "the gate holds the notice")
    assert seen()["release_notes"] == "the reader recovers faster"
    browser.get(f"{console.url}/gates")
    assert "99.0.0 is available" in browser.find_element(By.ID, "gate-M1-G1").text


def test_a_museum_manager_resolves_a_quarantined_record_with_a_note(
    browser: webdriver.Chrome, console: Console, hub: Hub, tmp_path: Path
) -> None:
    from consoleworld import journal_records

    from hub.ingest import Ingest

    body = journal_records(tmp_path / "forged.sqlite", "M1", "G1",
                           [{"credential": "04DD0000000005"}])  # fmt: skip
    body["records"][0]["children"] = 5  # changed after the gate hashed it
    Ingest(hub.m, time.time).batch("M1", "G1", body)
    log_in(browser, console, "anna")
    browser.get(f"{console.url}/problems")
    row = browser.find_element(By.XPATH, "//tr[.//summary]")
    row.find_element(By.TAG_NAME, "summary").click()  # the evidence, folded by default
    assert "04DD0000000005" in row.find_element(By.TAG_NAME, "details").text
    row.find_element(By.NAME, "note").send_keys("gate's SD card replaced")
    row.find_element(By.XPATH, ".//button").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: "04DD0000000005" not in b.page_source)
    browser.get(f"{console.url}/problems?resolved=1")
    assert "gate's SD card replaced" in browser.find_element(By.ID, "problems").text


def test_a_museum_manager_exports_the_counters_sales_as_csv(
    browser: webdriver.Chrome, console: Console, hub: Hub, tmp_path: Path, downloads: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from test_console_ledgers import counter_day

    from firmware.trust import raw_public
    from hub.ingest import Ingest
    from hub.models import register_gate

    key = Ed25519PrivateKey.generate()
    register_gate(hub.m, "M1", "desk1", raw_public(key.public_key()), time.time())
    Ingest(hub.m, time.time).batch("M1", "desk1", counter_day(tmp_path, "M1", key, "01020304"))
    log_in(browser, console, "anna")
    browser.get(f"{console.url}/sales?from=2026-11-01&to=2026-11-30")
    assert browser.find_element(By.ID, "sales-total").text == "79.00"
    browser.find_element(By.ID, "sales-export").click()
    exported = downloads / "sales-M1-2026-11-01-2026-11-30.csv"
    wait_until(lambda: exported.exists() and exported.stat().st_size > 0, "the CSV downloaded")
    with open(exported, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["kind"] for row in rows] == ["sale", "sale", "cancellation"]


def test_the_office_ships_and_delivers_a_pass_order_and_the_stock_reaches_a_gate(
    browser: webdriver.Chrome, console: Console, make_gate: Callable[..., SyncGate], hub: Hub,
    tmp_path: Path,
) -> None:  # fmt: skip
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from test_console_ledgers import counter_day

    from firmware.trust import raw_public
    from hub.ingest import Ingest
    from hub.models import register_gate
    from hub.orders import list_orders

    gate = make_gate("G1")
    key = Ed25519PrivateKey.generate()
    register_gate(hub.m, "M1", "desk1", raw_public(key.public_key()), time.time())
    Ingest(hub.m, time.time).batch("M1", "desk1", counter_day(tmp_path, "M1", key, "01020304"))
    order = list_orders(hub.m, "M1")[0].order[:8]  # the desk's order for 25 passes
    serials = ["04E1000000000A", "04E1000000000B"]
    log_in(browser, console, "office")
    browser.get(f"{console.url}/orders")
    # Pasted as a column copied from the supplier's delivery note.
    browser.find_element(By.ID, f"serials-{order}").send_keys("\n".join(serials))
    browser.find_element(By.ID, f"ship-{order}").click()
    flash = WebDriverWait(browser, WAIT_S).until(
        ec.presence_of_element_located((By.CLASS_NAME, "flash"))
    )
    assert "shipped: 2 serials" in flash.text
    assert "shipped · 2 serials" in browser.find_element(By.ID, f"order-{order}").text
    browser.find_element(By.ID, f"deliver-{order}").click()
    # Sent at once: the broker is up, so the flash says so (not "stored; not reachable").
    WebDriverWait(browser, WAIT_S).until(
        ec.text_to_be_present_in_element((By.CLASS_NAME, "flash"), "stock on every gate")
    )
    assert "delivered" in browser.find_element(By.ID, f"order-{order}").text
    remote = gate.journal.models.remote_pass

    def in_stock_at_gate() -> bool:
        row = gate.on_loop(lambda: remote.get_or_none(remote.serial == serials[1]))
        return row is not None and row.state == "stock"

    wait_until(in_stock_at_gate, "the museum's new stock reached the gate")
