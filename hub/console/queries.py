"""Everything the console reads from the hub's tables, in one place.

The pages never touch ``hub.models`` directly: when the hub's tables change
(time columns, gate incarnations, quarantined records), this module is the one
to adapt. ``museum`` None means every museum (an office administrator).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import peewee

from firmware.protocol.version import newer
from hub import releases as releases_
from hub.models import HubModels

# Silent longer than three default status intervals: online by its last word, but
# worth a look (the broker's last will says "offline" only once it notices).
SILENT_S = 180.0


def _in(column: Any, museum: str | None) -> Any:
    return True if museum is None else column == museum


def museums(m: HubModels) -> list[str]:
    g = m.gate_key
    return [name for (name,) in g.select(g.museum).distinct().order_by(g.museum).tuples()]


def gates_of(m: HubModels, museum: str | None) -> list[tuple[str, str]]:
    g = m.gate_key
    query = g.select(g.museum, g.gate).where(_in(g.museum, museum)).order_by(g.museum, g.gate)
    return list(query.tuples())


# -- gates --------------------------------------------------------------------------


@dataclass(frozen=True)
class GateView:
    museum: str
    gate: str
    key_id: str
    online: bool
    seen_at: float | None
    epoch: str | None  # the gate's current journal (incarnation); a new one per provisioning
    stored_seq: int
    backlog: int | None
    list_version: int | None
    list_age_s: float | None
    software: str | None
    reader_up: bool | None
    reader_detail: str
    journal_ok: bool | None
    time_trusted: bool | None
    open_problems: int
    troubles: tuple[str, ...] = field(default=())
    latest: str | None = None  # the office's newest release, when this gate runs an older one

    @property
    def healthy(self) -> bool:
        return self.online and not self.troubles


def gate_views(m: HubModels, museum: str | None, now: float) -> list[GateView]:
    """Every registered gate with its last status and what is wrong with it."""
    g, p, pr, j = m.gate_key, m.progress, m.problem, m.incarnation
    progress = {(row.museum, row.gate): row for row in p.select().where(_in(p.museum, museum))}
    journals: dict[tuple[str, str], Any] = {}
    # The newest journal of each gate last, so it is the one kept.
    for row in j.select().where(_in(j.museum, museum)).order_by(j.first_seen_at, j.id):
        journals[(row.museum, row.gate)] = row
    software = releases_.software_of(m, museum)
    notice = releases_.latest_notice(m)
    problems = Counter(
        (row.museum, row.gate)
        for row in pr.select(pr.museum, pr.gate).where(~pr.resolved, _in(pr.museum, museum))
    )
    views = []
    for key in g.select().where(_in(g.museum, museum)).order_by(g.museum, g.gate):
        row = progress.get((key.museum, key.gate))
        status: dict[str, Any] = json.loads(row.status) if row and row.status else {}
        seen = row.seen_at if row and row.seen_at else None
        online = bool(row and row.online)
        silent = online and (seen is None or now - seen > SILENT_S)
        view = _gate_view(key, row, journals.get((key.museum, key.gate)), status, online,
                          silent, seen, problems[(key.museum, key.gate)],
                          software.get((key.museum, key.gate)))  # fmt: skip
        if notice is not None and view.software and newer(notice.version, view.software):
            # Runs an older version than the office's latest notice announced.
            view = replace(view, troubles=(*view.troubles, "software"), latest=notice.version)
        views.append(view)
    return views


def _gate_view(key: Any, row: Any, journal: Any, status: dict[str, Any], online: bool,
               silent: bool, seen: float | None, open_problems: int,
               software: str | None) -> GateView:  # fmt: skip
    troubles = ["silent"] if silent else []
    if status.get("reader_up") is False:
        troubles.append("reader")
    if status.get("journal_ok") is False:
        troubles.append("journal")
    if status.get("time_trusted") is False:
        troubles.append("clock")
    if open_problems:
        troubles.append("problems")
    return GateView(
        museum=key.museum, gate=key.gate, key_id=key.key_id, online=online, seen_at=seen,
        epoch=journal.epoch if journal else None,
        stored_seq=journal.contiguous_seq if journal else 0, backlog=status.get("backlog"),
        list_version=status.get("list_version"), list_age_s=status.get("list_age_s"),
        software=software or status.get("software_version"),
        reader_up=status.get("reader_up"), reader_detail=status.get("reader_detail", ""),
        journal_ok=status.get("journal_ok"), time_trusted=status.get("time_trusted"),
        open_problems=open_problems, troubles=tuple(troubles),
    )  # fmt: skip


# -- entries and billing -----------------------------------------------------------


@dataclass
class DayFigures:
    museum: str
    day: str
    entries: int = 0  # admissions
    billable: int = 0  # one per pass per museum and day, across gates
    children: int = 0
    refusals: dict[str, int] = field(default_factory=dict)


def day_figures(m: HubModels, museum: str | None, first: date, last: date) -> list[DayFigures]:
    """Per museum and day: admissions, billable entries, children and refusals by reason."""
    e = m.entry
    where = (
        _in(e.museum, museum), e.day >= first.isoformat(), e.day <= last.isoformat(),
        e.kind == "decision",
    )  # fmt: skip
    figures: dict[tuple[str, str], DayFigures] = {}

    def at(museum_: str, day: str) -> DayFigures:
        return figures.setdefault((museum_, day), DayFigures(museum_, day))

    admitted = (
        e.select(e.museum, e.day, peewee.fn.COUNT(e.id), peewee.fn.SUM(e.children))
        .where(*where, e.admitted == True)  # noqa: E712 - peewee builds SQL from it
        .group_by(e.museum, e.day)
        .tuples()
    )
    for museum_, day, count, children in admitted:
        at(museum_, day).entries, at(museum_, day).children = count, children or 0
    # A pass admitted at two gates of a museum on one day is billed once: the gates
    # each flag their own first entry billable, only the hub sees them together. The
    # pass is its printed number (a chip read and a typed number are the same pass), and
    # the gates' flags are not asked, as in the entries export (hub/export.py).
    billable = (
        e.select(
            e.museum,
            e.day,
            peewee.fn.COUNT(peewee.fn.COALESCE(e.pass_number, e.credential).distinct()),
        )
        .where(*where, e.admitted == True)  # noqa: E712
        .group_by(e.museum, e.day)
        .tuples()
    )
    for museum_, day, count in billable:
        at(museum_, day).billable = count
    refused = (
        e.select(e.museum, e.day, e.reason, peewee.fn.COUNT(e.id))
        .where(*where, e.admitted == False)  # noqa: E712
        .group_by(e.museum, e.day, e.reason)
        .tuples()
    )
    for museum_, day, reason, count in refused:
        at(museum_, day).refusals[reason] = count
    return sorted(figures.values(), key=lambda f: (f.museum, f.day))


@dataclass(frozen=True)
class MonthBill:
    museum: str
    month: str
    days: list[DayFigures]

    @property
    def entries(self) -> int:
        return sum(d.entries for d in self.days)

    @property
    def billable(self) -> int:
        return sum(d.billable for d in self.days)

    @property
    def children(self) -> int:
        return sum(d.children for d in self.days)


def month_bill(m: HubModels, museum: str, first: date, last: date) -> MonthBill:
    days = day_figures(m, museum, first, last)
    return MonthBill(museum, first.strftime("%Y-%m"), days)


# -- passes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PassEvent:
    wall: float
    museum: str
    gate: str
    what: str  # entry, refusal, activation, block, sale
    detail: str
    seq: int | None = None
    reason: str | None = None  # a decision's reason code
    children: int = 0


def find_serials(m: HubModels, text: str, museum: str | None) -> list[str]:
    """Serials whose chip serial or printed number is ``text`` (seen in entries or deltas)."""
    e, d = m.entry, m.delta
    found = {
        serial
        for (serial,) in e.select(e.credential)
        .where((e.credential == text) | (e.pass_number == text), _in(e.museum, museum))
        .distinct()
        .tuples()
    }
    for (serial,) in d.select(d.serial).where(d.serial == text).tuples():
        found.add(serial)
    for (item,) in d.select(d.item).where(d.item.contains(f'"pass_number": "{text}"')).tuples():
        found.add(json.loads(item)["serial"])
    return sorted(found)


def pass_history(m: HubModels, serial: str, museum: str | None) -> list[PassEvent]:
    """What the hub knows of ``serial``: entries, refusals and pass changes, oldest first.

    A museum's people see their own museum's entries and the network-wide changes.
    """
    e, d = m.entry, m.delta
    events = [
        PassEvent(row.wall, row.museum, row.gate, "entry" if row.admitted else "refusal",
                  row.pass_number or "", row.seq, row.reason, row.children)
        for row in e.select().where(e.credential == serial, e.kind == "decision",
                                    _in(e.museum, museum)).order_by(e.wall)
    ]  # fmt: skip
    for row in d.select().where(d.serial == serial).order_by(d.dseq):
        item = json.loads(row.item)
        origin = item.get("origin_museum") or "*"
        if item["kind"] == "activation" and museum is not None and origin != museum:
            origin_gate = ""
        else:
            origin_gate = item.get("origin_gate") or "*"
        detail = ", ".join(
            f"{k} {item[k]}" for k in ("state", "activated_on", "expires_on", "pass_number")
            if item.get(k)
        )  # fmt: skip
        events.append(PassEvent(row.created_at, origin, origin_gate, item["kind"], detail))
    return sorted(events, key=lambda ev: ev.wall)


def pass_blocked(m: HubModels, serial: str) -> bool:
    d = m.delta
    last = d.select(d.item).where(d.serial == serial).order_by(d.dseq.desc()).first()
    return last is not None and json.loads(last.item)["state"] == "blocked"


# -- lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListView:
    version: int
    museum: str
    gate: str
    size: int
    sha256: str
    published_at: float


def releases(m: HubModels, museum: str | None) -> list[ListView]:
    r = m.list_release
    query = (
        r.select(r.version, r.museum, r.gate, r.size, r.sha256, r.published_at)
        .where((r.museum == "*") | _in(r.museum, museum))
        .order_by(r.version.desc())
        .limit(50)
    )
    return [ListView(*row) for row in query.tuples()]


# -- problems ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemView:
    id: int
    museum: str
    gate: str
    kind: str
    seq: int | None
    detail: str
    at: float
    resolved: bool
    epoch: str | None = None  # the journal the record belongs to


def problems(m: HubModels, museum: str | None, resolved: bool) -> list[ProblemView]:
    p = m.problem
    query = (
        p.select(p.id, p.museum, p.gate, p.kind, p.seq, p.detail, p.at, p.resolved, p.epoch)
        .where(_in(p.museum, museum), p.resolved == resolved)
        .order_by(p.at.desc())
        .limit(500)
    )
    return [ProblemView(*row) for row in query.tuples()]


def problem(m: HubModels, problem_id: int) -> ProblemView | None:
    p = m.problem
    row = (
        p.select(p.id, p.museum, p.gate, p.kind, p.seq, p.detail, p.at, p.resolved, p.epoch)
        .where(p.id == problem_id)
        .tuples()
        .first()
    )
    return ProblemView(*row) if row else None


# -- quarantined records ------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantinedView:
    """A record the hub set apart (its hash, its chain link): the evidence behind a problem."""

    museum: str
    gate: str
    epoch: str
    seq: int
    flaw: str  # bad_hash, chain_break, rewritten
    kind: str
    wall: float
    credential: str
    admitted: bool
    reason: str
    hash: str
    prev_hash: str
    received_at: float


QUARANTINE_FLAWS = ("bad_hash", "chain_break", "rewritten")


def quarantined(m: HubModels, rows: list[ProblemView]) -> dict[int, list[QuarantinedView]]:
    """The quarantined records behind each problem of ``rows`` that set one apart."""
    q = m.quarantine
    wanted = [r for r in rows if r.kind in QUARANTINE_FLAWS and r.seq is not None]
    found: dict[int, list[QuarantinedView]] = {}
    for problem_ in wanted:
        query = q.select().where(q.museum == problem_.museum, q.gate == problem_.gate,
                                 q.seq == problem_.seq, q.flaw == problem_.kind)  # fmt: skip
        if problem_.epoch is not None:
            query = query.where(q.epoch == problem_.epoch)
        found[problem_.id] = [_quarantined(row) for row in query.order_by(q.id).limit(20)]
    return found


def _quarantined(row: Any) -> QuarantinedView:
    return QuarantinedView(
        row.museum, row.gate, row.epoch, row.seq, row.flaw, row.kind, row.wall, row.credential,
        row.admitted, row.reason, row.hash, row.prev_hash, row.received_at,
    )  # fmt: skip


# -- ledgers: sales, closures, pass orders, pass Culture ------------------------------------


@dataclass
class SalesDay:
    museum: str
    day: str
    sales: int = 0
    renewals: int = 0
    cancellations: int = 0
    due_cents: int = 0  # what was paid, cancellations subtracted
    by_payment: dict[str, int] = field(default_factory=dict)


def sales_days(m: HubModels, museum: str | None, first: date, last: date) -> list[SalesDay]:
    """Per museum and day: sales, renewals, cancellations and takings by payment."""
    from hub.sales import ledger, update_ledger

    update_ledger(m)  # the hub's own function: copies the counters' new money records
    s = ledger(m)
    query = (
        s.select(s.museum, s.day, s.kind, s.payment, peewee.fn.COUNT(s.id),
                 peewee.fn.SUM(s.due_cents))
        .where(_in(s.museum, museum), s.day >= first.isoformat(), s.day <= last.isoformat())
        .group_by(s.museum, s.day, s.kind, s.payment)
        .tuples()
    )  # fmt: skip
    days: dict[tuple[str, str], SalesDay] = {}
    for museum_, day, kind, payment, count, due in query:
        d = days.setdefault((museum_, day), SalesDay(museum_, day))
        if kind == "sale":
            d.sales += count
        elif kind == "renewal":
            d.renewals += count
        else:
            d.cancellations += count
        d.due_cents += int(due or 0)
        d.by_payment[payment] = d.by_payment.get(payment, 0) + int(due or 0)
    return sorted(days.values(), key=lambda d: (d.museum, d.day))


def sales_rows(m: HubModels, museum: str | None, first: date, last: date,
               limit: int = 500) -> list[Any]:  # fmt: skip
    """The ledger's lines of the period, newest first (the page shows the latest ``limit``)."""
    from hub.sales import ledger

    s = ledger(m)
    query = (
        s.select()
        .where(_in(s.museum, museum), s.day >= first.isoformat(), s.day <= last.isoformat())
        .order_by(s.at_us.desc(), s.gate, s.seq.desc())
        .limit(limit)
    )
    return list(query)


