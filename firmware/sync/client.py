"""The gate's MQTT client: its own threads, talking to the loop only through events.

paho-mqtt's network thread receives, checks form and signature, and posts
events to the loop; a sender thread turns what the loop hands over (records,
status, hello) into signed messages and publishes them. Neither touches the
journal, so a tap never waits for the network: the loop's part is to read a
batch of records and put it on a queue.

The session is persistent (clean_session off, a fixed client id), so QoS 1
messages for a gate that is away are kept by the broker. paho reconnects by
itself with back-off; a gate with no broker keeps running and keeps its
records in the journal until the broker is back.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.clock import FlooredClock
from firmware.config import SyncSettings
from firmware.events import (
    AckReceived,
    BeaconReceived,
    DeltasReceived,
    ListReceived,
    ReleaseReceived,
    ResendRequested,
    SyncConnected,
    SyncDisconnected,
)
from firmware.protocol.record import COLUMNS
from firmware.sync.listfetch import ListAssembly
from firmware.sync.protocol import (
    WILL_N,
    ProtocolError,
    Sealed,
    addressed_to,
    broadcast_topic,
    gate_topic,
    parse_json,
    parse_topic,
    seal,
    seal_batch,
    unseal,
    validate,
)
from firmware.trust import TrustError, TrustStore

log = logging.getLogger("portique.sync")

STOP_WAIT_S = 2.0  # how long shutdown waits for the last status to leave


class HubVerifier:
    """Checks that a hub message is signed by a key the gate's root certified for "hub".

    The root is the pinned one until the office rotates it: ``current_root`` gives
    the root the gate's trust store follows now (a root document in a list moves
    it), so hub keys certified by the new root are believed and those of the old
    one no longer are.
    """

    def __init__(self, root: bytes | None,
                 revoked: Callable[[], frozenset[str]] = frozenset,
                 current_root: Callable[[], bytes | None] | None = None) -> None:  # fmt: skip
        self._pinned = root
        self._current_root = current_root
        self.trust = TrustStore(root=root) if root else None  # in memory: certs come with messages
        # The keys the office revoked, from the gate's trust store (lists carry revocations).
        self.revoked = revoked

    def _follow_root(self) -> None:
        root = (self._current_root() if self._current_root else None) or self._pinned
        if root and (self.trust is None or self.trust.root != root):
            self.trust = TrustStore(root=root)  # certificates of the old root go with it

    def check(self, sealed: Sealed, now: float) -> None:
        self._follow_root()
        if self.trust is None:
            raise ProtocolError("no_root", "no [sync] root_key is configured: "
                                "hub messages cannot be verified")  # fmt: skip
        if sealed.signer in self.revoked():
            raise ProtocolError("revoked_key", f"key {sealed.signer} has been revoked")
        try:
            if sealed.signer not in self.trust.certificates:
                if sealed.cert is None:
                    raise ProtocolError("unknown_key", f"key {sealed.signer} comes without "
                                        "a certificate")  # fmt: skip
                self.trust.accept_certificate(sealed.cert, now)
            self.trust.verify(sealed.signed_bytes, sealed.signature, sealed.signer, "hub", now)
        except TrustError as exc:
            raise ProtocolError(exc.code, str(exc)) from None


class SyncClient:
    """Connects the gate to the broker; ``post`` hands events to the gate's loop."""

    def __init__(self, settings: SyncSettings, museum: str, gate: str, key: Ed25519PrivateKey,
                 key_id: str, root: bytes | None, clock: FlooredClock,
                 post: Callable[[object], None], list_version: int = 0,
                 revoked: Callable[[], frozenset[str]] = frozenset,
                 current_root: Callable[[], bytes | None] | None = None) -> None:  # fmt: skip
        self.settings, self.museum, self.gate = settings, museum, gate
        self.key, self.key_id, self.clock, self.post = key, key_id, clock, post
        self.verifier = HubVerifier(root, revoked, current_root)
        self.lists = ListAssembly(settings.list_max_bytes, settings.list_timeout_s, list_version)
        self._outgoing: queue.Queue[tuple[str, dict[str, Any], bool] | None] = queue.Queue()
        self._sender = threading.Thread(target=self._send_loop, name="sync-send", daemon=True)
        self._session, self._n = "", 0
        self._stopping = False
        self._unreachable_said = False
        self._client = self._make_client()
        self._handlers: dict[str, Callable[[dict[str, Any]], object]] = {
            "ack": lambda b: AckReceived(b["seq"], b["hash"], b.get("epoch")),
            "command": lambda b: ResendRequested(b["from_seq"], b["n"]),
            "deltas": lambda b: DeltasReceived(tuple(b["items"])),
            "beacon": lambda b: BeaconReceived(b["issued_at"]),
            "release": lambda b: ReleaseReceived(b["issued_at"], b["version"], b["date"],
                                                 b["notes"]),
        }  # fmt: skip

    def topic(self, name: str, direction: str = "up") -> str:
        return gate_topic(self.museum, self.gate, direction, name)

    # -- life cycle (called by the code that runs the gate) -------------------

    def start(self) -> None:
        s = self.settings
        self._sender.start()
        self._client.connect_async(s.host, s.port, keepalive=s.keepalive_s)
        self._client.loop_start()
        log.info("sync: connecting to %s:%d as %s/%s", s.host, s.port, self.museum, self.gate)

    def stop(self, final_status: dict[str, Any] | None = None) -> None:
        """Say goodbye (a last, offline status) if connected, then close."""
        if not self._sender.is_alive():
            return  # never started
        self._stopping = True
        self._outgoing.put(None)
        self._sender.join(timeout=STOP_WAIT_S)
        if final_status is not None and self._client.is_connected():
            body = self._status_body(final_status, n=WILL_N)
            info = self._client.publish(self.topic("status"), self._seal(body), qos=1, retain=True)
            info.wait_for_publish(timeout=STOP_WAIT_S)
        self._client.disconnect()
        self._client.loop_stop()

    # -- handed over by the loop (any thread; never blocks) ---------------------

    def send_batch(self, epoch: str, records: list[dict[str, Any]]) -> None:
        body = {"type": "batch", "museum": self.museum, "gate": self.gate, "epoch": epoch,
                "first_seq": records[0]["seq"], "last_seq": records[-1]["seq"],
                "records": records}  # fmt: skip
        if self.settings.batch_format == 2:  # a signed header, the records as arrays after it
            body["type"] = "batch2"
            body["records"] = [[r[name] for name in COLUMNS] for r in records]
        self._outgoing.put((self.topic(body["type"]), body, False))

    def send_status(self, status: dict[str, Any]) -> None:
        self._outgoing.put((self.topic("status"), {"type": "status", **status}, True))

    def send_hello(self, hello: dict[str, Any]) -> None:
        self._outgoing.put((self.topic("hello"), {"type": "hello", **hello}, False))

    # -- sender thread ----------------------------------------------------------

    def _send_loop(self) -> None:
        while (item := self._outgoing.get()) is not None:
            topic, body, retain = item
            try:
                body = self._complete(body)
                self._client.publish(topic, self._seal(body), qos=1, retain=retain)
            except Exception:
                log.exception("sync: could not send %s; it will be sent again", topic)

    def _complete(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "museum": self.museum, "gate": self.gate, "sent_at": self.clock.now().wall}
        if body["type"] == "status":
            self._n += 1
            return self._status_body(body, self._n)
        if body["type"] == "hello":
            body["list_partial"] = self.lists.partial()
        return body

    def _status_body(self, status: dict[str, Any], n: int) -> dict[str, Any]:
        return {**status, "type": "status", "museum": self.museum, "gate": self.gate,
                "sent_at": self.clock.now().wall, "session": self._session, "n": n}  # fmt: skip

    def _seal(self, body: dict[str, Any]) -> bytes:
        if body["type"] == "batch2":
            header = {name: value for name, value in body.items() if name != "records"}
            return seal_batch(header, body["records"], self.key, self.key_id)
        return seal(body, self.key, self.key_id)

    # -- paho's thread ------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"portique-{self.museum}-{self.gate}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_inflight_messages_set(s.max_in_flight + 8)  # batches, status and hello
        if s.tls:
            client.tls_set(
                ca_certs=str(s.ca_file) if s.ca_file else None,
                certfile=str(s.cert_file) if s.cert_file else None,
                keyfile=str(s.key_file) if s.key_file else None,
            )
        if s.username:
            password = s.password_file.read_text().strip() if s.password_file else None
            client.username_pw_set(s.username, password)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._new_session(client)
        return client

    def _new_session(self, client: mqtt.Client) -> None:
        # Each connection has its own status session; its last will is signed
        # now, with the highest counter, so the hub takes it as the last word.
        self._session, self._n = uuid.uuid4().hex, 0
        will = self._status_body({"online": False, **_OFFLINE}, n=WILL_N)
        client.will_set(self.topic("status"), self._seal(will), qos=1, retain=True)

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: Any,
                    _p: object = None) -> None:  # fmt: skip
        if reason.is_failure:
            log.warning("sync: broker refused the connection: %s", reason)
            return
        down = [(self.topic("#", "down"), 1), (broadcast_topic("#"), 1)]
        client.subscribe(down)
        log.info("sync: connected to %s:%d", self.settings.host, self.settings.port)
        self._unreachable_said = False
        self.post(SyncConnected())

    def _on_connect_fail(self, _client: mqtt.Client, _u: object) -> None:
        if not self._unreachable_said:  # once, not at every retry
            self._unreachable_said = True
            log.warning("sync: broker %s:%d unreachable; the gate runs on and keeps its "
                        "records queued, retrying", self.settings.host,
                        self.settings.port)  # fmt: skip

    def _on_disconnect(self, client: mqtt.Client, _u: object, _f: object, reason: Any,
                       _p: object = None) -> None:  # fmt: skip
        self._new_session(client)
        self.post(SyncDisconnected(str(reason), stopping=self._stopping))

    def _on_message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            self._receive(message.topic, message.payload)
        except ProtocolError as exc:
            log.warning("sync: refused message on %s: %s: %s", message.topic, exc.code, exc)
        except Exception:
            log.exception("sync: message on %s could not be handled", message.topic)

    def _receive(self, topic: str, payload: bytes) -> None:
        name = parse_topic(topic).name
        now = self.clock.now()
        if name == "list/chunk":
            body = parse_json(payload, self.settings.max_message_bytes)
            validate("list_chunk", body)
            done = self.lists.chunk(body, now.monotonic)
            if done is not None:
                self.post(ListReceived(done[1], version=done[0]))
            return
        expected = "list_manifest" if name == "list/manifest" else name
        sealed = unseal(payload, expected, self.settings.max_message_bytes)
        if not addressed_to(sealed.body, self.museum, self.gate):
            raise ProtocolError("not_addressed", f"addressed to {sealed.body['museum']}/"
                                f"{sealed.body['gate']}, not to this gate")  # fmt: skip
        # A gate whose clock is wrong must still hear the hub (its beacon is the cure):
        # then the certificate is judged at the message's own signed time.
        self.verifier.check(sealed, now.wall if now.trusted else float(sealed.body["issued_at"]))
        if name == "list/manifest":
            self.lists.manifest(sealed.body, now.monotonic)
        else:
            self.post(self._handlers[name](sealed.body))


_OFFLINE = {
    "list_version": 0, "list_age_s": None, "backlog": 0, "last_seq": 0, "last_ack_seq": 0,
    "last_ack_at": None, "reader_up": None, "reader_detail": "connection lost",
    "journal_ok": True, "time_trusted": True, "broker_connected": False,
}  # fmt: skip
