"""Gates ask the hub whether a Pass+ ticket pays; the hub's table answers, network-wide.

Pass+ has no API: a ticket is used once in the whole network only because
every redemption goes through this table (``number`` unique). A second use,
at any gate of any museum, is refused ``already_used`` and reported as a
problem naming the first use. Campaign dates are the hub's data
(``campaigns.py``). Runs on the hub's worker: a few rows, no network, fast.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import peewee

from firmware.protocol.messages import gate_topic, validate
from firmware.protocol.passplus import Campaign, Redemption, Refusal, Ticket, campaign_of, check
from hub.keys import HubSigner
from hub.passplus.campaigns import CampaignError, load
from hub.passplus.models import open_tables

log = logging.getLogger("portique.hub.passplus")

ANSWER = "passplus_answer"
PROBLEM = "passplus_second_use"
PARIS = ZoneInfo("Europe/Paris")

Report = Callable[[str, str, str, "int | None", str], None]


class PassPlusHandler:
    def __init__(self, db: peewee.Database, client: mqtt.Client, signer: HubSigner,
                 now: Callable[[], float], data_dir: Path, report: Report) -> None:  # fmt: skip
        self.client, self.signer, self.now, self.report = client, signer, now, report
        self.data_dir = data_dir
        self.used, self.refused = open_tables(db)

    def on_redeem(self, museum: str, gate: str, body: dict[str, Any]) -> None:
        """A signed, checked ``passplus_redeem`` from ``museum``/``gate``: answer it."""
        rid = body["request_id"]
        known = self.used.get_or_none(self.used.request_id == rid) or self.refused.get_or_none(
            self.refused.request_id == rid
        )
        if known is not None:
            self._publish(museum, gate, json.loads(known.answer))  # a repeat: same answer
            return
        outcome = self._decide(body)
        answer = self._answer(museum, gate, body, outcome)
        validate(ANSWER, answer)
        if isinstance(outcome, Redemption):
            try:
                self._store(museum, gate, body, outcome, answer)
            except peewee.IntegrityError:
                # Another gate's request for the same ticket won the row a moment before.
                outcome = Refusal("already_used", f"Pass+ ticket {body['number']} was already used")
                answer = self._answer(museum, gate, body, outcome)
        if isinstance(outcome, Refusal):
            self._refuse(museum, gate, body, outcome, answer)
        self._publish(museum, gate, answer)
        log.info("Pass+ %s at %s/%s: %s", body["number"], museum, gate, answer["reason"])

    def _decide(self, body: dict[str, Any]) -> Redemption | Refusal:
        try:
            generated_on = date.fromisoformat(body["generated_on"])
        except ValueError:
            return Refusal("bad_date", f"{body['generated_on']!r} is not a date")
        ticket = Ticket(body["number"], body["wallet"], body["amount_cents"], generated_on)
        today = datetime.fromtimestamp(self.now(), PARIS).date()
        return check(ticket, body["price_cents"], today, self._campaigns(today), _Seen(self.used))

    def _campaigns(self, today: date) -> list[Campaign]:
        # Read at every question, so a new campaign's dates need no restart.
        try:
            return load(self.data_dir, today)
        except CampaignError as exc:
            log.error("%s; Pass+ tickets are refused until it is fixed", exc)
            return []

    def _store(self, museum: str, gate: str, body: dict[str, Any], paid: Redemption,
               answer: dict[str, Any]) -> None:  # fmt: skip
        generated_on = date.fromisoformat(body["generated_on"])
        ticket = Ticket(body["number"], body["wallet"], body["amount_cents"], generated_on)
        campaign = campaign_of(ticket, self._campaigns(generated_on))
        with self.used._meta.database.atomic():
            self.used.create(
                number=body["number"], request_id=body["request_id"], museum=museum, gate=gate,
                operator=body["operator"], wallet=body["wallet"],
                amount_cents=body["amount_cents"], price_cents=body["price_cents"],
                pays_cents=paid.pays_cents, generated_on=body["generated_on"],
                campaign=campaign.name if campaign else "", at_us=_micros(answer["issued_at"]),
                answer=json.dumps(answer),
            )  # fmt: skip

    def _refuse(self, museum: str, gate: str, body: dict[str, Any], refusal: Refusal,
                answer: dict[str, Any]) -> None:  # fmt: skip
        self.refused.create(
            request_id=body["request_id"], museum=museum, gate=gate, number=body["number"],
            reason=refusal.code, at_us=_micros(answer["issued_at"]), answer=json.dumps(answer),
        )  # fmt: skip
        if refusal.code != "already_used":
            return
        first = self.used.get_or_none(self.used.number == body["number"])
        where = "elsewhere"
        if first is not None:
            when = datetime.fromtimestamp(first.at_us / 1e6, UTC).isoformat(timespec="seconds")
            where = f"at {first.museum}/{first.gate} by {first.operator} on {when}"
        self.report(museum, gate, PROBLEM, None,
                    f"Pass+ ticket {body['number']} presented again at {museum}/{gate} by "
                    f"{body['operator']}; it was used {where}")  # fmt: skip

    def _answer(self, museum: str, gate: str, body: dict[str, Any],
                outcome: Redemption | Refusal) -> dict[str, Any]:  # fmt: skip
        paid = isinstance(outcome, Redemption)
        return {
            "type": ANSWER, "museum": museum, "gate": gate, "issued_at": self.now(),
            "request_id": body["request_id"], "number": body["number"],
            "outcome": "redeemed" if paid else "refuse",
            "reason": "ok" if paid else outcome.code,
            "pays_cents": outcome.pays_cents if paid else 0,
            "remaining_cents": outcome.remaining_cents if paid else body["price_cents"],
            "message": ("" if paid else outcome.message)[:500],
        }  # fmt: skip

    def _publish(self, museum: str, gate: str, answer: dict[str, Any]) -> None:
        self.client.publish(gate_topic(museum, gate, "down", ANSWER), self.signer.seal(answer),
                            qos=1)  # fmt: skip


class _Seen:
    """The hub's table as the rules' ``SeenTickets``: network-wide."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def seen(self, number: str) -> bool:
        return self.table.select().where(self.table.number == number).exists()


def _micros(epoch_s: float) -> int:
    return round(epoch_s * 1_000_000)
