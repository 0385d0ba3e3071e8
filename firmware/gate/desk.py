"""The staff functions of the gate's screen, run on the loop's thread.

The screen posts what a staff member asked for; this module checks that
someone is logged in with a role that allows it, does it through the same
admissions path as a tap, and answers with a view. Sessions, the PIN
lockout and the idle logout are state, so they live here, run on the
reactor by its injected clock, never in the screen.

A session opens with a staff member's name (typed, never listed) and PIN,
or with an access code from the central office (checked as `portique
provision` checks it, sharing its lockout and used codes); a code's session
ends at the code's expiry at the latest.

Staff screens never reach the public: a session ends after
``idle_logout_s`` without a staff touch, and at a visitor's tap. A tap
that is refused while staff are logged in leaves them ``refusal_actions_s``
(at least 20 s) to force an entry or read the information of exactly that
credential, nothing else; the next tap, or the end of that time, ends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware import access_state
from firmware.access import AccessCodeError
from firmware.access_state import Door
from firmware.counter.roles import session_functions
from firmware.events import (
    AccessCodeEntered,
    FiguresRequest,
    ForceEntry,
    PaperPass,
    PassInfoRequest,
    StaffActive,
    StaffDoor,
    StaffLogin,
    StaffLogout,
    StatusRequest,
    TypedPassNumber,
)
from firmware.gate.admissions import Admissions
from firmware.gate.decision import (
    Credential,
    CredentialKind,
    ForceReason,
    decide_forced,
    decide_paper_pass,
)
from firmware.gate.figures import DayRecord, count_day
from firmware.gate.passes import PassRecord, PassState, add_months
from firmware.gate.reactor import NEVER, Reactor
from firmware.gate.recorder import Recorder
from firmware.gate.staff import (
    ENTRIES,
    FIGURES,
    STATUS,
    LoginPace,
    PinGuard,
    Role,
    StaffError,
    StaffMember,
    find_member,
    hash_pin,
    load_staff,
    verify_pin,
)
from firmware.gate.timekeeping import Timekeeper
from firmware.gate.views import (
    AccessCodeRefused,
    LoginRefused,
    Outcome,
    PassInfo,
    StaffRoster,
    StaffSession,
    StatusView,
    Views,
)
from firmware.journal.journal import Journal
from firmware.store.store import PassStore

log = logging.getLogger("portique.staff")

# Checked when the typed name matches no account, so a wrong name costs the same
# time as a wrong PIN and the screen's answer says nothing about who exists.
_NOBODY = hash_pin("0000", salt=b"portique-nobody!")


class StaffDesk:
    """Staff sessions and functions; built by ``app.py``, its handlers run on the reactor."""

    def __init__(self, reactor: Reactor, *, gate: str, time: Timekeeper, admissions: Admissions,
                 store: PassStore, journal: Journal, recorder: Recorder, views: Views,
                 health: Callable[[], dict[str, Any]], staff_file: Path, idle_logout_s: float,
                 door: Door, refusal_actions_s: float = 30.0) -> None:  # fmt: skip
        self._reactor, self.gate, self._time = reactor, gate, time
        self._admissions, self._store, self._journal = admissions, store, journal
        self._recorder, self._views, self._health = recorder, views, health
        self.staff_file = staff_file
        self.door = door
        self.idle_logout_s = idle_logout_s
        self.refusal_actions_s = refusal_actions_s
        self.guards: dict[str, PinGuard] = {}  # per account name
        self.pace = LoginPace()
        self.member: StaffMember | None = None
        # Set after a visitor's refused tap: the only credential staff may act on now.
        self.scope: tuple[str, str] | None = None
        self._last_active = 0.0
        self._session = 0  # numbers sessions, so an old idle timer cannot end a new one
        for event_type, handler in (
            (StaffDoor, self._on_door),
            (StaffLogin, self._on_login),
            (AccessCodeEntered, self._on_access_code),
            (StaffLogout, lambda _event: self.logout("logged out")),
            (StaffActive, lambda _event: self._touch()),
            (ForceEntry, self._on_force),
            (TypedPassNumber, self._on_typed_number),
            (PaperPass, self._on_paper_pass),
            (PassInfoRequest, self._on_pass_info),
            (FiguresRequest, self._on_figures),
            (StatusRequest, self._on_status),
        ):
            reactor.register(event_type, lambda event, _t, handle=handler: handle(event))
        admissions.after_tap.append(self._after_visitor_tap)

    def _mono(self) -> float:
        return self._reactor.monotonic()

    def _staff(self) -> dict[str, StaffMember]:
        # Read at every door opening, so `portique staff add` needs no restart.
        try:
            return load_staff(self.staff_file)
        except StaffError as exc:
            log.error("%s; nobody can log in until it is fixed", exc)
            return {}

    # -- sessions ----------------------------------------------------------

    def _on_door(self, _event: StaffDoor) -> None:
        accounts = bool(self._staff())
        self._views.publish(StaffRoster(accounts, self.pace.wait_for(self._mono())))

    def _guard(self, name: str) -> PinGuard:
        return self.guards.setdefault(name, PinGuard())

    def _on_login(self, event: StaffLogin) -> None:
        mono = self._mono()
        member = find_member(self._staff(), event.name)
        guard = self._guard(member.name) if member else None
        locked = max(self.pace.wait_for(mono), guard.locked_for(mono) if guard else 0.0)
        if locked:
            log.warning("staff login as %r refused: locked for %.0f s", event.name, locked)
            self._views.publish(LoginRefused(event.name, locked))
            return
        if member is None or guard is None:
            verify_pin(event.pin, _NOBODY)
            self._refuse_login(event.name, "no such account", self.pace.failed(mono))
            return
        if not verify_pin(event.pin, member.pin_hash):
            locked = max(guard.failed(mono), self.pace.failed(mono))
            self._refuse_login(event.name, f"wrong PIN ({guard.failures} in a row)", locked)
            return
        guard.succeeded()
        self.pace.succeeded()
        self._open(member)

    def _refuse_login(self, name: str, why: str, locked: float) -> None:
        lock = f", locked for {locked:.0f} s" if locked else ""
        log.warning("staff login as %r refused: %s%s", name, why, lock)
        # The same answer for an unknown name and a wrong PIN: nothing about who exists.
        self._views.publish(LoginRefused(name, locked))

    def _on_access_code(self, event: AccessCodeEntered) -> None:
        now = self._time.now()
        try:
            code = access_state.attempt(self.door, event.text, now, self._recorder.record,
                                        opened="staff_session")  # fmt: skip
        except AccessCodeError as exc:
            log.warning("access code refused on the screen (%s): %s", exc.code, exc)
            self._views.publish(AccessCodeRefused(exc.code, exc.wait_s))
            return
        role = Role(code.role)
        self._open(StaffMember(role.value, role), ends_in=code.expires_at - now.wall)

    def _open(self, member: StaffMember, ends_in: float | None = None) -> None:
        """Log ``member`` in until the idle logout or, for a code, ``ends_in`` seconds."""
        self.member, self.scope = member, None
        self._session += 1
        log.info("staff %s logged in (%s)", member.name, member.role)
        self._touch()
        self._schedule_idle_check(self.idle_logout_s)
        if ends_in is not None:
            session = self._session
            self._reactor.schedule(ends_in, lambda _t: self._code_expired(session))
        functions = session_functions(member.role)
        self._views.publish(StaffSession(member.name, member.role.value, functions))

    def logout(self, why: str) -> None:
        if self.member is not None:
            log.info("staff %s %s", self.member.name, why)
        self.member, self.scope = None, None
        self._views.publish(StaffSession())

    def _after_visitor_tap(self, outcome: Outcome) -> None:
        """A visitor tapped: the staff screens end, but for a refusal's own actions a while."""
        member = self.member
        if member is None:
            return
        if self.scope is not None or outcome.admitted or not outcome.stored:
            self.logout("logged out: a visitor tapped")
            return
        self.scope = (outcome.credential_kind, outcome.credential)
        self._session += 1  # the old idle timer is done; this one ends the refusal's actions
        session = self._session
        log.info("staff %s may act on refused %s %s for %.0f s", member.name,
                 *self.scope, self.refusal_actions_s)  # fmt: skip
        self._reactor.schedule(self.refusal_actions_s, lambda _t: self._scope_over(session))
        self._views.publish(StaffSession(member.name, member.role.value,
                                         session_functions(member.role), self.scope))  # fmt: skip

    def _scope_over(self, session: int) -> None:
        if self.member is not None and session == self._session:
            self.logout("logged out: the time to act on the refusal is over")

    def _code_expired(self, session: int) -> None:
        if self.member is not None and session == self._session:
            self.logout("logged out: the access code expired")

    def _touch(self) -> None:
        self._last_active = self._mono()

    def _schedule_idle_check(self, delay: float) -> None:
        session = self._session
        self._reactor.schedule(delay, lambda eventtime: self._idle_check(session, eventtime))

    def _idle_check(self, session: int, eventtime: float) -> float | None:
        if self.member is None or session != self._session or self.scope is not None:
            return NEVER
        idle = eventtime - self._last_active
        if idle >= self.idle_logout_s:
            self.logout(f"logged out after {self.idle_logout_s:.0f} s without a touch")
            return NEVER
        return eventtime + self.idle_logout_s - idle

    def _allowed(
        self, function: str, what: str, credential: tuple[str, str] | None = None
    ) -> StaffMember | None:
        """The member logged in, if their role allows ``function``; counts as activity.

        After a visitor's refused tap only that credential may be acted on.
        """
        member = self.member
        refused = member is None or function not in session_functions(member.role)
        if not refused and self.scope is not None and credential != self.scope:
            refused = True
            log.warning("staff function %s refused: only %s %s may be acted on now", what,
                        *self.scope)  # fmt: skip
        if refused:
            who = f"{member.name} ({member.role})" if member else "nobody logged in"
            log.warning("staff function %s refused: %s", what, who)
            self._views.publish(
                StaffSession(
                    member.name, member.role.value, session_functions(member.role), self.scope
                )
                if member
                else StaffSession()
            )
            return None
        self._touch()
        return member

    # -- entries -----------------------------------------------------------

    def _on_force(self, event: ForceEntry) -> None:
        shown = (event.credential_kind, event.credential)
        member = self._allowed(ENTRIES, "forced entry", shown)
        if member is None:
            return
        if event.reason not in set(ForceReason):
            log.error("forced entry by %s refused: no valid reason (%r)", member.name, event.reason)
            return
        now = self._time.now()
        credential = Credential(event.credential_kind, event.credential)
        record = self._lookup(credential)
        history = self._admissions.history(record.pass_number if record else None, now)
        decision = decide_forced(record, history)
        self._admissions.carry_out(credential, decision, now, member.name, event.reason,
                                   children=event.children)  # fmt: skip

    def _on_typed_number(self, event: TypedPassNumber) -> None:
        member = self._allowed(ENTRIES, "typed pass number")
        if member is not None:
            number = event.number.strip()
            record = self._store.lookup_number(number)
            self._admissions.present(Credential(CredentialKind.NUMBER, number), record, member.name,
                                     children=event.children)  # fmt: skip

    def _on_paper_pass(self, event: PaperPass) -> None:
        member = self._allowed(ENTRIES, "paper pass")
        if member is not None:
            now = self._time.now()
            number = event.number.strip()
            admissions = self._admissions
            decision = decide_paper_pass(number, admissions.moment(now), admissions.rules)
            admissions.carry_out(Credential(CredentialKind.PAPER, number), decision, now,
                                 member.name, children=event.children)  # fmt: skip

    def _lookup(self, credential: Credential) -> PassRecord | None:
        if credential.kind is CredentialKind.CHIP:
            return self._store.lookup(credential.value)
        if credential.kind is CredentialKind.NUMBER:
            return self._store.lookup_number(credential.value)
        return None

    def _on_pass_info(self, event: PassInfoRequest) -> None:
        shown = (event.credential_kind, event.credential)
        if self._allowed(ENTRIES, "pass information", shown) is None:
            return
        credential = Credential(event.credential_kind, event.credential.strip())
        record = self._lookup(credential)
        if record is None:
            self._views.publish(PassInfo(credential.kind, credential.value, found=False))
            return
        today = self._time.date(self._time.now())
        window = add_months(today, self._admissions.rules.renewal_window_months)
        expires = record.expires_on
        self._views.publish(
            PassInfo(
                credential.kind, credential.value, found=True,
                pass_number=record.pass_number, id_number=record.id_number,
                pass_type=record.pass_type.code, persons=record.pass_type.persons,
                children=record.pass_type.children, state=record.state.value,
                activated_on=record.activated_on, valid_until=expires,
                renewal_possible=record.state is PassState.ACTIVE
                and expires is not None and expires < window,  # expired ones too: at the desk
                expired=expires is not None and expires < today,
                last_entry_wall=self._journal.last_admitted_wall(record.pass_number, self.gate),
            )
        )  # fmt: skip

    # -- figures and status ------------------------------------------------

    def _on_figures(self, _event: FiguresRequest) -> None:
        if self._allowed(FIGURES, "today's figures") is None:
            return
        today = self._time.date(self._time.now())
        rows = self._journal.day_records(today.isoformat())
        self._views.publish(count_day(today, (DayRecord(*row) for row in rows), self._time.zone))

    def _on_status(self, _event: StatusRequest) -> None:
        if self._allowed(STATUS, "status") is not None:
            self._views.publish(self.status_view())

    def status_view(self) -> StatusView:
        """The staff's status screen: a rendering of the gate's one health snapshot."""
        return StatusView.from_health(self._health(), self._time.now().wall)
