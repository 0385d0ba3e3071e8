"""Pass+ tickets at the desk: staff enter one, the hub says whether it pays, and how much.

Pass+ has no API; a ticket is used once network-wide because the hub's table
(``hub/passplus``) is asked every time. The gate refuses at once what it can
judge alone (a sport ticket, a nil amount, a ticket it has already taken),
then asks the hub with a signed ``passplus_redeem`` and waits
``[passculture] answer_timeout_s``. No answer, or no hub: refused, "try again"
(a ticket accepted without the hub could be used twice). Every answer is
journaled (kind ``passplus``), what it pays in its detail.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from firmware.events import PassPlusAnswered, PassPlusTicket
from firmware.gate.reactor import NEVER, Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.timekeeping import Timekeeper
from firmware.journal.journal import Entry, Journal
from firmware.passplus.rules import WALLETS

log = logging.getLogger("portique.passplus")

KIND = "passplus"  # the records' kind and credential_kind
REDEEMED = "redeemed"
MAX_NUMBER = 40


@dataclass(frozen=True)
class PassPlusOutcome:
    """What became of a Pass+ ticket, for the screen: ``waiting``, ``redeemed`` or ``refuse``."""

    outcome: str
    reason: str
    number: str
    pays_cents: int = 0
    remaining_cents: int = 0
    message: str = ""


@dataclass
class _Asked:
    request: dict[str, Any]


class PassPlus:
    def __init__(self, reactor: Reactor, *, where: tuple[str, str], time: Timekeeper,
                 journal: Journal, recorder: Recorder, publish: Callable[[object], None],
                 operator: Callable[[], str | None], answer_timeout_s: float) -> None:  # fmt: skip
        self._reactor, self._time, self._journal, self._recorder = reactor, time, journal, recorder
        self.museum, self.gate = where
        self._publish, self._operator, self.timeout_s = publish, operator, answer_timeout_s
        self.send: Callable[[dict[str, Any]], None] | None = None  # set with the sync link
        self.online: Callable[[], bool] = lambda: False
        self._asked: dict[str, _Asked] = {}
        reactor.register(PassPlusTicket, lambda e, _t: self._on_ticket(e))
        reactor.register(PassPlusAnswered, lambda e, _t: self._on_answer(e.body))

    def _on_ticket(self, ticket: PassPlusTicket) -> None:
        number = ticket.number.strip().upper()
        operator = self._operator()
        refusal = self._local_refusal(ticket, number, operator)
        if refusal is not None:
            self._show(PassPlusOutcome("refuse", refusal[0], number, message=refusal[1]))
            if refusal[0] == "already_used":
                self._record(number, operator, "already_used", {"message": refusal[1]})
            return
        if self.send is None or not self.online():
            message = "the hub cannot be reached: a Pass+ ticket needs it (used once network-wide)"
            self._record(number, operator, "hub_offline", {"message": message})
            self._show(PassPlusOutcome("refuse", "hub_offline", number, message=message))
            return
        body = {
            "type": "passplus_redeem", "museum": self.museum, "gate": self.gate,
            "issued_at": self._time.now().wall, "request_id": uuid.uuid4().hex,
            "number": number, "wallet": ticket.wallet.strip().lower(),
            "amount_cents": ticket.amount_cents, "generated_on": ticket.generated_on,
            "price_cents": ticket.price_cents, "operator": operator,
        }  # fmt: skip
        rid = body["request_id"]
        self._asked[rid] = _Asked(body)
        self.send(body)
        self._reactor.schedule(self.timeout_s, lambda t: self._timeout(rid, t))
        self._show(PassPlusOutcome("waiting", "asked", number))

    def _local_refusal(self, ticket: PassPlusTicket, number: str,
                       operator: str | None) -> tuple[str, str] | None:  # fmt: skip
        """What the gate can refuse without the hub: (code, message), or None."""
        if operator is None:
            return "staff_only", "only staff at the desk take Pass+ tickets"
        if not (4 <= len(number) <= MAX_NUMBER) or not number.replace("-", "").isalnum():
            return "bad_number", f"{number[:MAX_NUMBER]!r} is not a Pass+ ticket number"
        wallet = ticket.wallet.strip().lower()
        if wallet == "sport":
            return "sport_wallet", "a Pass+ sport ticket cannot pay at a museum: only culture"
        if wallet not in WALLETS:
            return "unknown_wallet", f"Pass+ has no {ticket.wallet!r} wallet"
        if not 0 < ticket.amount_cents <= 100_000 or not 0 <= ticket.price_cents <= 1_000_000:
            return "bad_amount", "the ticket's amount or the price is not possible"
        try:
            date.fromisoformat(ticket.generated_on)
        except ValueError:
            return "bad_date", f"{ticket.generated_on!r} is not a date"
        if self._taken_here(number):
            return "already_used", f"Pass+ ticket {number} was already taken at this desk"
        return None

    def _taken_here(self, number: str) -> bool:
        r = self._journal.models.record
        return r.select().where(r.kind == KIND, r.credential == number,
                                r.reason == REDEEMED).exists()  # fmt: skip

    def _timeout(self, rid: str, _eventtime: float) -> float | None:
        asked = self._asked.pop(rid, None)
        if asked is not None:
            number = asked.request["number"]
            message = "the hub did not answer in time: try again"
            self._record(number, asked.request["operator"], "no_answer", {"message": message})
            self._show(PassPlusOutcome("refuse", "no_answer", number, message=message))
        return NEVER

    def _on_answer(self, answer: dict[str, Any]) -> None:
        asked = self._asked.pop(answer["request_id"], None)
        if asked is None or asked.request["number"] != answer["number"]:
            if answer["outcome"] == REDEEMED:
                # Paid at the hub after the desk gave up: the desk must know, so journal it.
                log.warning("Pass+ %s redeemed after the timeout: journaled", answer["number"])
                self._record(answer["number"], None, "late_answer", _paid(answer))
            return
        body = asked.request
        reason = REDEEMED if answer["outcome"] == REDEEMED else answer["reason"]
        detail = _paid(answer) | {"wallet": body["wallet"], "amount_cents": body["amount_cents"],
                                  "price_cents": body["price_cents"]}  # fmt: skip
        stored = self._record(body["number"], body["operator"], reason, detail)
        if stored is None and reason == REDEEMED:
            log.error("Pass+ %s redeemed at the hub but not journaled here", body["number"])
        self._show(PassPlusOutcome(answer["outcome"], answer["reason"], body["number"],
                                   answer["pays_cents"], answer["remaining_cents"],
                                   answer["message"]))  # fmt: skip

    def _record(self, number: str, operator: str | None, reason: str,
                 detail: dict[str, Any]) -> int | None:  # fmt: skip
        now = self._time.now()
        return self._recorder.record(Entry(
            kind=KIND, wall=now.wall, monotonic=now.monotonic, time_trusted=now.trusted,
            day=self._time.day(now), museum=self.museum, gate=self.gate, credential_kind=KIND,
            credential=number[:MAX_NUMBER], admitted=False, reason=reason, operator=operator,
            detail=json.dumps(detail, sort_keys=True, separators=(",", ":")),
        ))  # fmt: skip

    def _show(self, outcome: PassPlusOutcome) -> None:
        self._publish(outcome)


def _paid(answer: dict[str, Any]) -> dict[str, Any]:
    return {"pays_cents": answer["pays_cents"], "remaining_cents": answer["remaining_cents"],
            "message": answer["message"]}  # fmt: skip
