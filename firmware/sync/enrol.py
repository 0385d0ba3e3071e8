"""Announcing a newly provisioned gate's public key to the hub.

The gate sends its new public key once, with the technician's access code,
signed by that new key (proof it holds the private half). The hub checks the
code with the central office's public key (the museum, the gate, the role,
the expiry, used once) and registers the key; from then on it accepts the
gate's batches. Nothing else about the gate is trusted from this message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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
    payload = seal(enrol_body(museum, gate, key, code, now), key, key_id)
    topic = gate_topic(museum, gate, "up", "enrol")
    return _connected(settings, f"{museum}/{gate}/enrol", timeout_s,
                      lambda client: _publish(client, topic, payload, timeout_s))  # fmt: skip


def probe(settings: SyncSettings, timeout_s: float = 15.0) -> str | None:
    """None if the broker accepts this gate's connection (TLS, credentials), else why not."""
    return _connected(settings, f"{settings.username}/probe", timeout_s, lambda _client: None)


def _connected(settings: SyncSettings, client_id: str, timeout_s: float,
               then: Callable[[mqtt.Client], str | None]) -> str | None:  # fmt: skip
    where = f"broker {settings.host}:{settings.port}"
    refused: list[str] = []
    connected = threading.Event()

    def on_connect(_c: object, _u: object, _f: object, reason: Any, _p: object = None) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        connected.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    try:
        if settings.tls:
            client.tls_set(
                ca_certs=str(settings.ca_file) if settings.ca_file else None,
                certfile=str(settings.cert_file) if settings.cert_file else None,
                keyfile=str(settings.key_file) if settings.key_file else None,
            )
        if settings.username:
            secret = settings.password_file
            client.username_pw_set(settings.username,
                                   secret.read_text().strip() if secret else None)  # fmt: skip
        client.on_connect = on_connect
        client.connect(settings.host, settings.port, keepalive=30)
    except (OSError, ValueError) as exc:
        return f"{where} unreachable ({exc})"
    client.loop_start()
    try:
        if not connected.wait(timeout_s):
            return f"{where} did not answer the connection"
        if refused:
            return f"{where} refused the connection as {settings.username}: {refused[0]}"
        return then(client)
    finally:
        client.disconnect()
        client.loop_stop()


def _publish(client: mqtt.Client, topic: str, payload: bytes, timeout_s: float) -> str | None:
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(timeout_s)
    return None if info.is_published() else "the broker did not confirm the enrolment"
