"""The pass store: what the decision reads about a pass.

Three sources.

- The *list* (``firmware/lists``): what the hub signed, the newest snapshot
  and the list deltas since.
- The *remote layer*: the ``remote_pass`` table of the journal database,
  what the hub said over sync about passes changed elsewhere since (sales,
  activations and blocks at other museums; ``firmware/sync/deltas.py``). The
  hub may leave out what it does not know; the list fills that in.
- The *local layer*: the ``local_pass`` table, changes this gate made itself
  (activations), committed in the same transaction as the journal record
  that caused them, and so known here before the hub has heard of them.

``hub_view`` combines what the hub said (remote and list), ``merge`` weighs
it against this gate's own word.
"""

from __future__ import annotations

from datetime import date

from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.journal.journal import Journal
from firmware.lists.manager import ListManager

_COLUMNS = "serial, pass_number, id_number, pass_type, state, activated_on, expires_on"
# The hub's word also says whose stock a pass is in, and whether a renewal set the dates.
_EXTRA = {"local_pass": "NULL, NULL", "remote_pass": "stock_of, kind"}

Row = tuple[str, str | None, str | None, str | None, str | None, str | None, str | None,
            str | None, str | None]  # fmt: skip


def _earliest(a: PassRecord, b: PassRecord) -> PassRecord:
    if a.activated_on is None or b.activated_on is None:
        return b
    return a if a.activated_on < b.activated_on else b


def hub_view(remote: PassRecord | None, listed: PassRecord | None,
             renewed: bool = False) -> PassRecord | None:  # fmt: skip
    """What the hub says of a pass: a sync delta and the list, whichever is stronger.

    A block wins; two activations keep the earliest, unless the delta is a
    renewal (its new year starts later on purpose and must not lose to the
    year it extends); otherwise the sync delta, which is newer than the list
    it was sent after.
    """
    if remote is None or listed is None:
        return remote or listed
    for record in (listed, remote):
        if record.state is PassState.BLOCKED:
            return record
    if renewed:
        return remote
    if remote.state is PassState.ACTIVE and listed.state is PassState.ACTIVE:
        return _earliest(remote, listed)
    return remote


def merge(local: PassRecord | None, listed: PassRecord | None,
          renewed: bool = False) -> PassRecord | None:  # fmt: skip
    """The record to decide on when this gate and the hub may disagree.

    - a block from the central office always wins;
    - both active (activated here and elsewhere while offline): the earliest
      activation wins, as at the hub, unless the hub's record is a renewal;
    - the hub says sold or in stock, or renewed: this gate's activation wins
      unless the hub's validity runs past it (a renewal sold after our activation).
    """
    if local is None or listed is None:
        return local or listed
    if listed.state is PassState.BLOCKED:
        return listed
    if listed.state is PassState.ACTIVE and not renewed:
        return _earliest(local, listed)
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
        listed = self.lists.lookup(serial)
        local = self._row("local_pass", "serial", serial, listed)[0] if (
            serial in self._journal.local_serials
        ) else None  # fmt: skip
        remote, renewed = self._row("remote_pass", "serial", serial, listed) if (
            serial in self._journal.remote_serials
        ) else (None, False)  # fmt: skip
        return merge(local, hub_view(remote, listed, renewed), renewed)

    def lookup_number(self, pass_number: str) -> PassRecord | None:
        """The pass with printed number ``pass_number``, or None.

        The hub's deltas carry the number with the serial, so a pass sold or
        activated elsewhere is found by its typed number here too.
        """
        listed = self.lists.lookup_number(pass_number)
        local, _ = self._row("local_pass", "pass_number", pass_number, listed)
        remote, renewed = self._row("remote_pass", "pass_number", pass_number, listed)
        if listed is None and (found := local or remote) is not None:
            listed = self.lists.lookup(found.serial)  # a number the list does not carry
        return merge(local, hub_view(remote, listed, renewed), renewed)

    def _row(self, table: str, column: str, value: str,
             listed: PassRecord | None) -> tuple[PassRecord | None, bool]:  # fmt: skip
        """The table's record (None if absent) and whether a renewal set it."""
        row = self._journal.db.execute_sql(
            f"SELECT {_COLUMNS}, {_EXTRA[table]} FROM {table} WHERE {column} = ?", (value,)
        ).fetchone()
        return (None, False) if row is None else (self._record(row, listed), row[-1] == "renewal")

    def _record(self, row: Row, listed: PassRecord | None) -> PassRecord:
        serial, number, id_number, type_code, state, activated, expires, stock_of, _ = row

        def known(value: str | None, fallback: object) -> object:
            # The hub leaves out what it does not know; the list fills it in.
            return fallback if value is None else value

        return PassRecord(
            serial=serial,
            pass_number=str(known(number, listed.pass_number if listed else "")),
            id_number=str(known(id_number, listed.id_number if listed else "")),
            pass_type=self.lists.pass_type(type_code)
            if type_code
            else (listed.pass_type if listed else PassType("unknown", 1, 0)),  # fmt: skip
            state=PassState(state) if state else (listed.state if listed else PassState.SOLD),
            activated_on=date.fromisoformat(activated) if activated else None,
            expires_on=date.fromisoformat(expires) if expires else None,
            stock_of=stock_of if stock_of is not None else (
                listed.stock_of if listed and state in (None, PassState.STOCK) else None),
        )  # fmt: skip

    def close(self) -> None:
        self.lists.close()


__all__ = ["PassStore", "PassType", "hub_view", "merge"]
