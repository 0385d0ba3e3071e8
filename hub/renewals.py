"""A renewal recorded at the office (``portique-hub pass renew``), with its dates.

The office renews by the same rule as the counter (``firmware/counter/rules.py``:
only when the pass expires in less than 3 months; with immediate entry the
new year starts today and keeps the days left, otherwise the holder keeps
the current year and the next starts at the first entry after it). What the
hub knows of the pass comes from its newest word on it: the last delta it
sent, else the activation that stands, else the list it published. The
renewal goes to every gate as a ``renewal`` delta carrying the dates, never
as "sold, no dates", so no gate starts a new year early.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from firmware.counter.rules import renewal_refusal, renewed
from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.protocol import listfile as fmt
from hub.actions import ActionRefused, check_serial
from hub.activations import new_delta
from hub.models import HubModels

OFFICE_ZONE = ZoneInfo("Europe/Paris")  # the day the office's renewal counts from


def renew_pass(m: HubModels, serial: str, immediate_entry: bool, now: float,
               zone: ZoneInfo = OFFICE_ZONE) -> dict:  # fmt: skip
    """Store the delta that renews ``serial``; ActionRefused (nothing stored) if it may not."""
    serial = check_serial(serial)
    today = datetime.fromtimestamp(now, zone).date()
    with m.db.atomic():
        record = known_pass(m, serial)
        refusal = renewal_refusal(record, today)
        if refusal is not None:
            raise ActionRefused(refusal.code, str(refusal))
        assert record is not None
        state, activated_on, expires_on = renewed(record, today, immediate_entry)
        if state is PassState.SOLD and expires_on is None:
            # Expired: keep the year that ran out, as a counter's renewal delta does.
            activated_on, expires_on = record.activated_on, record.expires_on
        item = new_delta(m, now, kind="renewal", serial=serial, state=str(state),
                         pass_number=record.pass_number or None,
                         pass_type=record.pass_type.code, activated_on=_iso(activated_on),
                         expires_on=_iso(expires_on))  # fmt: skip
        if state is PassState.ACTIVE:
            a = m.activation
            a.delete().where(a.serial == serial).execute()
            a.create(serial=serial, pass_number=record.pass_number or None,
                     activated_on=_iso(activated_on), expires_on=_iso(expires_on), wall=now,
                     museum="office", gate="hub", seq=item["dseq"])  # fmt: skip
        return item


def known_pass(m: HubModels, serial: str) -> PassRecord | None:
    """The pass as the hub last described it: its last delta, activation, or list."""
    listed = _listed(m, serial)
    d = m.delta
    row = d.select(d.item).where(d.serial == serial).order_by(d.dseq.desc()).first()
    if row is not None:
        item = json.loads(row.item)
        base = listed or PassRecord(serial, "", "", PassType(item["pass_type"] or "", 1, 0),
                                    PassState.SOLD)  # fmt: skip
        if item["state"] == "blocked" or item["expires_on"] or item["state"] == "stock":
            return base._replace(
                state=PassState(item["state"]),
                pass_number=item["pass_number"] or base.pass_number,
                activated_on=_day(item["activated_on"]) if item["state"] != "blocked"
                else base.activated_on,
                expires_on=_day(item["expires_on"]) if item["state"] != "blocked"
                else base.expires_on,
            )  # fmt: skip
    a = m.activation.get_or_none(m.activation.serial == serial)
    if a is not None:
        base = listed or PassRecord(serial, a.pass_number or "", "", PassType("", 1, 0),
                                    PassState.ACTIVE)  # fmt: skip
        return base._replace(state=PassState.ACTIVE, activated_on=_day(a.activated_on),
                             expires_on=_day(a.expires_on))  # fmt: skip
    return listed


def _listed(m: HubModels, serial: str) -> PassRecord | None:
    r = m.list_release
    release = (r.select().where(r.museum == "*", r.gate == "*")
               .order_by(r.version.desc()).first())  # fmt: skip
    if release is None:
        return None
    data = bytes(release.data)
    try:
        header = fmt.read_header(data, len(data))
    except fmt.ListFormatError:
        return None
    if header.kind != "snapshot":
        return None
    return fmt.find_serial(data, header, bytes.fromhex(serial))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
