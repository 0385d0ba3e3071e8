"""The hub's tables (peewee): SQLite by default, PostgreSQL by URL.

Queries go through peewee's builder only (no SQLite dialect), so the same
code runs on both. ``Entry`` rows are the gates' journal records, unique by
(museum, gate, seq): storing one twice is a no-op, which is what makes
re-sent batches harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import peewee
from playhouse.db_url import connect

from firmware.protocol.record import GENESIS_HASH


class GateKey(peewee.Model):
    """The registry: which public key signs each gate's messages."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    public_key = peewee.CharField()  # base64 of the raw Ed25519 key
    key_id = peewee.CharField()
    added_at = peewee.FloatField()

    class Meta:
        table_name = "gate_key"
        indexes = ((("museum", "gate"), True),)


class Entry(peewee.Model):
    """One journal record of one gate, exactly as the gate signed it."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    seq = peewee.IntegerField()
    uuid = peewee.CharField()
    kind = peewee.CharField()
    prev_hash = peewee.CharField()
    hash = peewee.CharField()
    wall = peewee.FloatField()
    monotonic = peewee.FloatField()
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
    received_at = peewee.FloatField()

    class Meta:
        table_name = "entry"
        indexes = ((("museum", "gate", "seq"), True), (("museum", "day"), False))


class Progress(peewee.Model):
    """How far each gate's journal is stored without a hole, and its last status."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    contiguous_seq = peewee.IntegerField(default=0)
    contiguous_hash = peewee.CharField(default=GENESIS_HASH)
    highest_seq = peewee.IntegerField(default=0)
    online = peewee.BooleanField(default=False)
    status = peewee.TextField(null=True)  # the last accepted status body, JSON
    status_session = peewee.CharField(default="")
    status_n = peewee.IntegerField(default=0)
    status_sent_at = peewee.FloatField(default=0.0)
    seen_at = peewee.FloatField(default=0.0)
    hello_sent_at = peewee.FloatField(default=0.0)

    class Meta:
        table_name = "progress"
        indexes = ((("museum", "gate"), True),)


class Problem(peewee.Model):
    """Something the hub saw and a person should know: a gap, a broken chain, a conflict."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    kind = peewee.CharField()  # gap, chain_break, bad_hash, rewritten, activation_conflict
    seq = peewee.IntegerField(null=True)
    detail = peewee.TextField()
    at = peewee.FloatField()
    resolved = peewee.BooleanField(default=False)

    class Meta:
        table_name = "problem"


class Activation(peewee.Model):
    """The activation that stands for each pass: the earliest one reported."""

    serial = peewee.CharField(primary_key=True)
    pass_number = peewee.CharField(null=True)
    activated_on = peewee.CharField()
    expires_on = peewee.CharField(null=True)
    wall = peewee.FloatField()
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
    created_at = peewee.FloatField()

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
    published_at = peewee.FloatField()

    class Meta:
        table_name = "list_release"
        indexes = ((("version", "museum", "gate"), True),)


@dataclass(frozen=True)
class HubModels:
    db: peewee.Database
    gate_key: type[GateKey]
    entry: type[Entry]
    progress: type[Progress]
    problem: type[Problem]
    activation: type[Activation]
    delta: type[Delta]
    counter: type[Counter]
    list_release: type[ListRelease]


_MODELS = (GateKey, Entry, Progress, Problem, Activation, Delta, Counter, ListRelease)


def bound_model(base: type[peewee.Model], db: peewee.Database) -> type:
    """A subclass of ``base`` bound to ``db``; the base class stays unbound."""
    meta = type("Meta", (), {"database": db, "table_name": base._meta.table_name})
    return type(base.__name__, (base,), {"Meta": meta, "__module__": base.__module__})


def database_url(data_dir: Path, url: str | None) -> str:
    return url or f"sqlite:///{data_dir / 'hub.sqlite'}"


def open_hub(url: str) -> HubModels:
    """Connect to the hub's database (created if new) and bind the models to it."""
    if url.startswith("sqlite"):
        # An ack promises the records are durable: commit to the disk first.
        db = connect(url, pragmas={"journal_mode": "wal", "synchronous": "full",
                                   "busy_timeout": 10000})  # fmt: skip
    else:
        db = connect(url)
    db.connect(reuse_if_open=True)
    bound = [bound_model(base, db) for base in _MODELS]
    db.create_tables(bound, safe=True)
    return HubModels(db, *bound)


def register_gate(m: HubModels, museum: str, gate: str, public: bytes, now: float) -> None:
    """Register (or replace) the public key the hub checks ``museum``/``gate``'s messages with."""
    from firmware.protocol.signing import b64, key_id

    g = m.gate_key
    g.insert(museum=museum, gate=gate, public_key=b64(public), key_id=key_id(public),
             added_at=now).on_conflict(
        conflict_target=[g.museum, g.gate],
        update={g.public_key: b64(public), g.key_id: key_id(public)},
    ).execute()  # fmt: skip
