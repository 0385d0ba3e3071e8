"""The hub's tables (peewee): SQLite by default, PostgreSQL by URL.

Queries go through peewee's builder only (no SQLite dialect), so the same
code runs on both. ``Entry`` rows are the gates' journal records that pass
the hub's checks, unique by (museum, gate, epoch, seq): storing one twice is
a no-op, which is what makes re-sent batches harmless. The epoch names one
journal of a gate (``Incarnation``): a re-provisioned gate starts a new one
at seq 1. Records that fail a check go to ``Quarantine``, never to ``Entry``.

Every time is an 8-byte float of epoch seconds (``DoubleField``): peewee's
``FloatField`` is a 4-byte ``real`` on PostgreSQL, which rounds today's
times to about two minutes. The schema changes through ``hub/migrations.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import peewee
from playhouse.db_url import connect

from firmware.protocol.record import GENESIS_HASH, LEGACY_EPOCH


class GateKey(peewee.Model):
    """The registry: which public key signs each gate's messages."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    public_key = peewee.CharField()  # base64 of the raw Ed25519 key
    key_id = peewee.CharField()
    added_at = peewee.DoubleField()

    class Meta:
        table_name = "gate_key"
        indexes = ((("museum", "gate"), True),)


class Entry(peewee.Model):
    """One journal record of one gate, exactly as the gate signed it, its hash checked."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    epoch = peewee.CharField(default=LEGACY_EPOCH)
    seq = peewee.IntegerField()
    uuid = peewee.CharField()
    kind = peewee.CharField()
    prev_hash = peewee.CharField()
    hash = peewee.CharField()
    wall = peewee.DoubleField()
    monotonic = peewee.DoubleField()
    time_trusted = peewee.BooleanField()
    day = peewee.CharField()
    credential_kind = peewee.CharField()
    credential = peewee.CharField()
    pass_number = peewee.CharField(null=True)
    admitted = peewee.BooleanField()
    reason = peewee.CharField()
    billable = peewee.BooleanField()
    children = peewee.IntegerField()
    valid_until = peewee.CharField(null=True)
    list_version = peewee.IntegerField()
    operator = peewee.CharField(null=True)
    refers_to = peewee.IntegerField(null=True)
    detail = peewee.TextField(null=True)
    persons = peewee.IntegerField(null=True)  # people let through; None from older gates
    received_at = peewee.DoubleField()

    class Meta:
        table_name = "entry"
        # The first serves storing and the walk along the chain, the second the export.
        indexes = ((("museum", "gate", "epoch", "seq"), True), (("museum", "day"), False))


class Quarantine(Entry):
    """A record that failed a check (its hash, its chain link): kept as evidence only.

    Never acknowledged, never exported, never in the way of the valid record
    with the same seq.
    """

    flaw = peewee.CharField()  # bad_hash, chain_break, rewritten

    class Meta:
        table_name = "quarantine"
        indexes = ((("museum", "gate", "epoch", "seq", "hash"), True),)


class Incarnation(peewee.Model):
    """One journal of one gate, and how far it is stored without a hole."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    epoch = peewee.CharField()
    contiguous_seq = peewee.IntegerField(default=0)
    contiguous_hash = peewee.CharField(default=GENESIS_HASH)
    highest_seq = peewee.IntegerField(default=0)  # the highest seq received
    reported_seq = peewee.IntegerField(default=0)  # its last seq, as hello and status said
    first_seen_at = peewee.DoubleField()

    class Meta:
        table_name = "incarnation"
        indexes = ((("museum", "gate", "epoch"), True),)


class Progress(peewee.Model):
    """Each gate's connection and its last status (storage progress is per ``Incarnation``)."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    online = peewee.BooleanField(default=False)
    status = peewee.TextField(null=True)  # the last accepted status body, JSON
    status_session = peewee.CharField(default="")
    status_n = peewee.IntegerField(default=0)
    status_sent_at = peewee.DoubleField(default=0.0)
    seen_at = peewee.DoubleField(default=0.0)
    hello_sent_at = peewee.DoubleField(default=0.0)

    class Meta:
        table_name = "progress"
        indexes = ((("museum", "gate"), True),)


class Problem(peewee.Model):
    """Something the hub saw and a person should know: a gap, a broken chain, a conflict."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    # gap, chain_break, bad_hash, rewritten, activation_conflict, new_journal, unacknowledged_tail
    kind = peewee.CharField()
    seq = peewee.IntegerField(null=True)
    detail = peewee.TextField()
    at = peewee.DoubleField()
    resolved = peewee.BooleanField(default=False)
    epoch = peewee.CharField(null=True)  # the journal the seq belongs to

    class Meta:
        table_name = "problem"
        # Gap bookkeeping per gate and kind; `portique-hub problems` by time.
        indexes = ((("museum", "gate", "kind", "resolved"), False), (("resolved", "at"), False))


