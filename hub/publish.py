"""What the hub sends to gates, signed: acknowledgements, commands, deltas, beacons, lists.

Shared by the running hub and the one-shot ``portique-hub`` commands (publish
a list, block a pass), which connect, publish and leave.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from firmware.protocol.messages import ANY, broadcast_topic, gate_topic
from hub.keys import HubSigner
from hub.models import HubModels

log = logging.getLogger("portique.hub")

CHUNK_SIZE = 64 * 1024
DELTAS_PER_MESSAGE = 500
CONNECT_WAIT_S = 10.0


@dataclass(frozen=True)
class Broker:
    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password_file: Path | None = None
    tls: bool = False
    ca_file: Path | None = None

    def client(self, client_id: str, persistent: bool) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             clean_session=not persistent, protocol=mqtt.MQTTv311)  # fmt: skip
        return self._configure(client)

    def worker_client(self, client_id: str) -> mqtt.Client:
        """A hub worker's client: MQTT v5 (shared subscriptions), acknowledging by hand.

        paho acknowledges a QoS 1 message when its callback returns unless told
        otherwise; the worker calls ``client.ack`` once the message is stored, so
        the broker keeps (and sends again) what a crashed worker had not stored.
        """
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5, manual_ack=True)  # fmt: skip
        return self._configure(client)

    def _configure(self, client: mqtt.Client) -> mqtt.Client:
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(100)
        if self.tls:
            client.tls_set(ca_certs=str(self.ca_file) if self.ca_file else None)
        if self.username:
            password = self.password_file.read_text().strip() if self.password_file else None
            client.username_pw_set(self.username, password)
        return client


def _target(museum: str, gate: str, name: str) -> str:
    return broadcast_topic(name) if museum == ANY else gate_topic(museum, gate, "down", name)


class Publisher:
    def __init__(self, client: mqtt.Client, signer: HubSigner, now: Callable[[], float]) -> None:
        self.client, self.signer, self.now = client, signer, now

    def _send(self, topic: str, body: dict[str, Any], retain: bool = False) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, self.signer.seal(body), qos=1, retain=retain)

    def ack(self, museum: str, gate: str, seq: int, record_hash: str,
            epoch: str | None) -> None:  # fmt: skip
        """Records 1..seq of journal ``epoch`` are stored (None: a gate that names no epoch)."""
        body = {"type": "ack", "museum": museum, "gate": gate, "issued_at": self.now(),
                "seq": seq, "hash": record_hash}  # fmt: skip
        if epoch is not None:
            body["epoch"] = epoch
        self._send(gate_topic(museum, gate, "down", "ack"), body)

    def resend(self, museum: str, gate: str, n: int, from_seq: int) -> mqtt.MQTTMessageInfo:
        body = {"type": "command", "museum": museum, "gate": gate, "issued_at": self.now(),
                "n": n, "command": "resend", "from_seq": from_seq}  # fmt: skip
        return self._send(gate_topic(museum, gate, "down", "command"), body)

    def deltas(self, items: list[dict[str, Any]], museum: str = ANY,
               gate: str = ANY) -> mqtt.MQTTMessageInfo | None:  # fmt: skip
        info = None
        for start in range(0, len(items), DELTAS_PER_MESSAGE):
            body = {"type": "deltas", "museum": museum, "gate": gate, "issued_at": self.now(),
                    "items": items[start : start + DELTAS_PER_MESSAGE]}  # fmt: skip
            info = self._send(_target(museum, gate, "deltas"), body)
        return info

    def beacon(self) -> None:
        body = {"type": "beacon", "museum": ANY, "gate": ANY, "issued_at": self.now()}
        self._send(broadcast_topic("beacon"), body, retain=True)

    def release(self, body: dict[str, Any]) -> mqtt.MQTTMessageInfo:
        """The office's release notice, retained: a gate hears it at its next connection.

        Its ``release`` type signs it in the ``release-notice`` domain (``seal``).
        """
        return self._send(broadcast_topic("release"), body, retain=True)

    def list_file(self, data: bytes, version: int, museum: str = ANY, gate: str = ANY,
                  missing: list[int] | None = None) -> mqtt.MQTTMessageInfo:  # fmt: skip
        """The manifest, then the chunks (only ``missing`` ones, to resume a transfer)."""
        chunks = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]
        sha = hashlib.sha256(data).hexdigest()
        manifest = {
            "type": "list_manifest", "museum": museum, "gate": gate, "issued_at": self.now(),
            "version": version, "size": len(data), "sha256": sha, "chunk_size": CHUNK_SIZE,
            "chunks": len(chunks),
            "chunk_sha256": [hashlib.sha256(c).hexdigest() for c in chunks],
        }  # fmt: skip
        info = self._send(_target(museum, gate, "list/manifest"), manifest)
        wanted = range(len(chunks)) if missing is None else [i for i in missing if i < len(chunks)]
        for index in wanted:
            chunk = {"type": "list_chunk", "version": version, "sha256": sha, "index": index,
                     "data": base64.b64encode(chunks[index]).decode("ascii")}  # fmt: skip
            info = self.client.publish(_target(museum, gate, "list/chunk"),
                                       _json(chunk), qos=1)  # fmt: skip
        return info


def next_command(m: HubModels, museum: str, gate: str) -> int:
    """The next command number for a gate (call inside a transaction)."""
    # One statement that adds one and says the result: two hub workers asking at once
    # get two numbers (a read, then a write, could give both the same).
    c = m.counter
    query = c.insert(name=f"cmd:{museum}/{gate}", value=1).on_conflict(
        conflict_target=[c.name], update={c.value: c.value + 1}
    )
    return m.db.execute(query.returning(c.value)).fetchone()[0]


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def publish_once(broker: Broker, signer: HubSigner, now: Callable[[], float],
                 send: Callable[[Publisher], mqtt.MQTTMessageInfo | None]) -> None:  # fmt: skip
    """Connect, publish what ``send`` publishes, wait until the broker has it, leave."""
    client = broker.client(f"portique-hub-cli-{uuid.uuid4().hex[:8]}", persistent=False)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        info = send(Publisher(client, signer, now))
        if info is not None:
            info.wait_for_publish(timeout=CONNECT_WAIT_S)
    finally:
        client.disconnect()
        client.loop_stop()
