"""The office's release notices, and the software version each gate runs.

A release notice ("a new version is available": version, date, notes) is
published through ``publish_release`` by ``portique-hub release publish``
and by the console alike: checked, stored, then sent to every gate as a
retained ``release`` message, signed by the hub's key in the
``release-notice`` domain (``firmware/trust.py``), so no other signed
document passes for one. Gates refuse a notice older than the one they hold;
the hub refuses to publish a version that is not newer than the last one.

Gates report the version they run in their hello and status; the hub keeps
the latest word per gate in ``gate_software`` (the console's Gates page).
Both tables are this module's own, created when first used.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import peewee
from packaging.version import InvalidVersion, Version

from firmware.protocol.messages import ANY
from hub.actions import ActionRefused
from hub.keys import HubSigner
from hub.migrations import create_tables
from hub.models import HubModels, bound_model
from hub.publish import Broker, publish_once

NOTES_MAX = 1000  # the release message's schema (firmware/sync/schemas/release.json)
_VERSION_TEXT = re.compile(r"^[0-9A-Za-z.+!_-]{1,64}$")


class ReleaseNotice(peewee.Model):
    """A notice the office published; the newest is the one gates hold."""

    version = peewee.CharField()
    day = peewee.CharField()  # the release's date, YYYY-MM-DD
    notes = peewee.TextField()
    issued_at = peewee.DoubleField()
    published_by = peewee.CharField()

    class Meta:
        table_name = "release_notice"


class GateSoftware(peewee.Model):
    """The software version a gate last reported (hello or status)."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    version = peewee.CharField()
    reported_at = peewee.DoubleField()

    class Meta:
        table_name = "gate_software"
        indexes = ((("museum", "gate"), True),)


@dataclass(frozen=True)
class Tables:
    notice: type[ReleaseNotice]
    software: type[GateSoftware]


@functools.cache  # once per database: a status message must not cost a CREATE TABLE
def tables(m: HubModels) -> Tables:
    """This module's tables bound to the hub's database (created if new)."""
    bound = Tables(bound_model(ReleaseNotice, m.db), bound_model(GateSoftware, m.db))
    create_tables(m.db, [bound.notice, bound.software])
    return bound


# -- what gates run ---------------------------------------------------------------


def note_software(m: HubModels, museum: str, gate: str, version: str, now: float) -> None:
    """Remember the version ``museum``/``gate`` says it runs (its message's schema checked it)."""
    s = tables(m).software
    s.insert(museum=museum, gate=gate, version=version, reported_at=now).on_conflict(
        conflict_target=[s.museum, s.gate],
        update={s.version: version, s.reported_at: now},
    ).execute()  # fmt: skip


def software_of(m: HubModels, museum: str | None) -> dict[tuple[str, str], str]:
    """Each gate's reported version (``museum`` None: every museum's gates)."""
    s = tables(m).software
    query = s.select(s.museum, s.gate, s.version)
    if museum is not None:
        query = query.where(s.museum == museum)
    return {(row_museum, gate): version for row_museum, gate, version in query.tuples()}


# -- the office's notices -------------------------------------------------------------


def latest_notice(m: HubModels) -> Any:
    n = tables(m).notice
    return n.select().order_by(n.issued_at.desc(), n.id.desc()).first()


def notices(m: HubModels, limit: int = 50) -> list[Any]:
    n = tables(m).notice
    return list(n.select().order_by(n.issued_at.desc(), n.id.desc()).limit(limit))


def check_notice(version: str, day: str, notes: str) -> tuple[str, str, str]:
    """The notice's fields as gates accept them, or ActionRefused naming what is wrong."""
    version, day, notes = version.strip(), day.strip(), notes.strip()
    try:
        if not _VERSION_TEXT.match(version):
            raise InvalidVersion(version)
        Version(version)
    except InvalidVersion:
        raise ActionRefused("bad_version", f"{version[:64]!r} is not a software version "
                            "(e.g. 1.4.0, 2.0.1rc1)") from None  # fmt: skip
    try:
        date.fromisoformat(day)
        if len(day) != 10:
            raise ValueError(day)
    except ValueError:
        raise ActionRefused("bad_date", f"{day[:32]!r} is not a date: write YYYY-MM-DD") from None
    if len(notes) > NOTES_MAX:
        raise ActionRefused("notes_too_long", f"the notes have {len(notes)} characters; gates "
                            f"take at most {NOTES_MAX}")  # fmt: skip
    return version, day, notes


def publish_release(m: HubModels, version: str, day: str, notes: str, now: float,
                    by: str) -> dict[str, Any]:  # fmt: skip
    """Store a release notice and return the ``release`` body to send to every gate.

    Refused (ActionRefused, nothing stored) unless the version is newer than the
    last one published: an old version announced again would tell gates that run
    the newer one nothing, and mislead the others.
    """
    version, day, notes = check_notice(version, day, notes)
    table = tables(m).notice
    with _writing(m.db):
        last = latest_notice(m)
        if last is not None and Version(version) <= Version(last.version):
            raise ActionRefused("old_release", f"version {version} is not newer than "
                                f"{last.version}, the last one published")  # fmt: skip
        if last is not None and now <= last.issued_at:
            raise ActionRefused("clock_behind", "the hub's clock is behind the last notice's "
                                "time: gates would refuse this one; check the clock")  # fmt: skip
        table.create(version=version, day=day, notes=notes, issued_at=now, published_by=by)
    return body_of(version, day, notes, now)


def _writing(db: peewee.Database) -> Any:
    """A transaction that reads, then writes: on SQLite it takes the write lock first, so a
    hub writing meanwhile makes it wait rather than fail with "database is locked"."""
    if isinstance(db, peewee.SqliteDatabase):
        return db.atomic("IMMEDIATE")
    return db.atomic()


def body_of(version: str, day: str, notes: str, issued_at: float) -> dict[str, Any]:
    return {"type": "release", "museum": ANY, "gate": ANY, "issued_at": issued_at,
            "version": version, "date": day, "notes": notes}  # fmt: skip


def send_release(broker: Broker, data_dir: Path, now: Callable[[], float],
                 body: dict[str, Any]) -> None:  # fmt: skip
    """Send a stored notice to every gate, retained (OSError when the broker is away)."""
    publish_once(broker, HubSigner.load(data_dir), now, lambda p: p.release(body))