class Activation(peewee.Model):
    """The activation that stands for each pass: the earliest one reported."""

    serial = peewee.CharField(primary_key=True)
    pass_number = peewee.CharField(null=True)
    activated_on = peewee.CharField()
    expires_on = peewee.CharField(null=True)
    wall = peewee.DoubleField()
    museum = peewee.CharField()
    gate = peewee.CharField()
    seq = peewee.IntegerField()

    class Meta:
        table_name = "activation"


class Delta(peewee.Model):
    """A pass change for every gate, numbered without gaps (``dseq``)."""

    dseq = peewee.IntegerField(primary_key=True)
    serial = peewee.CharField()
    item = peewee.TextField()  # the delta item as the gates receive it, JSON
    created_at = peewee.DoubleField()

    class Meta:
        table_name = "delta"


class Counter(peewee.Model):
    """Numbers that only grow: each gate's command counter, and access codes used (value 1)."""

    name = peewee.CharField(primary_key=True)
    value = peewee.IntegerField()

    class Meta:
        table_name = "counter"


class ListRelease(peewee.Model):
    """A list file published to one gate or to all (museum and gate ``*``)."""

    version = peewee.IntegerField()
    museum = peewee.CharField()
    gate = peewee.CharField()
    sha256 = peewee.CharField()
    size = peewee.IntegerField()
    data = peewee.BlobField()
    published_at = peewee.DoubleField()

    class Meta:
        table_name = "list_release"
        # The second answers a hello: the newest release for a gate or for every gate.
        indexes = ((("version", "museum", "gate"), True), (("museum", "gate", "version"), False))


@dataclass(frozen=True)
class HubModels:
    db: peewee.Database
    gate_key: type[GateKey]
    entry: type[Entry]
    quarantine: type[Quarantine]
    incarnation: type[Incarnation]
    progress: type[Progress]
    problem: type[Problem]
    activation: type[Activation]
    delta: type[Delta]
    counter: type[Counter]
    list_release: type[ListRelease]


_MODELS = (GateKey, Entry, Quarantine, Incarnation, Progress, Problem, Activation, Delta, Counter,
           ListRelease)  # fmt: skip


def bound_model(base: type[peewee.Model], db: peewee.Database) -> type:
    """A subclass of ``base`` bound to ``db``; the base class stays unbound."""
    meta = type("Meta", (), {"database": db, "table_name": base._meta.table_name})
    return type(base.__name__, (base,), {"Meta": meta, "__module__": base.__module__})


def database_url(data_dir: Path, url: str | None) -> str:
    return url or f"sqlite:///{data_dir / 'hub.sqlite'}"


class DatabaseUnavailable(Exception):
    """The database URL cannot be used; the message says why and what to do."""


def check_driver(url: str) -> None:
    """Refuse a PostgreSQL URL without its driver, before anything is written anywhere."""
    if url.split(":", 1)[0].split("+", 1)[0] in ("postgres", "postgresql"):
        try:
            import psycopg  # noqa: F401 - only its presence matters here
        except ImportError:
            raise DatabaseUnavailable(
                "a PostgreSQL database needs the psycopg driver: pip install 'portique[postgres]'"
            ) from None


def open_hub(url: str) -> HubModels:
    """Connect to the hub's database (created or migrated as needed), bind the models to it."""
    from hub.migrations import migrate_schema

    check_driver(url)
    if url.startswith("sqlite"):
        # An ack promises the records are durable: commit to the disk first.
        db = connect(url, pragmas={"journal_mode": "wal", "synchronous": "full",
                                   "busy_timeout": 10000})  # fmt: skip
    else:
        db = connect(url)
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        where = url.split("@")[-1]  # never the password
        raise DatabaseUnavailable(f"cannot open the database at {where}: {exc}") from None
    bound = [bound_model(base, db) for base in _MODELS]
    models = HubModels(db, *bound)
    migrate_schema(db, models, bound)
    return models


def register_gate(m: HubModels, museum: str, gate: str, public: bytes, now: float) -> None:
    """Register (or replace) the public key the hub checks ``museum``/``gate``'s messages with."""
    from firmware.protocol.signing import b64, key_id

    g = m.gate_key
    g.insert(museum=museum, gate=gate, public_key=b64(public), key_id=key_id(public),
             added_at=now).on_conflict(
        conflict_target=[g.museum, g.gate],
        update={g.public_key: b64(public), g.key_id: key_id(public)},
    ).execute()  # fmt: skip
