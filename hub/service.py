"""The running hub: paho's thread receives, one worker thread owns the database.

Every gate message is checked before anything is stored: size, schema,
topic against body, the gate's registered key, the signature. A refused
message leaves one warning in the log and nothing in the database.

Several hub processes (workers, each with its own client id) may run at once:
they share one MQTT v5 subscription (``$share/...``), so the broker hands each
gate message to one of them, and they share the database (hub/concurrency.py
keeps their writes apart). A worker acknowledges a message to the broker only
once it is handled and committed, and its session outlives a crash
(``session_expiry_s``): what a killed worker held comes back to it when it
restarts. Batches lost anyway show as a gap, and the gate is asked to resend.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import peewee
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware.protocol import access_codes as access
from firmware.protocol.messages import ROOT, ProtocolError, parse_topic, unseal, unseal_batch
from firmware.protocol.signing import key_id, read_public_key, unb64, verify_signature
from hub.activations import deltas_after
from hub.concurrency import relaxed_commit, writing
from hub.ingest import BatchRefused, Ingest
from hub.keys import OFFICE_PUBLIC, HubSigner
from hub.models import HubModels, open_hub, register_gate
from hub.passculture.handler import PassCultureHandler
from hub.passplus.handler import PassPlusHandler
from hub.publish import Broker, Publisher, next_command
from hub.rawbatch import RawIngest
from hub.releases import body_of, latest_notice, note_software, tables

log = logging.getLogger("portique.hub")

# Every worker joins the same share group: each gate message goes to one of them.
SHARE_GROUP = "portique-hub"
SUBSCRIPTION = f"$share/{SHARE_GROUP}/{ROOT}/+/+/up/#"
ATTEMPTS = 3  # handling a message again after a conflict with another worker
UNPACK_IDLE_S = 0.05  # no message for this long: time to unpack raw batches
STOP_UNPACK_S = 10.0  # unpacking on the way out, at most (systemd waits 90 s)
RESEND_HOLDOFF_S = 5.0  # one resend request per gap and gate in this time: no storms


@dataclass(frozen=True)
class HubSettings:
    data_dir: Path
    db_url: str
    broker: Broker
    beacon_interval_s: float = 60.0
    max_message_bytes: int = 16 * 1024 * 1024
    client_id: str = "portique-hub"  # each worker its own (and its own broker account)
    # How long the broker keeps a worker's session (its unacknowledged and queued
    # messages) after the worker went away: a restart within this loses nothing.
    session_expiry_s: int = 3600
    gap_grace_s: float = 0.0  # see Ingest: workers store a gate's batches out of order


class HubService:
    def __init__(self, settings: HubSettings, now: Callable[[], float] = time.time) -> None:
        self.settings, self.now = settings, now
        self.signer = HubSigner.load(settings.data_dir)
        self.m: HubModels = open_hub(settings.db_url)
        self.ingest = Ingest(self.m, now, settings.gap_grace_s)
        tables(self.m)  # release notices and gates' versions: made at start, not mid-message
        self.raw = RawIngest(self.m, self.ingest)  # batch2: acknowledged raw, unpacked after
        self._unpack_due = True  # raw batches a crashed worker left are unpacked at start
        self.client = settings.broker.worker_client(settings.client_id)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self._inbox.put(
            (msg.topic, msg.payload, msg.mid, msg.qos)
        )
        self.publish = Publisher(self.client, self.signer, now)
        # pass Culture questions are answered on their own thread (docs/passculture.md).
        self.passculture = PassCultureHandler.from_data_dir(
            settings.data_dir, self.m.db, self.client, self.signer, now, report=self.ingest.report
        )
        # Pass+ questions are answered from the hub's own table (docs/passculture.md).
        self.passplus = PassPlusHandler(self.m.db, self.client, self.signer, now,
                                        settings.data_dir, self.ingest.report)  # fmt: skip
        self._inbox: queue.Queue[tuple[str, bytes, int, int] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="hub-worker", daemon=True)
        self._asked: dict[tuple[str, str], tuple[int, float]] = {}
        self.handled = 0  # messages taken off the inbox, refused ones too (tests wait on it)
        self.handled_event = threading.Condition()

    def start(self) -> None:
        b = self.settings.broker
        self._worker.start()
        self.passculture.start()
        self.passculture.resume_pending(self.m.entry)
        session = Properties(PacketTypes.CONNECT)
        session.SessionExpiryInterval = self.settings.session_expiry_s
        self.client.connect_async(b.host, b.port, keepalive=30, clean_start=False,
                                  properties=session)  # fmt: skip
        self.client.loop_start()
        log.info("hub: connecting to %s:%d", b.host, b.port)

    def stop(self) -> None:
        self._inbox.put(None)
        self._worker.join(timeout=10)
        self._unpack_before_stop()
        self.passculture.stop()
        self.client.disconnect()
        self.client.loop_stop()
        self.m.db.close()

    def wait_handled(self, count: int, timeout: float) -> bool:
        """Until ``count`` messages were handled (for tests and the benchmark)."""
        with self.handled_event:
            return self.handled_event.wait_for(lambda: self.handled >= count, timeout)

    # -- paho's thread ------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: object, _f: object, reason: Any,
                    _p: object = None) -> None:  # fmt: skip
        if reason.is_failure:
            log.error("hub: broker refused the connection: %s", reason)
            return
        client.subscribe(SUBSCRIPTION, qos=1)
        log.info("hub: connected, listening on %s", SUBSCRIPTION)

    # -- the worker: the only code that touches the database -------------------------

    def _work(self) -> None:
        next_beacon = time.monotonic()
        while True:
            if time.monotonic() >= next_beacon:
                self.publish.beacon()
                next_beacon = time.monotonic() + self.settings.beacon_interval_s
            wait = max(0.0, next_beacon - time.monotonic())
            try:
                item = self._inbox.get(timeout=min(wait, UNPACK_IDLE_S) if self._unpack_due
                                       else wait)  # fmt: skip
            except queue.Empty:
                if self._unpack_due:  # nothing else to do: unpack what was acknowledged raw
                    self._unpack_safely()
                else:
                    self._unpack_due = time.monotonic() >= next_beacon  # now and then: others'
                continue
            if item is None:
                return
            topic, payload, mid, qos = item
            self._handle_safely(topic, payload)
            # Stored (or refused for good): only now may the broker forget the message.
            self.client.ack(mid, qos)
            log.debug("hub: handled %s", topic)  # which worker took what (tests, -v)
            with self.handled_event:
                self.handled += 1
                self.handled_event.notify_all()
            if self._unpack_due and self._raw_overdue():
                self._unpack_safely()  # busy for long: the oldest raw batch waited enough

    def _unpack_before_stop(self) -> None:
        """Leave nothing to unpack if that is quick; what is left waits for the next start."""
        deadline = time.monotonic() + STOP_UNPACK_S
        while self._unpack_due and time.monotonic() < deadline:
            self._unpack_safely()

    def _raw_overdue(self) -> bool:
        try:
            return self.raw.overdue()
        except peewee.PeeweeException:
            return False

    def _unpack_safely(self) -> None:
        """Unpack one raw batch, then publish what it brought (acks past a hole, deltas)."""
        try:
            done = self.raw.unpack_one()
        except Exception:
            log.exception("hub: a raw batch could not be unpacked; it stays, to be tried again")
            return
        if done is None:
            self._unpack_due = False
        elif done.result is not None:
            self._after_batch(done.museum, done.gate, done.body, done.result)
        with self.handled_event:
            self.handled_event.notify_all()  # tests wait on rows appearing

    def _handle_safely(self, topic: str, payload: bytes) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self.handle(topic, payload)
                return
            except ProtocolError as exc:
                log.warning("hub: refused message on %s: %s: %s", topic, exc.code, exc)
                return
            except BatchRefused as exc:
                log.warning("hub: refused message on %s: malformed: %s", topic, exc)
                return
            except (peewee.IntegrityError, peewee.OperationalError) as exc:
                # Another worker created the same row, or the two deadlocked: everything
                # was rolled back; the next attempt sees what the other committed.
                if attempt < ATTEMPTS:
                    log.info("hub: message on %s met another worker's write (%s); again",
                             topic, exc)  # fmt: skip
                    continue
                log.exception("hub: message on %s could not be handled; nothing stored", topic)
                return
            except Exception:
                log.exception("hub: message on %s could not be handled; nothing stored", topic)
                return

    def handle(self, topic: str, payload: bytes) -> None:
        where = parse_topic(topic)
        if where.direction != "up":
            return
        records = b""
        if where.name == "batch2":  # a signed header, then the records' bytes (rawbatch.py)
            sealed, records = unseal_batch(payload, self.settings.max_message_bytes)
        else:
            sealed = unseal(payload, where.name, self.settings.max_message_bytes)
        body = sealed.body
        if (body["museum"], body["gate"]) != (where.museum, where.gate):
            raise ProtocolError("wrong_topic", f"signed for {body['museum']}/{body['gate']}, "
                                f"published on {where.museum}/{where.gate}")  # fmt: skip
        if where.name == "enrol":  # signed by the new key itself, not a registered one
            self._on_enrol(where.museum, where.gate, sealed)
            return
        self._check_signer(where.museum, where.gate, sealed.signer, sealed.signature,
                           sealed.signed_bytes)  # fmt: skip
        if where.name == "batch2":
            self._on_batch2(where.museum, where.gate, body, records)
            return
        {"batch": self._on_batch, "status": self._on_status, "hello": self._on_hello,
         "passculture_validate": self.passculture.submit,
         "passplus_redeem": self.passplus.on_redeem}[where.name](
            where.museum, where.gate, body
        )  # fmt: skip

    def _check_signer(self, museum: str, gate: str, signer: str, signature: bytes,
                      data: bytes) -> None:  # fmt: skip
        g = self.m.gate_key
        key = g.get_or_none(g.museum == museum, g.gate == gate)
        if key is None:
            raise ProtocolError("unknown_gate", f"gate {museum}/{gate} is not registered "
                                "(portique-hub gate add)")  # fmt: skip
        if signer != key.key_id:
            raise ProtocolError("unknown_key", f"signed by key {signer}, but {museum}/{gate} "
                                f"is registered with key {key.key_id}")  # fmt: skip
        if not verify_signature(unb64(key.public_key, "key"), signature, data):
            raise ProtocolError("bad_signature", f"signature does not match {museum}/{gate}'s key")

    # -- gate messages ------------------------------------------------------------------

    def _on_enrol(self, museum: str, gate: str, sealed: Any) -> None:
        """Register a provisioned gate's key when its access code checks out."""
        body = sealed.body
        public = unb64(body["public_key"], "public key")
        if not verify_signature(public, sealed.signature, sealed.signed_bytes):
            raise ProtocolError("bad_signature", f"enrolment of {museum}/{gate} is not signed "
                                "by the key it announces")  # fmt: skip
        office = self.settings.data_dir / OFFICE_PUBLIC
        if not office.exists():
            raise ProtocolError("no_office_key", f"enrolment of {museum}/{gate} refused: no "
                                f"central office key at {office}")  # fmt: skip
        used = self.m.counter
        try:
            code = access.check(body["access_code"], read_public_key(office), museum, gate,
                                self.now(), self._used_nonces(museum, gate))  # fmt: skip
        except access.AccessCodeError as exc:
            raise ProtocolError(
                f"access_{exc.code}", f"enrolment of {museum}/{gate}: {exc}"
            ) from None
        if code.role != "technician":
            raise ProtocolError(
                "access_role", f"enrolment of {museum}/{gate} needs a technician code"
            )
        with self.m.db.atomic():
            used.create(name=f"access:{museum}/{gate}:{code.nonce}", value=1)
            register_gate(self.m, museum, gate, public, self.now())
        log.info("hub: gate %s/%s enrolled with key %s", museum, gate, key_id(public))

    def _used_nonces(self, museum: str, gate: str) -> set[int]:
        c = self.m.counter
        prefix = f"access:{museum}/{gate}:"
        rows = c.select(c.name).where(c.name.startswith(prefix))
        return {int(row.name[len(prefix) :]) for row in rows}

    def _on_batch(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        self._after_batch(museum, gate, body, self.ingest.batch(museum, gate, body))

    def _on_batch2(self, museum: str, gate: str, header: dict[str, Any], records: bytes) -> None:
        """Acknowledge once the raw batch is committed; unpack it later (hub/rawbatch.py)."""
        self._after_batch(museum, gate, header, self.raw.store(museum, gate, header, records))
        self._unpack_due = True

    def _after_batch(self, museum: str, gate: str, body: dict[str, Any], result: Any) -> None:
        if result.duplicates and not result.stored:
            log.info("hub: %s/%s batch %d..%d already stored: duplicate, nothing stored",
                     museum, gate, body["first_seq"], body["last_seq"])  # fmt: skip
        if result.ack_seq:
            self.publish.ack(museum, gate, result.ack_seq, result.ack_hash, result.epoch)
        if result.deltas:
            self.publish.deltas(result.deltas)
        for record in result.pending:
            self.passculture.submit_pending(museum, gate, record)
        if result.resend_from is not None:
            self._ask_resend(museum, gate, result.resend_from)

    def _ask_resend(self, museum: str, gate: str, from_seq: int) -> None:
        last = self._asked.get((museum, gate))
        if last and last[0] == from_seq and time.monotonic() - last[1] < RESEND_HOLDOFF_S:
            return
        self._asked[(museum, gate)] = (from_seq, time.monotonic())
        with self.m.db.atomic():
            n = next_command(self.m, museum, gate)
        log.info("hub: asking %s/%s to resend from %d", museum, gate, from_seq)
        self.publish.resend(museum, gate, n, from_seq)

    def _on_status(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        with writing(self.m.db):  # the gate's row stays locked to the end (hub/concurrency.py)
            relaxed_commit(self.m.db)
            self._store_status(museum, gate, body)

    def _store_status(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        progress = self.ingest.progress(museum, gate)
        same_session = body["session"] == progress.status_session
        if (same_session and body["n"] <= progress.status_n) or (
            not same_session and body["sent_at"] < progress.status_sent_at
        ):
            raise ProtocolError("replayed", f"status {body['session'][:8]}/{body['n']} is not "
                                "newer than the one stored")  # fmt: skip
        progress.status = json.dumps(body)
        progress.status_session, progress.status_n = body["session"], body["n"]
        progress.status_sent_at, progress.seen_at = body["sent_at"], self.now()
        if progress.online and not body["online"]:
            how = (
                "it said goodbye" if body["broker_connected"] else "its last will: connection lost"
            )
            (log.info if body["broker_connected"] else log.warning)(
                "hub: gate %s/%s is offline (%s)", museum, gate, how
            )
        progress.online = body["online"]
        progress.save()
        if "software_version" in body:  # older gates do not say
            note_software(self.m, museum, gate, body["software_version"], self.now())
        if "epoch" in body:  # how far the journal goes (the last will names none)
            self.ingest.reported(museum, gate, body["epoch"], body["last_seq"])

    def _on_hello(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        """A gate (re)connected: send what it misses and ask for what we miss."""
        with writing(self.m.db):  # the gate's row stays locked to the end (hub/concurrency.py)
            relaxed_commit(self.m.db)
            progress = self.ingest.progress(museum, gate)
            if body["sent_at"] <= progress.hello_sent_at:
                raise ProtocolError("replayed", "hello is not newer than the last one")
            progress.hello_sent_at = body["sent_at"]
            progress.save()
            if "software_version" in body:
                note_software(self.m, museum, gate, body["software_version"], self.now())
            # In the same transaction: a conflict with another worker here rolls back the
            # hello's mark too, so handling it again does not take it for a replay.
            epoch = body.get("epoch")  # absent: a gate of the format before journal epochs
            journal = self.ingest.reported(museum, gate, epoch, body["last_seq"])
        if journal.contiguous_seq and journal.contiguous_seq > body["acked_seq"]:
            self.publish.ack(museum, gate, journal.contiguous_seq, journal.contiguous_hash, epoch)
        if body["acked_seq"] > journal.contiguous_seq:
            # We acknowledged records we no longer have (a restored database): ask again.
            self._ask_resend(museum, gate, journal.contiguous_seq + 1)
        missing = deltas_after(self.m, body["delta_seq"], limit=100_000)
        if missing:
            self.publish.deltas(missing, museum, gate)
        self._send_newer_list(museum, gate, body)
        self._send_release(museum, gate)

    def _send_release(self, museum: str, gate: str) -> None:
        # Again at each hello, to that gate only (a broadcast per hello would reach every
        # gate each time one reconnects): a notice stored while the broker was away, or
        # a broker that lost its retained messages. The same notice twice is taken silently.
        notice = latest_notice(self.m)
        if notice is not None:
            body = body_of(notice.version, notice.day, notice.notes, notice.issued_at)
            self.publish.release(body, museum, gate)

    def _send_newer_list(self, museum: str, gate: str, hello: dict[str, Any]) -> None:
        r = self.m.list_release
        # Its version and hash only: the body (41 MB at a million passes) is read when a
        # gate needs it, never to answer a hello from a gate that is up to date.
        release = (
            r.select(r.id, r.version, r.sha256)
            .where(
                ((r.museum == museum) & (r.gate == gate)) | ((r.museum == "*") & (r.gate == "*"))
            )
            .order_by(r.version.desc())
            .first()
        )
        if release is None or release.version <= hello["list_version"]:
            return
        partial = hello["list_partial"]
        resume = partial and (partial["version"], partial["sha256"]) == (
            release.version,
            release.sha256,
        )
        data = r.select(r.data).where(r.id == release.id).scalar()
        self.publish.list_file(bytes(data), release.version, museum, gate,
                               missing=partial["missing"] if resume else None)  # fmt: skip
