"""Tables of the gate's journal database (``journal.sqlite``).

``Record`` is the append-only journal. ``LocalPass`` holds what this gate
changed about a pass (an activation) and is written in the same transaction
as the record that caused it. ``Ack`` remembers what the hub confirmed it
stored (records themselves are never updated); ``RemotePass`` is the hub's
word on passes changed elsewhere (other gates' activations, blocks, sales).
``Setting`` keeps small facts such as the clock floor. Models are bound per
database with ``bind_models`` so that several journals (tests, the hub's
tools) can live in one process.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee


class Record(peewee.Model):
    seq = peewee.IntegerField(primary_key=True)  # per gate, from 1, no gaps
    uuid = peewee.CharField(unique=True)
    kind = peewee.CharField()  # "decision", "not_passed", ...
    prev_hash = peewee.CharField()
    hash = peewee.CharField()
    wall = peewee.FloatField()  # floored wall time, epoch seconds
    monotonic = peewee.FloatField()
    time_trusted = peewee.BooleanField()
    day = peewee.CharField()  # museum-local date, ISO; the billing day
    museum = peewee.CharField()
    gate = peewee.CharField()
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
    refers_to = peewee.IntegerField(null=True)  # seq of the record this one completes
    detail = peewee.CharField(null=True)

    class Meta:
        table_name = "record"
        indexes = ((("pass_number", "day"), False),)


class LocalPass(peewee.Model):
    serial = peewee.CharField(primary_key=True)
    pass_number = peewee.CharField(index=True)
    id_number = peewee.CharField()
    pass_type = peewee.CharField()
    state = peewee.CharField()
    activated_on = peewee.CharField(null=True)
    expires_on = peewee.CharField(null=True)
    seq = peewee.IntegerField()  # the journal record that made the change

    class Meta:
        table_name = "local_pass"


class Ack(peewee.Model):
    """One acknowledgement from the hub: records 1..seq are stored there."""

    seq = peewee.IntegerField()
    hash = peewee.CharField()  # the hash of record ``seq``, as the hub stored it
    received_wall = peewee.FloatField()

    class Meta:
        table_name = "ack"


class RemotePass(peewee.Model):
    """A pass as the hub last described it; fields it did not send come from the list."""

    serial = peewee.CharField(primary_key=True)
    pass_number = peewee.CharField(null=True, index=True)
    id_number = peewee.CharField(null=True)
    pass_type = peewee.CharField(null=True)
    state = peewee.CharField()
    activated_on = peewee.CharField(null=True)
    expires_on = peewee.CharField(null=True)
    dseq = peewee.IntegerField()  # the hub's delta that said so
    origin_museum = peewee.CharField(null=True)
    origin_gate = peewee.CharField(null=True)
    stock_of = peewee.CharField(null=True)  # whose stock (state stock), from a delivery
    kind = peewee.CharField(null=True)  # the delta's kind: a renewal outranks the list's year

    class Meta:
        table_name = "remote_pass"


class Setting(peewee.Model):
    key = peewee.CharField(primary_key=True)
    value = peewee.CharField()

    class Meta:
        table_name = "setting"


@dataclass(frozen=True)
class Models:
    record: type[Record]
    local_pass: type[LocalPass]
    setting: type[Setting]
    ack: type[Ack]
    remote_pass: type[RemotePass]


def bound_model(base: type[peewee.Model], db: peewee.Database) -> type:
    """A subclass of ``base`` bound to ``db``; the base class stays unbound."""
    meta = type("Meta", (), {"database": db, "table_name": base._meta.table_name})
    return type(base.__name__, (base,), {"Meta": meta, "__module__": base.__module__})


def bind_models(db: peewee.Database) -> Models:
    """Subclasses of the models bound to ``db`` (leaves the base classes unbound)."""

    def bound(base: type[peewee.Model]) -> type:
        return bound_model(base, db)

    models = Models(bound(Record), bound(LocalPass), bound(Setting), bound(Ack), bound(RemotePass))
    db.create_tables(
        [models.record, models.local_pass, models.setting, models.ack, models.remote_pass],
        safe=True,
    )
    _add_columns(db, models.remote_pass)
    return models


def _add_columns(db: peewee.Database, model: type[peewee.Model]) -> None:
    """Add the columns a journal file written by an older firmware lacks (nullable ones only).

    ``remote_pass`` gained ``stock_of`` and ``kind``; its rows are the hub's word and
    carry on as they were, the new columns empty.
    """
    table = model._meta.table_name
    present = {column.name for column in db.get_columns(table)}
    for field in model._meta.fields.values():
        if field.column_name not in present and field.null:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{field.column_name}" '
                           f"{field.field_type}")  # fmt: skip
