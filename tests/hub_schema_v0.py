"""The hub's tables as the hub before schema migrations made them (frozen, do not edit).

The migration tests build a database with these, as an existing hub has it,
and open it with today's hub. ``FloatField`` is what made PostgreSQL round
every time to 4 bytes.
"""

from __future__ import annotations

import peewee

GENESIS_HASH = "0" * 64


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


MODELS = (GateKey, Entry, Progress, Problem, Activation, Delta, Counter, ListRelease)
