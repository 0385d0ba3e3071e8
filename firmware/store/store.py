"""The pass store: what the decision reads about a pass.

Two sources. The *list* (``firmware/lists``) is what the hub signed: the
newest snapshot and the deltas since. The *local layer* is the
``local_pass`` table of the journal database: changes this gate made itself
(activations), committed in the same transaction as the journal record that
caused them, and so known here before the hub has heard of them.
``merge`` decides between the two when both know a pass.
"""

from __future__ import annotations

from datetime import date

from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.journal.journal import Journal
from firmware.lists.manager import ListManager

_LOCAL = "SELECT serial, pass_number, id_number, pass_type, state, activated_on, expires_on"


def merge(local: PassRecord | None, listed: PassRecord | None) -> PassRecord | None:
    """The record to decide on when this gate and the list may disagree.

    - a block from the central office always wins;
    - both active (activated here and elsewhere while offline): the earliest
      activation wins, as at the hub;
    - the list says sold or in stock: this gate's activation wins unless the
      list's validity runs past it (a renewal sold after our activation).
    """
    if local is None or listed is None:
        return local or listed
    if listed.state is PassState.BLOCKED:
        return listed
    if listed.state is PassState.ACTIVE:
        if listed.activated_on is None or local.activated_on is None:
            return listed
        return local if local.activated_on < listed.activated_on else listed
    if listed.expires_on is None or local.activated_on is None:
        return local
    return local if local.activated_on > listed.expires_on else listed


class PassStore:
    """Looks passes up by chip serial or printed number."""

    def __init__(self, lists: ListManager, journal: Journal) -> None:
        self.lists = lists
        self._journal = journal

    @property
    def version(self) -> int:
        return self.lists.version

    @property
    def count(self) -> int:
        return self.lists.count

    def lookup(self, serial: str) -> PassRecord | None:
        """The pass with chip serial ``serial`` (upper-case hex), or None."""
        local = self._local("serial", serial) if serial in self._journal.local_serials else None
        return merge(local, self.lists.lookup(serial))

    def lookup_number(self, pass_number: str) -> PassRecord | None:
        """The pass with printed number ``pass_number``, or None."""
        local = self._local("pass_number", pass_number)
        return merge(local, self.lists.lookup_number(pass_number))

    def _local(self, column: str, value: str) -> PassRecord | None:
        row = self._journal.db.execute_sql(
            f"{_LOCAL} FROM local_pass WHERE {column} = ?", (value,)
        ).fetchone()
        if row is None:
            return None
        serial, number, id_number, type_code, state, activated, expires = row
        return PassRecord(
            serial=serial,
            pass_number=number,
            id_number=id_number,
            pass_type=self.lists.pass_type(type_code),
            state=PassState(state),
            activated_on=date.fromisoformat(activated) if activated else None,
            expires_on=date.fromisoformat(expires) if expires else None,
        )

    def close(self) -> None:
        self.lists.close()


__all__ = ["PassStore", "PassType", "merge"]
