"""The console's own tables, in the hub's database beside the hub's: people, sessions,
the audit log, the access codes issued and the notes kept on resolved problems."""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from hub.migrations import create_tables
from hub.models import HubModels, bound_model

ROLES = ("admin", "manager", "viewer")


class User(peewee.Model):
    name = peewee.CharField(unique=True)
    password_hash = peewee.CharField()  # argon2id, with its parameters and salt
    role = peewee.CharField()  # one of ROLES
    museum = peewee.CharField(null=True)  # None for an office administrator
    created_at = peewee.FloatField()

    class Meta:
        table_name = "console_user"


class Session(peewee.Model):
    """A login; the cookie carries only its random token, so logging out ends it."""

    token_hash = peewee.CharField(unique=True)  # SHA-256 of the cookie's token
    user = peewee.CharField()
    created_at = peewee.FloatField()
    seen_at = peewee.FloatField()

    class Meta:
        table_name = "console_session"


class Audit(peewee.Model):
    """Every action, done or refused: who, when, from where, what, on which museum."""

    at = peewee.FloatField(index=True)
    user = peewee.CharField(null=True)  # None before login
    role = peewee.CharField(null=True)
    museum = peewee.CharField(null=True)  # the museum the action concerns, when one does
    address = peewee.CharField()
    action = peewee.CharField()
    target = peewee.CharField(default="")
    outcome = peewee.CharField()  # done, refused
    detail = peewee.TextField(default="")

    class Meta:
        table_name = "console_audit"


class IssuedCode(peewee.Model):
    """An access code issued through the console (the code's text is shown once, not kept)."""

    museum = peewee.CharField()
    gate = peewee.CharField()
    role = peewee.CharField()
    nonce = peewee.BigIntegerField()
    expires_at = peewee.FloatField()
    issued_at = peewee.FloatField()
    issued_by = peewee.CharField()

    class Meta:
        table_name = "console_access_code"


class ProblemNote(peewee.Model):
    problem_id = peewee.IntegerField(index=True)
    note = peewee.TextField()
    by = peewee.CharField()
    at = peewee.FloatField()

    class Meta:
        table_name = "console_problem_note"


@dataclass(frozen=True)
class ConsoleModels:
    hub: HubModels
    user: type[User]
    session: type[Session]
    audit: type[Audit]
    issued_code: type[IssuedCode]
    problem_note: type[ProblemNote]


def open_console(hub: HubModels) -> ConsoleModels:
    """Bind the console's tables to the hub's database (created if new)."""
    bound = [bound_model(base, hub.db) for base in (User, Session, Audit, IssuedCode, ProblemNote)]
    create_tables(hub.db, bound)
    return ConsoleModels(hub, *bound)
