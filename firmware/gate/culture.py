"""pass Culture counter-marks at the gate and the desk: ask the hub, never hold the gate.

A code comes from the keypad (a visitor at the gate, staff at the desk) or the
scanner. The gate never talks to pass Culture: it sends a signed
``passculture_validate`` through the sync link and waits, on a reactor timer,
``[passculture] answer_timeout_s`` (1.5 s) for the hub's signed answer:

- **admit** for ``quantity`` people: one journal record per person, all
  committed before the relay opens for all of them;
- **refuse** with the reason the hub mapped from pass Culture (``unknown``,
  ``already_used``, ``cancelled``, ``reimbursed``, ...), journaled;
- **desk**, or no answer in time: "the desk will check", journaled with why
  (the museum reads the hub's message, e.g. a bad API key; the visitor does not).

The hub out of reach: "please see the desk", or at the desk only, by staff
decision when ``offline = "queue"``, the code is journaled ``pending``
(admitted, like any record it reaches the hub, which validates it then).
An answer that comes after the timeout is journaled too (``late_answer``), so
the desk knows a booking was validated for a visitor who was sent to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firmware.config import PassCultureSettings
from firmware.events import PassCultureAnswered, PassCultureCode, PassCultureUndo, ScannerRead
from firmware.gate.outputs import Outputs
from firmware.gate.passages import Grant, Passages
from firmware.gate.reactor import NEVER, Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.timekeeping import Timekeeper
from firmware.journal.journal import Entry
from firmware.passculture import ask
from firmware.passculture.codes import CodeError, normalise, parse_scan

log = logging.getLogger("portique.passculture")

KIND = "passculture"  # the records' credential_kind
MAX_PERSONS = 10  # a booking's quantity beyond this is not believed (pass Culture sells duos)

# Reasons the gate itself gives (the hub's come from hub/passculture/connector.py).
OFFLINE = "hub_offline"  # no broker: please see the desk
PENDING = "pending"  # queued at the desk; the hub validates it when it can
NO_ANSWER = "no_answer"  # the hub did not answer within the timeout: the desk will check
LATE = "late_answer"  # the hub's answer after the timeout (journaled for the desk)
STAFF_ONLY = "staff_only"  # undo or queue without a staff session
NOT_ENABLED = "not_enabled"
BUSY = "already_asked"  # the same code is being asked (a double scan)


@dataclass(frozen=True)
class CultureOutcome:
    """What became of one pass Culture code, for the screen.

    ``outcome``: ``waiting`` (asked, no answer yet), ``admit``, ``refuse``,
    ``desk`` (the desk will check), ``pending`` (queued at the desk),
    ``undone``. ``message`` is for staff at the desk only; the visitor's
    words come from ``reason``.
    """

    outcome: str
    reason: str
    code: str | None
    persons: int = 0
    at_desk: bool = False
    message: str = ""
    stored: bool = True


@dataclass
class _Question:
    request: dict[str, Any]
    at_desk: bool
    deadline: float


class Culture:
    """Owns pass Culture questions in flight; built by ``app.py``, runs on the reactor."""

    def __init__(self, reactor: Reactor, *, where: tuple[str, str],
                 settings: PassCultureSettings, time: Timekeeper, recorder: Recorder,
                 outputs: Outputs, passages: Passages, publish: Callable[[object], None],
                 operator: Callable[[], str | None],
                 list_version: Callable[[], int]) -> None:  # fmt: skip
        self._reactor, self.settings, self._time = reactor, settings, time
        self.museum, self.gate = where
        self._recorder, self._outputs, self._passages = recorder, outputs, passages
        self._publish, self._operator, self._list_version = publish, operator, list_version
        # Set when the sync link is attached (``app._attach_sync``): how to ask the hub,
        # and whether the broker is there to carry the question now.
        self.send: Callable[[dict[str, Any]], None] | None = None
        self.online: Callable[[], bool] = lambda: False
        self._asked: dict[str, _Question] = {}
        self._late: dict[str, _Question] = {}  # timed out: an answer is still journaled
        self.counts: dict[str, int] = {}
        reactor.register(PassCultureCode, lambda e, _t: self._on_code(e.text, e.at_desk))
        reactor.register(PassCultureUndo, lambda e, _t: self._on_undo(e.text))
        reactor.register(ScannerRead, lambda e, _t: self._on_scan(e))
        reactor.register(PassCultureAnswered, lambda e, _t: self._on_answer(e.body))

    # -- input ------------------------------------------------------------------------

    def _on_code(self, text: str, at_desk: bool) -> None:
        try:
            code = normalise(text)
        except CodeError as exc:
            self._refuse_input(exc, at_desk)
            return
        self._submit(code, at_desk=at_desk)

    def _on_scan(self, event: ScannerRead) -> None:
        # Staff logged in at the screen scan at the desk; otherwise a visitor scans.
        at_desk = self._operator() is not None
        try:
            if event.cut:
                raise CodeError("too_long", "the scanner sent a burst longer than any code")
            scanned = parse_scan(event.data)
        except CodeError as exc:
            log.info("scanner %s: %s (%s)", event.source, exc.code, exc)
            self._refuse_input(exc, at_desk)
            return
        self._submit(scanned.code, at_desk=at_desk)

    def _on_undo(self, text: str) -> None:
        operator = self._operator()
        try:
            code = normalise(text)
        except CodeError as exc:
            self._refuse_input(exc, at_desk=True)
            return
        if operator is None:
            self._show("refuse", STAFF_ONLY, code, at_desk=True)
            return
        if not self._can_ask():
            self._show("refuse", OFFLINE, code, at_desk=True)
            return
        self._ask(code, "undo", operator, at_desk=True)

    def _refuse_input(self, exc: CodeError, at_desk: bool) -> None:
        # Nothing identifies a visitor in what was refused here: shown, not journaled.
        self._count(exc.code)
        self._outputs.signal_refusal()
        self._show("refuse", exc.code, None, at_desk=at_desk, message=str(exc))

    # -- asking -----------------------------------------------------------------------

    def _can_ask(self) -> bool:
        return self.send is not None and self.online()

    def _submit(self, code: str, at_desk: bool) -> None:
        operator = self._operator() if at_desk else None
        if at_desk and operator is None:
            self._show("refuse", STAFF_ONLY, code, at_desk=True)
            return
        if not self.settings.enabled:
            self._journal_refusal(code, NOT_ENABLED, operator, at_desk)
            return
        if any(q.request["code"] == code for q in self._asked.values()):
            self._show("waiting", BUSY, code, at_desk=at_desk)  # a double scan: asked once
            return
        if self._can_ask():
            self._ask(code, "validate", operator, at_desk)
        elif at_desk and self.settings.offline == "queue":
            self._queue(code, operator)
        else:
            self._journal_refusal(code, OFFLINE, operator, at_desk)

    def _ask(self, code: str, action: str, operator: str | None, at_desk: bool) -> None:
        assert self.send is not None
        body = ask.request(self.museum, self.gate, code, self._time.now().wall, action, operator)
        timeout = self.settings.answer_timeout_s
        question = _Question(body, at_desk, self._reactor.monotonic() + timeout)
        self._asked[body["request_id"]] = question
        self.send(body)
        rid = body["request_id"]
        self._reactor.schedule(timeout, lambda t: self._timeout(rid, t))
        self._show("waiting", "asked", code, at_desk=at_desk)

    def _timeout(self, request_id: str, _eventtime: float) -> float | None:
        question = self._asked.pop(request_id, None)
        if question is not None:
            self._late[request_id] = question
            body = question.request
            log.warning("pass Culture %s: no answer from the hub within %.1f s: the desk "
                        "will check", body["code"], self.settings.answer_timeout_s)  # fmt: skip
            self._journal_refusal(body["code"], NO_ANSWER, body["operator"], question.at_desk,
                                  outcome="desk")  # fmt: skip
        return NEVER

    # -- the hub's answer ---------------------------------------------------------------

    def _on_answer(self, answer: dict[str, Any]) -> None:
        rid = answer["request_id"]
        question = self._asked.pop(rid, None)
        late = question is None
        if late:
            question = self._late.pop(rid, None)
        if question is None:
            log.warning("pass Culture: an answer to request %s, which this gate did not ask "
                        "(or already has): ignored", rid)  # fmt: skip
            return
        asked = question.request
        if (answer["code"], answer["action"]) != (asked["code"], asked["action"]):
            log.error("pass Culture: the answer to %s is about %s %s, not %s %s: ignored", rid,
                      answer["action"], answer["code"], asked["action"], asked["code"])  # fmt: skip
            return
        if late:
            self._journal_late(asked, answer)
        elif answer["outcome"] == "admit":
            self._admit(asked, answer, question.at_desk)
        elif answer["outcome"] == "undone":
            self._journal(asked["code"], "undone", asked["operator"], admitted=False,
                          detail=answer["message"])  # fmt: skip
            self._show("undone", "undone", asked["code"], at_desk=True, message=answer["message"])
        else:
            if answer["outcome"] == "desk":
                # The museum's problem (a bad API key, pass Culture down), not the visitor's.
                log.warning("pass Culture %s: the desk will check: %s (%s)", asked["code"],
                            answer["reason"], answer["message"])  # fmt: skip
            self._journal_refusal(asked["code"], answer["reason"], asked["operator"],
                                  question.at_desk, outcome=answer["outcome"],
                                  message=answer["message"])  # fmt: skip

    def _admit(self, asked: dict[str, Any], answer: dict[str, Any], at_desk: bool) -> None:
        code, operator = asked["code"], asked["operator"]
        persons = max(1, min(int(answer["quantity"]), MAX_PERSONS))
        seqs = []
        for person in range(1, persons + 1):
            seq = self._journal(code, "passculture", operator, admitted=True,
                                detail=f"person {person} of {persons}")  # fmt: skip
            if seq is None:
                # Validated at pass Culture, but the gate cannot record it: it stays shut.
                log.error("pass Culture %s validated for %d but not recorded: the gate stays "
                          "shut, the desk must let them in", code, persons)  # fmt: skip
                self._show("admit", "ok", code, persons=0, at_desk=at_desk, stored=False)
                return
            seqs.append(seq)
        self._count("ok")
        self._outputs.open_for(persons)
        self._passages.expect(Grant(seqs[0], persons, KIND, code, None))
        log.info("pass Culture %s ADMIT %d [seq %s]", code, persons, ",".join(map(str, seqs)))
        self._show("admit", "ok", code, persons=persons, at_desk=at_desk,
                   message=answer["message"])  # fmt: skip

    def _queue(self, code: str, operator: str | None) -> None:
        # Staff decided: the visitor goes in; the hub validates the code when it can.
        seq = self._journal(code, PENDING, operator, admitted=True,
                            detail="queued at the desk while the hub was unreachable")  # fmt: skip
        if seq is None:
            self._show("pending", PENDING, code, at_desk=True, stored=False)
            return
        self._count(PENDING)
        self._outputs.open_for(1)
        self._passages.expect(Grant(seq, 1, KIND, code, None))
        log.info("pass Culture %s queued by %s while the hub is away [seq %d]", code, operator, seq)
        self._show("pending", PENDING, code, persons=1, at_desk=True)

    def _journal_late(self, asked: dict[str, Any], answer: dict[str, Any]) -> None:
        detail = f"{answer['outcome']} {answer['reason']} x{answer['quantity']} after the timeout"
        log.warning("pass Culture %s: late answer (%s): the desk must check", asked["code"], detail)
        self._journal(asked["code"], LATE, asked["operator"], admitted=False, detail=detail)

    def _journal_refusal(self, code: str, reason: str, operator: str | None, at_desk: bool,
                         outcome: str = "refuse", message: str = "") -> None:  # fmt: skip
        seq = self._journal(code, reason, operator, admitted=False, detail=message or None)
        self._count(reason)
        self._outputs.signal_refusal()
        shown = "desk" if reason in (OFFLINE, NO_ANSWER) else outcome
        self._show(shown, reason, code, at_desk=at_desk, message=message, stored=seq is not None)

    # -- records, views, status -----------------------------------------------------------

    def _journal(self, code: str, reason: str, operator: str | None, *, admitted: bool,
                 detail: str | None) -> int | None:  # fmt: skip
        now = self._time.now()
        entry = Entry(
            kind="decision", wall=now.wall, monotonic=now.monotonic, time_trusted=now.trusted,
            day=self._time.day(now), museum=self.museum, gate=self.gate, credential_kind=KIND,
            credential=code, admitted=admitted, reason=reason,
            list_version=self._list_version(), operator=operator,
            detail=detail[:500] if detail else None,
        )  # fmt: skip
        return self._recorder.record(entry)

    def _show(self, outcome: str, reason: str, code: str | None, *, persons: int = 0,
              at_desk: bool = False, message: str = "", stored: bool = True) -> None:  # fmt: skip
        self._publish(CultureOutcome(outcome, reason, code, persons, at_desk, message, stored))

    def _count(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
