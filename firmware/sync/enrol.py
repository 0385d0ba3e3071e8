"""Announcing a newly provisioned gate's public key to the hub.

The gate sends its new public key once, with the technician's access code,
signed by that new key (proof it holds the private half). The hub checks the
code with the central office's public key (the museum, the gate, the role,
the expiry, used once) and registers the key; from then on it accepts the
gate's batches. Nothing else about the gate is trusted from this message.
"""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.config import SyncSettings
from firmware.sync.protocol import gate_topic, seal
from firmware.trust import b64, raw_public


def enrol_body(museum: str, gate: str, key: Ed25519PrivateKey, code: str,
               now: float) -> dict[str, Any]:  # fmt: skip
    return {
        "type": "enrol", "museum": museum, "gate": gate, "sent_at": now,
        "public_key": b64(raw_public(key.public_key())), "access_code": code,
    }  # fmt: skip


def announce(
    settings: SyncSettings,
    museum: str,
    gate: str,
    key: Ed25519PrivateKey,
    key_id: str,
    code: str,
    now: float,
    timeout_s: float = 15.0,
) -> str | None:
    """Publish the enrolment (QoS 1); None once the broker has it, else what went wrong."""
    connected = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{museum}/{gate}/enrol")
    if settings.tls:
        client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None)
    if settings.username:
        password = settings.password_file.read_text().strip() if settings.password_file else None
        client.username_pw_set(settings.username, password)
    client.on_connect = lambda *_args: connected.set()
    try:
        client.connect(settings.host, settings.port, keepalive=30)
    except OSError as exc:
        return f"broker {settings.host}:{settings.port} unreachable ({exc})"
    client.loop_start()
    try:
        if not connected.wait(timeout_s):
            return f"broker {settings.host}:{settings.port} did not accept the connection"
        payload = seal(enrol_body(museum, gate, key, code, now), key, key_id)
        info = client.publish(gate_topic(museum, gate, "up", "enrol"), payload, qos=1)
        info.wait_for_publish(timeout_s)
        return None if info.is_published() else "the broker did not confirm the enrolment"
    finally:
        client.disconnect()
        client.loop_stop()
