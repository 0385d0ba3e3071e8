"""What the console's pages show, from statuses the hub accepted through its own checks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from consoleworld import Clock, HubFolder
from pgserver import both_databases

from firmware.sync.protocol import ProtocolError, seal
from firmware.trust import key_id, load_private_key, raw_public
from hub.console.queries import SILENT_S
from hub.publish import Broker
from hub.service import HubService, HubSettings

# Every test on SQLite and on PostgreSQL: the console reads either as the hub does.
pytestmark = both_databases


def send_status(folder: HubFolder, museum: str, gate: str, sent_at: float,
                **changes: Any) -> None:  # fmt: skip
    """A status signed with the gate's key, handled by the hub as if it came over MQTT."""
    key = load_private_key(folder.dir / f"{museum}-{gate}.key")
    body = {"type": "status", "museum": museum, "gate": gate, "sent_at": sent_at,
            "session": f"{int(sent_at):032x}", "n": 1, "online": True, "list_version": 3,
            "list_age_s": 3600.0, "backlog": 4, "last_seq": 9, "last_ack_seq": 5,
            "last_ack_at": sent_at, "reader_up": True, "reader_detail": "pn532",
            "journal_ok": True, "time_trusted": True, "broker_connected": True,
            **changes}  # fmt: skip
    service = HubService(HubSettings(folder.dir, folder.url, Broker(port=1)), lambda: sent_at)
    try:
        service.handle(f"portique/v1/{museum}/{gate}/up/status",
                       seal(body, key, key_id(raw_public(key.public_key()))))  # fmt: skip
    finally:
        service.m.db.close()


def row_of(page: str, museum: str, gate: str) -> str:
    found = re.search(rf'<tr id="gate-{museum}-{gate}" class="([^"]*)">(.*?)</tr>', page, re.S)
    assert found, f"no row for {museum}/{gate}"
    return f"{found.group(1)}|{found.group(2)}"


def test_offline_and_unwell_gates_stand_out(
    client_of: Any, hub_folder: HubFolder, console_clock: Clock
) -> None:
    now = console_clock()
    send_status(hub_folder, "M1", "G1", now - 10)
    send_status(hub_folder, "M1", "G2", now - 10, online=False)
    send_status(hub_folder, "M2", "G1", now - 10, reader_up=False, reader_detail="no answer")
    page = client_of("office").get("/gates").get_data(as_text=True)
    assert row_of(page, "M1", "G1").startswith("unhealthy|")  # its open gap problem
    assert "open problems" in row_of(page, "M1", "G1")
    assert row_of(page, "M1", "G2").startswith("offline|")
    m2 = row_of(page, "M2", "G1")
    assert m2.startswith("unhealthy|") and "reader down" in m2 and "no answer" in m2
    assert ">4<" in row_of(page, "M1", "G1")  # the backlog
    assert 'http-equiv="refresh"' in page


def test_a_gate_not_heard_from_lately_is_flagged(
    client_of: Any, hub_folder: HubFolder, console_clock: Clock
) -> None:
    send_status(hub_folder, "M1", "G2", console_clock() - 10)
    client = client_of("office")
    assert "not heard from lately" not in row_of(client.get("/gates").get_data(as_text=True),
                                                 "M1", "G2")  # fmt: skip
    console_clock.advance(SILENT_S + 1)
    row = row_of(client.get("/gates").get_data(as_text=True), "M1", "G2")
    assert row.startswith("unhealthy|") and "not heard from lately" in row


def test_a_replayed_status_does_not_bring_a_stopped_gate_back(
    client_of: Any, hub_folder: HubFolder, console_clock: Clock
) -> None:
    now = console_clock()
    send_status(hub_folder, "M1", "G2", now - 20, online=False)
    with pytest.raises(ProtocolError, match="not newer"):
        send_status(hub_folder, "M1", "G2", now - 30)  # an older one, replayed
    assert row_of(client_of("office").get("/gates").get_data(as_text=True),
                  "M1", "G2").startswith("offline|")  # fmt: skip


def test_the_entries_page_counts_per_museum_and_day(client_of: Any) -> None:
    page = client_of("office").get("/entries?from=2026-11-03&to=2026-11-03").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(M\d)</td><td>2026-11-03</td><td>(\d+)</td><td>(\d+)</td>"
                      r"<td>(\d+)</td>", page)  # fmt: skip
    # M1: the same pass at two gates (billed once), children 2; M2: two passes.
    assert rows == [("M1", "2", "1", "2"), ("M2", "2", "2", "0")]
    assert "Refused: expired" in page and "Refused: blocked" in page
