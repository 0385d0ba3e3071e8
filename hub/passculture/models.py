"""The hub's record of every pass Culture question and its answer.

One row per request (unique ``request_id``): a re-delivered request finds its
row and gets the same answer, so nothing is validated twice. Rows are only
added, never changed: an undo is a row of its own. Times are integer
microseconds since the epoch, UTC (exact, and the same on SQLite and
PostgreSQL).
"""

from __future__ import annotations

import peewee

from hub.migrations import create_tables
from hub.models import bound_model


class CounterMark(peewee.Model):
    request_id = peewee.CharField(unique=True)
    museum = peewee.CharField()
    gate = peewee.CharField()
    code = peewee.CharField()
    action = peewee.CharField()  # validate, undo
    operator = peewee.CharField(null=True)
    outcome = peewee.CharField()  # admit, refuse, desk, undone
    reason = peewee.CharField()
    message = peewee.TextField()
    quantity = peewee.IntegerField(default=0)
    booking_id = peewee.BigIntegerField(null=True)
    offer_id = peewee.BigIntegerField(null=True)
    offer_name = peewee.CharField(null=True)
    price_category = peewee.CharField(null=True)
    price = peewee.IntegerField(null=True)  # as pass Culture gives it (cents)
    venue_id = peewee.BigIntegerField(null=True)
    at_us = peewee.BigIntegerField()  # answered at, microseconds since the epoch UTC
    answer = peewee.TextField()  # the answer body sent to the gate, JSON

    class Meta:
        table_name = "passculture_countermark"
        indexes = ((("museum", "at_us"), False), (("code",), False))


def open_countermarks(db: peewee.Database) -> type[CounterMark]:
    """The table bound to the hub's database (created if new)."""
    bound = bound_model(CounterMark, db)
    create_tables(db, [bound])
    return bound


def micros(epoch_s: float) -> int:
    return round(epoch_s * 1_000_000)
