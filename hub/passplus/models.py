"""The hub's record of Pass+ redemptions: one row per ticket, so a ticket is used once.

``number`` is unique: the second gate to ask about a ticket finds its row and is
refused (``already_used``), whichever museum it is in. Rows are only added.
Times are integer microseconds since the epoch, UTC.
"""

from __future__ import annotations

import peewee

from hub.migrations import create_tables
from hub.models import bound_model


class Redemption(peewee.Model):
    number = peewee.CharField(unique=True)
    request_id = peewee.CharField(unique=True)
    museum = peewee.CharField()
    gate = peewee.CharField()
    operator = peewee.CharField()
    wallet = peewee.CharField()
    amount_cents = peewee.IntegerField()  # the ticket's value
    price_cents = peewee.IntegerField()  # what it paid towards
    pays_cents = peewee.IntegerField()  # what it paid (up to the price, never change)
    generated_on = peewee.CharField()
    campaign = peewee.CharField()
    at_us = peewee.BigIntegerField()
    answer = peewee.TextField()  # the answer sent to the gate, JSON

    class Meta:
        table_name = "passplus_redemption"
        indexes = ((("museum", "at_us"), False),)


class Refusal(peewee.Model):
    """Every refused question too, so a repeated request_id gets the same answer."""

    request_id = peewee.CharField(unique=True)
    museum = peewee.CharField()
    gate = peewee.CharField()
    number = peewee.CharField()
    reason = peewee.CharField()
    at_us = peewee.BigIntegerField()
    answer = peewee.TextField()

    class Meta:
        table_name = "passplus_refusal"


def open_tables(db: peewee.Database) -> tuple[type[Redemption], type[Refusal]]:
    """The tables bound to the hub's database (created if new)."""
    tables = bound_model(Redemption, db), bound_model(Refusal, db)
    create_tables(db, list(tables))
    return tables
