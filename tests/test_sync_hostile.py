"""Hostile payloads on every MQTT topic, both ends, and pass changes the gates would
refuse: each is refused as ``malformed`` in one log line, never a traceback, and
nothing poisons the delta stream."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from syncworld import Hub, LogWatch, Spy, wait_until

from firmware.sync.protocol import DOWN, UP, broadcast_topic, gate_topic
from hub.activations import BadDelta, new_delta

BOMBS = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "nested_body": b'{"body":' * 40 + b"{}" + b"}" * 40,
    "huge_int": b'{"body":{"type":"ack","seq":' + b"9" * 30 + b'},"signer":"0","signature":"x"}',
    "long_int": b"7" * 5000,
    "infinity": b'{"body":{"type":"beacon","issued_at":1e999},"signer":"0","signature":"x"}',
}


def refusals(logs: LogWatch) -> list[str]:
    return [line for line in list(logs.lines) if "refused message" in line]


def test_parser_bombs_on_every_topic_are_refused_as_malformed_in_one_line(
    make_gate, hub: Hub, broker, logs: LogWatch
) -> None:
    gate = make_gate()
    spy = Spy(broker.port)
    assert hub.service is not None
    topics = [gate_topic("M1", "G1", "up", name) for name in UP]
    topics += [gate_topic("M1", "G1", "down", name) for name in DOWN]
    topics += [broadcast_topic(name) for name in DOWN]
    sent = 0
    for topic in topics:
        for payload in BOMBS.values():
            spy.publish(topic, payload)
            sent += 1
    wait_until(lambda: len(refusals(logs)) >= sent, f"{sent} refusals logged")
    lines = refusals(logs)
    assert len(lines) == sent  # one line each
    assert all(": malformed:" in line for line in lines), lines
    assert not [line for line in logs.lines if "could not be handled" in line]
    gate.fill(1)
    gate.wait_acked(1)  # both ends carry on
    spy.close()


@pytest.mark.parametrize("serial", ["04A1", "04A1B2C3D4", "04A1B2C3D4E5Z1", "", "04" * 11])
def test_a_mistyped_serial_never_becomes_a_delta(hub: Hub, serial: str) -> None:
    with pytest.raises(BadDelta), hub.m.db.atomic():
        new_delta(hub.m, 1_790_000_000.0, kind="block", serial=serial, state="blocked")
    assert hub.m.delta.select().count() == 0


def test_pass_block_with_a_mistyped_serial_is_refused_and_nothing_is_sent(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    run = [sys.executable, "-m", "hub"]
    assert subprocess.run([*run, "init", "--data", str(data)], capture_output=True).returncode == 0
    done = subprocess.run([*run, "pass", "block", "04A1B2", "--data", str(data), "--port", "9"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "nothing was stored or sent" in done.stderr
    assert "Traceback" not in done.stderr