@dataclass(frozen=True)
class ClosureView:
    museum: str
    gate: str
    period: str
    label: str
    number: int | None
    net_cents: int | None
    grand_total_cents: int | None
    problems: tuple[str, ...]


def closure_views(m: HubModels, museum: str | None) -> list[ClosureView]:
    """Every cash closure (Z report) of the counters, its signature and chain checked."""
    from hub.sales import closures

    found = []
    for name in [museum] if museum else museums(m):
        for document, problems_ in closures(m, name):
            body = document.get("closure", {}) if document else {}
            totals = body.get("totals") or {}
            found.append(ClosureView(
                name, str(body.get("gate", "")), str(body.get("period", "")),
                str(body.get("label", "")), body.get("number"), totals.get("net_cents"),
                body.get("grand_total_cents"), tuple(problems_),
            ))  # fmt: skip
    return found


def pass_orders(m: HubModels, museum: str | None) -> list[dict[str, Any]]:
    """Pass orders from the counters, with their state, newest first."""
    from hub.sales import pass_orders as orders

    return list(reversed(orders(m, museum)))


@dataclass(frozen=True)
class CounterMarkView:
    museum: str
    gate: str
    code: str
    action: str
    outcome: str
    reason: str
    quantity: int
    offer: str
    price_cents: int | None
    operator: str
    at: float


