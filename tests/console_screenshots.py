"""The console's pictures in the README: `make screenshots` (or run this file with a folder).

A sample hub (the console tests' world, with two weeks of entries), served by
waitress, photographed by headless chromium. The gates' last status is written
as sample data: there is no gate running here to send one.
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
from datetime import date
from pathlib import Path

from consoleworld import DAY_WALL, SERIAL_M1, Clock, console_settings, journal_records
from consoleworld import make_hub_folder as make_folder
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from test_console_ledgers import counter_day

from hub.console.serve import Serving, make_server
from hub.ingest import Ingest
from hub.releases import publish_release

PAGES = [
    ("gates", "/gates", "en"),
    ("entries", "/entries?museum=M1&from=2026-10-21&to=2026-11-03", "fr"),
    ("billing", "/billing?museum=M1&month=2026-10", "de"),
    ("pass", f"/passes/{SERIAL_M1}", "en"),
    ("problems", "/problems", "en"),
    ("software", "/software", "en"),
    ("sales", "/sales?museum=M1&from=2026-10-21&to=2026-11-03", "fr"),
]


def two_weeks(folder_dir: Path, ingest: Ingest) -> None:
    rng = random.Random(3)
    taps = []
    for day in range(14):
        wall = DAY_WALL - (13 - day) * 86400 - 86400
        date_text = date.fromtimestamp(wall).isoformat()
        for index in range(rng.randrange(20, 60)):
            serial = f"05{rng.randrange(16**10):010X}"
            refused = rng.random() < 0.1
            tap = {"credential": serial, "pass_number": str(200000 + index), "day": date_text,
                   "wall": wall + index * 300, "admitted": True, "billable": True,
                   "children": rng.choice((0, 0, 0, 1, 2))}  # fmt: skip
            if refused:
                tap |= {"admitted": False, "billable": False, "children": 0,
                        "reason": rng.choice(("expired", "blocked"))}  # fmt: skip
            taps.append(tap)
    ingest.batch("M1", "G3", journal_records(folder_dir / "j-m1-g3.sqlite", "M1", "G3", taps))


def status(museum: str, gate: str, seen: float, **changes: object) -> dict[str, object]:
    return {"type": "status", "museum": museum, "gate": gate, "sent_at": seen,
            "session": "0" * 32, "n": 1, "online": True, "list_version": 3,
            "list_age_s": 5400.0, "backlog": 0, "last_seq": 40, "last_ack_seq": 40,
            "last_ack_at": seen, "reader_up": True, "reader_detail": "pn532 on ttyAMA0",
            "journal_ok": True, "time_trusted": True, "broker_connected": True,
            "software_version": "1.4.0", **changes}  # fmt: skip


def main(out: Path) -> None:
    os.environ["SE_OFFLINE"] = "true"
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(Path(tmp) / "hub")
        from firmware.trust import generate_private_key, raw_public
        from hub.models import register_gate

        key = generate_private_key(Path(tmp) / "g3.key")
        register_gate(folder.m, "M1", "G3", raw_public(key.public_key()), DAY_WALL)
        two_weeks(folder.dir, Ingest(folder.m, lambda: DAY_WALL))
        now = DAY_WALL + 7200
        p = folder.m.progress
        states = {("M1", "G1"): status("M1", "G1", now - 20),
                  ("M1", "G2"): status("M1", "G2", now - 3 * 3600, online=False, backlog=12),
                  ("M1", "G3"): status("M1", "G3", now - 15, list_version=2, list_age_s=9e5,
                                       software_version="1.3.2"),
                  ("M2", "G1"): status("M2", "G1", now - 40, reader_up=False,
                                       reader_detail="no answer from the reader")}  # fmt: skip
        for (museum, gate), body in states.items():
            row, _ = p.get_or_create(museum=museum, gate=gate)
            row.status, row.online, row.seen_at = json.dumps(body), body["online"], body["sent_at"]
            row.save()
        publish_release(folder.m, "1.3.0", "2026-09-15", "Faster list updates.", now - 90 * 86400,
                        "office")  # fmt: skip
        publish_release(folder.m, "1.4.0", "2026-10-28", "The reader recovers by itself after "
                        "a power glitch; receipts show the TSE's QR code.", now - 86400,
                        "office")  # fmt: skip
        desk = Ed25519PrivateKey.generate()
        register_gate(folder.m, "M1", "desk1", raw_public(desk.public_key()), DAY_WALL)
        Ingest(folder.m, lambda: DAY_WALL).batch(
            "M1", "desk1", counter_day(Path(tmp), "M1", desk, "01020304")
        )
        forged = journal_records(
            Path(tmp) / "forged.sqlite",
            "M1",
            "G2",
            [{"credential": "04DD0000000005", "pass_number": "100005"}],
        )
        forged["records"][0]["children"] = 5  # changed after the gate hashed it: quarantined
        Ingest(folder.m, lambda: now - 600).batch("M1", "G2", forged)
        server = make_server(console_settings(folder, 1, refresh_s=10), "127.0.0.1", 0,
                             Clock(now))  # fmt: skip
        serving = Serving(server).start()
        options = Options()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                         "--window-size=1280,860", "--hide-scrollbars"):  # fmt: skip
            options.add_argument(argument)
        browser = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                                   options=options)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{serving.port}"
            browser.get(f"{url}/login")
            browser.save_screenshot(str(out / "console-login-en.png"))
            browser.find_element(By.ID, "name").send_keys("office")
            browser.find_element(By.ID, "password").send_keys("correct horse battery staple")
            browser.find_element(By.ID, "login").click()
            for name, path, lang in PAGES:
                browser.get(f"{url}{path}{'&' if '?' in path else '?'}lang={lang}")
                browser.save_screenshot(str(out / f"console-{name}-{lang}.png"))
            browser.get(f"{url}/codes?lang=en")
            browser.find_element(By.ID, "code-gate").send_keys("nord-1")
            browser.find_element(By.ID, "issue").click()
            browser.save_screenshot(str(out / "console-code-en.png"))
            # A few more actions, a refused one too, for the audit log's picture.
            browser.get(f"{url}/entries.csv?museum=M1&from=2026-10-01&to=2026-10-31")
            browser.get(f"{url}/passes?q=%27%20OR%201%3D1%20--")
            browser.get(f"{url}/passes/{SERIAL_M1}")
            browser.find_element(By.ID, "block").click()
            browser.get(f"{url}/audit?lang=en")
            browser.save_screenshot(str(out / "console-audit-en.png"))
        finally:
            browser.quit()
            serving.stop()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screens")
    target.mkdir(parents=True, exist_ok=True)
    main(target)
