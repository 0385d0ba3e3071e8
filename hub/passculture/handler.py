"""Gates ask the hub to validate a counter-mark; the hub asks pass Culture and answers.

The hub's worker checks the request's signature (it owns the gate registry)
and hands it here; pass Culture is called on this module's own thread, so a
slow API never delays the ingestion of journals. Requests are taken one at a
time: a request_id already answered gets its stored answer again (an MQTT
redelivery, a gate's retry) and pass Culture is not called twice. A request
older than ``STALE_S`` is not sent to pass Culture: the visitor was told "see
the desk" long ago by the gate itself.

A code queued at a desk while the hub was away arrives as a ``pending`` journal
record; it is validated here under the record's uuid (so a re-uploaded record
is never validated twice), retried while pass Culture cannot answer, and a
refusal becomes a problem the museum sees with the visitor's details. Pending
records not settled when the hub stopped are taken up again at its start.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import peewee

from firmware.protocol.messages import gate_topic, validate
from firmware.protocol.time import Clock, SystemClock
from hub.keys import HubSigner
from hub.passculture.connector import Connector, Verdict, desk, refuse
from hub.passculture.models import CounterMark, micros, open_countermarks
from hub.passculture.settings import FILE_NAME, PassCultureSettings, SettingsError, load

log = logging.getLogger("portique.hub.passculture")

STALE_S = 10.0  # a gate gives up after 1.5 s; beyond this the visitor has gone to the desk
ANSWER = "passculture_answer"
PENDING_RETRY_S = (30.0, 60.0, 300.0, 900.0, 3600.0)  # pass Culture unreachable: try again
PROBLEM = "passculture_refused"  # a code queued at the desk that pass Culture refused later

Report = Callable[[str, str, str, "int | None", str], None]
# (museum, gate, body, seq of the pending record or None for a gate's question, attempt)
_Item = tuple[str, str, dict[str, Any], "int | None", int]


class PassCultureHandler:
    def __init__(self, connector: Connector, db: peewee.Database, client: mqtt.Client,
                 signer: HubSigner, now: Callable[[], float],
                 problem: str | None = None, report: Report | None = None) -> None:  # fmt: skip
        """``problem``: why pass Culture is not set up (every answer says so);
        ``report(museum, gate, kind, seq, detail)``: a problem for the museum."""
        self.connector, self.db, self.client, self.signer, self.now = (
            connector,
            db,
            client,
            signer,
            now,
        )
        self.problem = problem
        self.report = report or (lambda *args: log.warning("pass Culture problem: %s", args))
        self.table: type[CounterMark] = open_countermarks(db)
        self._inbox: queue.Queue[_Item | None] = queue.Queue()
        self._retries: list[tuple[float, _Item]] = []  # (due, item): pending ones to try again
        self._thread = threading.Thread(target=self._work, name="hub-passculture", daemon=True)
        self.answered = 0  # requests answered, repeats too (tests wait on it)
        self.answered_event = threading.Condition()

    @classmethod
    def from_data_dir(cls, data_dir: Path, db: peewee.Database, client: mqtt.Client,
                      signer: HubSigner, now: Callable[[], float],
                      clock: Clock | None = None,
                      report: Report | None = None) -> PassCultureHandler:  # fmt: skip
        """The handler for the hub in ``data_dir``, with its ``passculture.toml`` if any."""
        path, problem = data_dir / FILE_NAME, None
        settings = PassCultureSettings({})
        if path.exists():
            try:
                settings = load(path)
            except SettingsError as exc:
                problem = f"pass Culture is not set up: {exc}"
                log.error("%s", problem)
        connector = Connector(settings, clock or SystemClock())
        return cls(connector, db, client, signer, now, problem, report)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._inbox.put(None)
        self._thread.join(timeout=10)
        self.connector.close()

    def submit(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        """A signed, checked request from ``museum``/``gate`` (called by the hub's worker)."""
        self._inbox.put((museum, gate, body, None, 0))

    def submit_pending(self, museum: str, gate: str, record: dict[str, Any]) -> None:
        """A ``pending`` record of ``museum``/``gate``: validate it (once) when possible."""
        body = {
            "type": "passculture_validate", "museum": museum, "gate": gate,
            "issued_at": record["wall"], "request_id": record["uuid"].replace("-", ""),
            "action": "validate", "code": record["credential"], "operator": record["operator"],
        }  # fmt: skip
        self._inbox.put((museum, gate, body, record["seq"], 0))

    def resume_pending(self, entry: Any) -> int:
        """Queue again the pending records stored but not settled (the hub stopped before)."""
        t = self.table
        settled = {row.request_id for row in t.select(t.request_id)}
        count = 0
        rows = entry.select().where(entry.credential_kind == "passculture",
                                    entry.reason == "pending")  # fmt: skip
        for row in rows:
            if row.uuid.replace("-", "") not in settled:
                self.submit_pending(row.museum, row.gate, row.__data__)
                count += 1
        if count:
            log.info("pass Culture: %d code(s) queued at a desk still to validate", count)
        return count

    def wait_answered(self, count: int, timeout: float) -> bool:
        with self.answered_event:
            return self.answered_event.wait_for(lambda: self.answered >= count, timeout)

    # -- this module's thread -------------------------------------------------------

    def _work(self) -> None:
        while (item := self._next()) is not None:
            try:
                if item[3] is None:
                    self._answer(item[0], item[1], item[2])
                else:
                    self._settle_pending(item)
            except Exception:
                log.exception("pass Culture: request %s from %s/%s could not be answered",
                              item[2].get("request_id"), item[0], item[1])  # fmt: skip
            with self.answered_event:
                self.answered += 1
                self.answered_event.notify_all()

    def _next(self) -> _Item | None:
        """The next question, or a pending code whose retry is due (None: stop)."""
        while True:
            self._retries.sort(key=lambda due_item: due_item[0])
            if self._retries and self._retries[0][0] <= self.now():
                return self._retries.pop(0)[1]
            wait = (self._retries[0][0] - self.now()) if self._retries else None
            try:
                return self._inbox.get(timeout=wait)
            except queue.Empty:
                continue

    def _settle_pending(self, item: _Item) -> None:
        museum, gate, body, seq, attempt = item
        t = self.table
        if t.get_or_none(t.request_id == body["request_id"]) is not None:
            log.info("pass Culture: pending %s (%s/%s seq %s) already settled", body["code"],
                     museum, gate, seq)  # fmt: skip
            return
        if self.problem is not None:
            verdict = desk("not_configured", self.problem)  # fixed at a restart: kept till then
        else:
            verdict = self.connector.validate(body["code"], museum)
        if verdict.outcome == "desk" and verdict.reason != "uncertain":
            delay = PENDING_RETRY_S[min(attempt, len(PENDING_RETRY_S) - 1)]
            log.warning("pass Culture: pending %s (%s/%s seq %s): %s; trying again in %.0f s",
                        body["code"], museum, gate, seq, verdict.reason, delay)  # fmt: skip
            self._retries.append((self.now() + delay, (museum, gate, body, seq, attempt + 1)))
            return
        answer = self._answer_body(museum, gate, body, verdict)
        self._record(museum, gate, body, verdict, answer)
        log.info("pass Culture: pending %s of %s/%s seq %s: %s %s", body["code"], museum, gate,
                 seq, verdict.outcome, verdict.reason)  # fmt: skip
        if verdict.outcome != "admit":
            self.report(museum, gate, PROBLEM, seq, _visitor(body, verdict))

    def _answer(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        t = self.table
        seen = t.get_or_none(t.request_id == body["request_id"])
        if seen is not None:
            log.info("pass Culture: request %s answered before: same answer again",
                     body["request_id"])  # fmt: skip
            self._publish(museum, gate, json.loads(seen.answer))
            return
        verdict = self._decide(museum, body)
        answer = self._answer_body(museum, gate, body, verdict)
        validate(ANSWER, answer)
        self._record(museum, gate, body, verdict, answer)
        self._publish(museum, gate, answer)
        log.info("pass Culture: %s/%s %s %s: %s %s", museum, gate, body["action"], body["code"],
                 verdict.outcome, verdict.reason)  # fmt: skip

    def _decide(self, museum: str, body: dict[str, Any]) -> Verdict:
        if self.problem is not None:
            return desk("not_configured", self.problem)
        age = self.now() - body["issued_at"]
        if age > STALE_S:
            return desk("stale_request", f"asked {age:.0f} s ago: not sent to pass Culture")
        if body["action"] == "undo":
            if not body["operator"]:
                return refuse("no_operator", "only staff at the desk may undo a validation")
            return self.connector.undo(body["code"], museum)
        return self.connector.validate(body["code"], museum)

    def _answer_body(self, museum: str, gate: str, body: dict[str, Any],
                     verdict: Verdict) -> dict[str, Any]:  # fmt: skip
        return {
            "type": ANSWER, "museum": museum, "gate": gate, "issued_at": self.now(),
            "request_id": body["request_id"], "action": body["action"], "code": body["code"],
            "outcome": verdict.outcome, "reason": verdict.reason,
            "quantity": verdict.quantity, "message": verdict.message[:500],
        }  # fmt: skip

    def _record(self, museum: str, gate: str, body: dict[str, Any], verdict: Verdict,
                answer: dict[str, Any]) -> None:  # fmt: skip
        b = verdict.booking or {}
        with self.db.atomic():
            self.table.create(
                request_id=body["request_id"], museum=museum, gate=gate, code=body["code"],
                action=body["action"], operator=body["operator"], outcome=verdict.outcome,
                reason=verdict.reason, message=verdict.message, quantity=verdict.quantity,
                booking_id=b.get("id"), offer_id=b.get("offerId"), offer_name=b.get("offerName"),
                price_category=b.get("priceCategoryLabel"), price=b.get("price"),
                venue_id=b.get("venueId"), at_us=micros(answer["issued_at"]),
                answer=json.dumps(answer),
            )  # fmt: skip

    def _publish(self, museum: str, gate: str, answer: dict[str, Any]) -> None:
        topic = gate_topic(museum, gate, "down", ANSWER)
        self.client.publish(topic, self.signer.seal(answer), qos=1)


def _visitor(body: dict[str, Any], verdict: Verdict) -> str:
    """The problem's text: the code, who let the visitor in, when, and who the visitor is."""
    booking = verdict.booking or {}
    who = " ".join(str(booking[k]) for k in ("userFirstName", "userLastName")
                   if booking.get(k))  # fmt: skip
    email = booking.get("userEmail")
    visitor = f"{who} <{email}>" if who and email else who or email or "visitor unknown"
    when = datetime.fromtimestamp(body["issued_at"], UTC).isoformat(timespec="seconds")
    operator = body["operator"] or "nobody"
    return (
        f"pass Culture code {body['code']} accepted at the desk by {operator} at {when} "
        f"while the hub was away was refused by pass Culture: {verdict.reason} "
        f"({verdict.message}); visitor: {visitor}"
    )