def countermarks(m: HubModels, museum: str | None, first: date, last: date,
                 limit: int = 500) -> list[CounterMarkView]:  # fmt: skip
    """pass Culture counter-marks asked at the museum's gates (every answer), newest first."""
    from datetime import datetime, time, timedelta

    from hub.passculture.export import PARIS
    from hub.passculture.models import open_countermarks

    t = open_countermarks(m.db)
    # Museum-local days, as the reconciliation export counts them.
    low = datetime.combine(first, time(), PARIS).timestamp() * 1_000_000
    high = datetime.combine(last + timedelta(days=1), time(), PARIS).timestamp() * 1_000_000
    query = (
        t.select()
        .where(_in(t.museum, museum), t.at_us >= int(low), t.at_us < int(high))
        .order_by(t.at_us.desc(), t.id.desc())
        .limit(limit)
    )
    return [
        CounterMarkView(r.museum, r.gate, r.code, r.action, r.outcome, r.reason, r.quantity,
                        r.offer_name or "", r.price, r.operator or "", r.at_us / 1_000_000)
        for r in query
    ]  # fmt: skip


# -- Pass+ ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PassPlusView:
    """One Pass+ question the hub answered: a redemption, or a refusal and its reason."""

    museum: str
    gate: str
    number: str
    at: float
    reason: str  # "ok" for a redemption, else the refusal's stable code
    wallet: str = ""
    amount_cents: int | None = None
    pays_cents: int | None = None
    price_cents: int | None = None
    operator: str = ""

    @property
    def second_use(self) -> bool:
        return self.reason == "already_used"


