"""Validate a counter-mark with pass Culture for a museum: GET, then PATCH ``use``.

The connector answers within a deadline (1.5 s by default) whatever pass
Culture does: admit (for the booking's ``quantity`` people), refuse with a
stable reason mapped from the API's answer, or ``desk`` ("the desk will
check") when no certain answer came in time. It never sends ``use`` after the
deadline, never twice for one question, and reads the booking again when a
``use`` got no answer, so an uncertain validation is resolved rather than
guessed. Requests go through a token bucket per API key (200 a minute); a 429
holds that key for its Retry-After (or an exponential backoff).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from firmware.protocol.passculture import CodeError, normalise
from firmware.protocol.time import Clock
from hub.passculture.api import Answer, BookingsApi, MalformedAnswer, Unreachable, check_booking
from hub.passculture.ratelimit import TokenBucket
from hub.passculture.settings import MuseumAccount, PassCultureSettings

log = logging.getLogger("portique.hub.passculture")

ADMIT, REFUSE, DESK, UNDONE = "admit", "refuse", "desk", "undone"
# Reasons, stable (journal, screens, docs/passculture.md):
# refuse: bad_code, unknown, already_used, cancelled, reimbursed, not_yet_validatable,
#         wrong_venue, cannot_undo
# desk:   api_unavailable, deadline, rate_limited, uncertain, bad_api_key, malformed_answer,
#         invalid_request, not_configured
TRANSIENT = frozenset({500, 502, 503, 504})
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 60.0
CHECK_RESERVE_S = 0.3  # of the deadline, kept back from ``use`` to read the booking after it


@dataclass(frozen=True)
class Verdict:
    outcome: str  # admit, refuse, desk, undone
    reason: str  # "ok" when admitted or undone
    message: str  # for staff and the museum's log, never shown to a visitor as is
    quantity: int = 0  # people admitted (2 for a duo booking)
    booking: dict[str, Any] | None = None  # the booking as pass Culture sent it

    @property
    def admitted(self) -> bool:
        return self.outcome == ADMIT


class _Stop(Exception):
    """No answer can be had in time: carries the ``desk`` verdict to give instead."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict


def desk(reason: str, message: str) -> Verdict:
    return Verdict(DESK, reason, message)


def refuse(reason: str, message: str, booking: dict[str, Any] | None = None) -> Verdict:
    return Verdict(REFUSE, reason, message, booking=booking)