def _micros_of_days(first: date, last: date) -> tuple[int, int]:
    """The period's bounds in microseconds: museum-local days, as the partner export counts."""
    from datetime import datetime, time, timedelta

    from hub.passplus.export import PARIS

    low = int(datetime.combine(first, time(), PARIS).timestamp()) * 1_000_000
    high = int(datetime.combine(last + timedelta(days=1), time(), PARIS).timestamp()) * 1_000_000
    return low, high


def passplus(m: HubModels, museum: str | None, first: date, last: date,
             limit: int = 500) -> tuple[list[PassPlusView], list[PassPlusView]]:  # fmt: skip
    """Pass+ redemptions and refusals of the period, each newest first."""
    from hub.passplus.models import open_tables

    used, refused = open_tables(m.db)
    low, high = _micros_of_days(first, last)
    paid = (
        used.select()
        .where(_in(used.museum, museum), used.at_us >= low, used.at_us < high)
        .order_by(used.at_us.desc(), used.id.desc())
        .limit(limit)
    )
    no = (
        refused.select()
        .where(_in(refused.museum, museum), refused.at_us >= low, refused.at_us < high)
        .order_by(refused.at_us.desc(), refused.id.desc())
        .limit(limit)
    )
    return (
        [PassPlusView(r.museum, r.gate, r.number, r.at_us / 1_000_000, "ok", r.wallet,
                      r.amount_cents, r.pays_cents, r.price_cents, r.operator) for r in paid],
        [PassPlusView(r.museum, r.gate, r.number, r.at_us / 1_000_000, r.reason) for r in no],
    )  # fmt: skip