class Connector:
    def __init__(self, settings: PassCultureSettings, clock: Clock,
                 client: httpx.Client | None = None,
                 pause: Callable[[float], None] | None = None) -> None:  # fmt: skip
        """``pause(seconds)`` waits between attempts (a real wait by default; tests move
        their clock instead)."""
        self.settings, self.clock = settings, clock
        self._client = client or httpx.Client(http2=False, follow_redirects=False)
        self._pause = pause or threading.Event().wait
        self._buckets: dict[str, TokenBucket] = {}
        self._backoff: dict[str, float] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    # -- the two questions --------------------------------------------------------------

    def validate(self, code: str, museum: str, deadline_s: float | None = None) -> Verdict:
        """Validate ``code`` for ``museum``: GET the booking, check it, PATCH ``use``."""
        start = self.clock.monotonic()
        end = start + (self.settings.deadline_s if deadline_s is None else deadline_s)
        try:
            token = normalise(code)
        except CodeError as exc:
            return refuse("bad_code", str(exc))
        account = self.settings.museums.get(museum)
        if account is None:
            return desk("not_configured", f"museum {museum} has no pass Culture account on "
                        "this hub (passculture.toml)")  # fmt: skip
        api = BookingsApi(self._client, self.settings.base_url, account.api_key)
        try:
            return self._validate(api, account, token, end)
        except _Stop as stop:
            return stop.verdict

    def undo(self, code: str, museum: str, deadline_s: float | None = None) -> Verdict:
        """Cancel a validation made by mistake (PATCH ``keep``): the booking is CONFIRMED again."""
        end = self.clock.monotonic() + (
            self.settings.deadline_s if deadline_s is None else deadline_s
        )
        try:
            token = normalise(code)
        except CodeError as exc:
            return refuse("bad_code", str(exc))
        account = self.settings.museums.get(museum)
        if account is None:
            return desk("not_configured", f"museum {museum} has no pass Culture account")
        api = BookingsApi(self._client, self.settings.base_url, account.api_key)
        try:
            # Not repeatable: a second ``keep`` after a lost answer would be refused (403)
            # and hide that the first one worked.
            answer = self._send(account, api.keep, token, end, repeatable=False)
        except _Stop as stop:
            return stop.verdict
        if answer.status == 204:
            return Verdict(UNDONE, "ok", f"validation of {token} cancelled")
        if answer.status in (403, 410):
            return refuse("cannot_undo", f"{token}: pass Culture will not cancel this "
                          f"validation ({answer.detail() or answer.status})")  # fmt: skip
        return self._problem(answer, token, account)

    # -- validation, step by step ----------------------------------------------------

    def _validate(self, api: BookingsApi, account: MuseumAccount, token: str,
                  end: float) -> Verdict:  # fmt: skip
        booking = self._read(api, account, token, end)
        if isinstance(booking, Verdict):
            return booking
        try:
            # Keep time to read the booking again if ``use`` gets no answer.
            answer = self._send(account, api.use, token, end - self._reserve(end), repeatable=False)
        except _Stop as stop:
            if stop.verdict.reason != "uncertain":
                return stop.verdict
            answer = None
        if answer is None:
            # ``use`` may have reached pass Culture: the booking says whether it did.
            return self._after_uncertain_use(api, account, token, booking, end)
        if answer.status == 204:
            return self._admit(token, booking)
        return self._problem(answer, token, account)

    def _read(self, api: BookingsApi, account: MuseumAccount, token: str,
              end: float) -> dict[str, Any] | Verdict:  # fmt: skip
        answer = self._send(account, api.get, token, end, repeatable=True)
        if answer.status != 200:
            return self._problem(answer, token, account)
        try:
            booking = check_booking(answer.body)
        except MalformedAnswer as exc:
            log.error("pass Culture: %s: %s", token, exc)
            return desk("malformed_answer", f"{token}: {exc}")
        if booking["venueId"] not in account.venues:
            where = f"{booking['venueName']} (venue {booking['venueId']})"
            message = f"{token} is a booking at {where}, not at {account.museum}"
            return refuse("wrong_venue", message, booking)
        by_status = {"USED": "already_used", "CANCELLED": "cancelled", "REIMBURSED": "reimbursed"}
        if booking["status"] in by_status:
            return refuse(by_status[booking["status"]], f"{token}: booking is "
                          f"{booking['status']}", booking)  # fmt: skip
        if booking["quantity"] < 1:
            return desk("malformed_answer", f"{token}: quantity {booking['quantity']}")
        return booking

    def _reserve(self, end: float) -> float:
        return min(CHECK_RESERVE_S, max(0.0, end - self.clock.monotonic()) / 3)

    def _after_uncertain_use(self, api: BookingsApi, account: MuseumAccount, token: str,
                             booking: dict[str, Any], end: float) -> Verdict:  # fmt: skip
        try:
            again = self._send(account, api.get, token, end, repeatable=True)
        except _Stop:
            return desk("uncertain", f"{token}: validation sent, no answer: the desk checks "
                        "the booking (it may be USED)")  # fmt: skip
        if again.status == 410 and "booking_cancelled" not in again.detail_keys():
            # CONFIRMED a moment ago, USED now: our ``use`` went through.
            return self._admit(token, booking)
        if again.status == 200:
            return desk("uncertain", f"{token}: validation got no answer and the booking is "
                        "still CONFIRMED, but the request may yet arrive: the desk checks "
                        "the booking before trying again")  # fmt: skip
        return self._problem(again, token, account)

    def _admit(self, token: str, booking: dict[str, Any]) -> Verdict:
        quantity = booking["quantity"]
        return Verdict(ADMIT, "ok", f"{token} validated for {quantity}", quantity, booking)

    def _problem(self, answer: Answer, token: str, account: MuseumAccount) -> Verdict:
        """An answer other than success, mapped to a stable reason."""
        status, keys, detail = answer.status, answer.detail_keys(), answer.detail()
        if status == 404:
            return refuse("unknown", f"{token}: no such booking for {account.museum}'s venues")
        if status == 410:
            if "booking_cancelled" in keys:
                return refuse("cancelled", f"{token}: booking cancelled")
            return refuse("already_used", f"{token}: booking already validated ({detail})")
        if status == 403:
            if "payment" in keys:
                return refuse("reimbursed", f"{token}: booking already reimbursed")
            return refuse("not_yet_validatable", f"{token}: {detail or 'not validatable yet'}")
        if status == 401:
            log.error("pass Culture refused %s's API key (401): check passculture.toml",
                      account.museum)  # fmt: skip
            return desk("bad_api_key", f"pass Culture refused {account.museum}'s API key: "
                        "the museum must check its key in the hub's passculture.toml")  # fmt: skip
        if status == 422:
            return desk("invalid_request", f"{token}: pass Culture refused the request (422 "
                        f"{detail or answer.body!r})")  # fmt: skip
        if status == 200 or status == 204:
            return desk("malformed_answer", f"{token}: unexpected {status}")
        return desk("api_unavailable", f"{token}: pass Culture answered {status}")

    # -- sending, within the rate limit and the deadline --------------------------------

    def _bucket(self, api_key: str) -> TokenBucket:
        with self._lock:
            if api_key not in self._buckets:
                self._buckets[api_key] = TokenBucket(self.clock)
            return self._buckets[api_key]

    def _send(self, account: MuseumAccount, call: Callable[[str, float], Answer], token: str,
              end: float, repeatable: bool) -> Answer:  # fmt: skip
        """One request, retried while that is safe and time remains; or _Stop.

        ``repeatable`` calls (GET) are retried after any failure; ``use`` and ``keep`` only
        when it cannot have arrived (connection refused), and otherwise stops as
        ``uncertain`` for the caller to look.
        """
        bucket = self._bucket(account.api_key)
        backoff = FIRST_BACKOFF_S
        while True:
            self._wait_turn(bucket, end)
            try:
                answer = call(token, end - self.clock.monotonic())
            except Unreachable as exc:
                log.warning("pass Culture: %s", exc)
                if exc.sent and not repeatable:
                    raise _Stop(desk("uncertain", str(exc))) from None
                backoff = self._backoff_or_stop(backoff, end, "api_unavailable", str(exc))
                continue
            if answer.status == 429:
                wait = (
                    answer.retry_after
                    if answer.retry_after is not None
                    else self._next_hold(account.api_key)
                )
                bucket.hold(wait)
                log.warning("pass Culture: 429 for %s: holding requests %.1f s",
                            account.museum, wait)  # fmt: skip
                continue  # _wait_turn stops unless the hold ends before the deadline
            self._backoff.pop(account.api_key, None)
            if answer.status in TRANSIENT:
                if not repeatable:
                    raise _Stop(desk("uncertain", f"{token}: pass Culture answered "
                                     f"{answer.status} to the validation"))  # fmt: skip
                message = f"pass Culture answered {answer.status}"
                backoff = self._backoff_or_stop(backoff, end, "api_unavailable", message)
                continue
            return answer

    def _wait_turn(self, bucket: TokenBucket, end: float) -> None:
        while not bucket.take():
            wait = bucket.wait_needed()
            if self.clock.monotonic() + wait >= end:
                raise _Stop(desk("rate_limited", "pass Culture's rate limit: the desk will "
                                 f"check (next request possible in {wait:.1f} s)"))  # fmt: skip
            self._pause(wait)
        if self.clock.monotonic() >= end:
            raise _Stop(desk("deadline", "no answer from pass Culture in time: the desk "
                             "will check"))  # fmt: skip

    def _backoff_or_stop(self, backoff: float, end: float, reason: str, message: str) -> float:
        if self.clock.monotonic() + backoff >= end:
            raise _Stop(desk(reason, f"{message}: the desk will check"))
        self._pause(backoff)
        return backoff * 2

    def _next_hold(self, api_key: str) -> float:
        """429 without Retry-After: 1 s, then twice as long each time, at most a minute."""
        with self._lock:
            hold = min(MAX_BACKOFF_S, self._backoff.get(api_key, 0.5) * 2)
            self._backoff[api_key] = hold
            return hold
