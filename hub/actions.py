"""What a person changes through the hub: block a pass, publish a list, issue a code.

One function per action, shared by the ``portique-hub`` command and the web
console, so both check the same things before anything is stored or signed.
Each stores first, in one transaction, and publishes after: a change stored
while the broker is away still reaches every gate, at its next hello.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.protocol import access_codes as access
from firmware.protocol import listfile as fmt
from firmware.protocol.listfile import ListRejected, verify_file
from firmware.protocol.signing import TrustError, TrustStore, read_public_key
from hub.activations import BadDelta, check_item, new_delta
from hub.keys import ROOT_PUB, HubSigner
from hub.models import HubModels
from hub.publish import Broker, publish_once


class ActionRefused(Exception):
    """The action was not done and nothing changed; ``code`` is stable, the message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- passes ---------------------------------------------------------------------------


def check_serial(text: str) -> str:
    """``text`` as a chip serial the gates accept (upper-case hex), or ActionRefused."""
    serial = text.strip().upper()
    try:
        _check_delta_item({"dseq": 1, "kind": "block", "serial": serial, "state": "blocked"})
    except ActionRefused:
        raise ActionRefused(
            "bad_serial",
            f"{serial!r} is not a chip serial: 4, 7 or 10 bytes, 8, 14 or 20 hexadecimal "
            "digits (0-9, A-F), e.g. 04A1B2C3D4E501",
        ) from None
    return serial


def _check_delta_item(item: dict[str, Any]) -> None:
    """Refuse an item the gates would refuse: nothing signed, no ``dseq`` used up."""
    full = {
        "pass_number": None, "id_number": None, "pass_type": None, "activated_on": None,
        "expires_on": None, "origin_museum": None, "origin_gate": None, **item,
    }  # fmt: skip
    try:
        check_item(full, 0)
    except BadDelta as exc:
        raise ActionRefused("bad_delta", str(exc)) from None


def block_pass(m: HubModels, serial: str, now: float) -> dict[str, Any]:
    """Store the delta that blocks ``serial`` on every gate; return it (to publish)."""
    serial = check_serial(serial)
    with m.db.atomic():
        return new_delta(m, now, kind="block", serial=serial, state="blocked")


def sell_pass(m: HubModels, serial: str, pass_number: str, pass_type: str,
              now: float) -> dict[str, Any]:  # fmt: skip
    """Store the delta that records a sale of ``serial`` on every gate; return it."""
    serial = check_serial(serial)
    _check_delta_item({"dseq": 1, "kind": "sale", "serial": serial, "state": "sold",
                       "pass_number": pass_number, "pass_type": pass_type})  # fmt: skip
    with m.db.atomic():
        return new_delta(m, now, kind="sale", serial=serial, state="sold",
                         pass_number=pass_number, pass_type=pass_type)  # fmt: skip


def unblock_pass(m: HubModels, serial: str, now: float) -> dict[str, Any]:
    """Store the delta that lifts a block made through the hub; return it.

    The gates keep a block until a sale re-issues the pass, so the unblock is
    a ``sale`` delta carrying what the hub last knew before the block: the
    activation that stands (state active, its dates) or the last sale. A pass
    the hub knows nothing else of goes back to sold: its next entry activates it.
    A block written in the list itself stays until a list without it.
    """
    serial = check_serial(serial)
    with m.db.atomic():
        if not _blocked_by_hub(m, serial):
            raise ActionRefused("not_blocked", f"pass {serial} was not blocked through the hub")
        a = m.activation.get_or_none(m.activation.serial == serial)
        if a is not None:
            fields = {"state": "active", "pass_number": a.pass_number,
                      "activated_on": a.activated_on, "expires_on": a.expires_on}  # fmt: skip
        else:
            sale = _last_item(m, serial, "sale")
            fields = {"state": "sold"}
            if sale is not None:
                fields |= {"pass_number": sale["pass_number"], "pass_type": sale["pass_type"]}
        return new_delta(m, now, kind="sale", serial=serial, **fields)


def _last_item(m: HubModels, serial: str, kind: str | None = None) -> dict[str, Any] | None:
    d = m.delta
    for (text,) in d.select(d.item).where(d.serial == serial).order_by(d.dseq.desc()).tuples():
        item = json.loads(text)
        if kind is None or item["kind"] == kind:
            return item
    return None


def _blocked_by_hub(m: HubModels, serial: str) -> bool:
    last = _last_item(m, serial)
    return last is not None and last["state"] == "blocked"


def send_deltas(broker: Broker, data_dir: Path, now: Callable[[], float],
                items: list[dict[str, Any]]) -> None:  # fmt: skip
    """Publish stored deltas to every gate now (OSError when the broker is away)."""
    publish_once(broker, HubSigner.load(data_dir), now, lambda p: p.deltas(items))


# -- lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    version: int
    size: int
    sha256: str
    museum: str
    gate: str


def verify_list(data: bytes, data_dir: Path, now: float, current_version: int,
                allow_demo: bool = False) -> fmt.Header:  # fmt: skip
    """The header of list file ``data`` if a gate would accept it after ``current_version``.

    Checked as a gate checks it (``firmware/lists/verify.py``) against the
    root the hub pins (``root.pub`` in its folder): signature, certificate,
    version, length, hash.
    """
    try:
        trust = TrustStore(root=read_public_key(data_dir / ROOT_PUB), allow_demo=allow_demo)
    except TrustError as exc:
        raise ActionRefused("no_root", f"the hub has no root key to check lists: {exc}") from None
    with tempfile.NamedTemporaryFile(prefix="portique-list-", suffix=".pql") as handle:
        handle.write(data)
        handle.flush()
        try:
            return verify_file(Path(handle.name), trust, current_version, now, len(data))
        except ListRejected as exc:
            detail = str(exc).split(": ", 1)[-1]  # the message names the temporary file
            raise ActionRefused(f"list_{exc.code}", f"the list file is refused: {detail}") from None
        except (TrustError, ValueError) as exc:
            raise ActionRefused("list_malformed", f"the list file is refused: {exc}") from None


def latest_list_version(m: HubModels, museum: str = "*", gate: str = "*",
                        data: bytes | None = None) -> int:  # fmt: skip
    """The newest version published to ``museum``/``gate``, leaving out a release of
    exactly ``data``: sending the same file again is allowed, an older one is not."""
    r = m.list_release
    query = r.select(r.version).where(r.museum == museum, r.gate == gate)
    if data is not None:
        query = query.where(r.sha256 != hashlib.sha256(data).hexdigest())
    row = query.order_by(r.version.desc()).first()
    return row.version if row else 0


def store_list(m: HubModels, data: bytes, version: int, now: float, museum: str = "*",
               gate: str = "*") -> Release:  # fmt: skip
    """Keep list file ``data`` as the release for ``museum``/``gate`` (``*``: every gate)."""
    release = Release(version, len(data), hashlib.sha256(data).hexdigest(), museum, gate)
    r = m.list_release
    # ON CONFLICT ... DO UPDATE: SQLite's and PostgreSQL's (not SQLite's INSERT OR REPLACE).
    r.insert(version=version, museum=museum, gate=gate, size=release.size,
             sha256=release.sha256, data=data, published_at=now).on_conflict(
        conflict_target=[r.version, r.museum, r.gate],
        update={r.size: release.size, r.sha256: release.sha256, r.data: data,
                r.published_at: now},
    ).execute()  # fmt: skip
    return release


def send_list(broker: Broker, data_dir: Path, now: Callable[[], float], data: bytes,
              release: Release) -> None:  # fmt: skip
    """Send a stored release to its gates now (OSError when the broker is away)."""
    publish_once(broker, HubSigner.load(data_dir), now,
                 lambda p: p.list_file(data, release.version, release.museum,
                                       release.gate))  # fmt: skip


# -- access codes -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCode:
    text: str
    museum: str
    gate: str
    role: str
    expires_at: float
    nonce: int


def issue_access_code(office_key: Path, museum: str, gate: str, role: str,
                      expires_at: float, now: float) -> IssuedCode:  # fmt: skip
    """A new code from the office's key, read back to learn its nonce (to see its use)."""
    from firmware.protocol.signing import load_private_key, raw_public

    if role not in access.ROLES:
        raise ActionRefused("bad_role", f"role must be one of {', '.join(access.ROLES)}")
    if expires_at <= now:
        raise ActionRefused("bad_validity", "the code would be expired already")
    try:
        key = load_private_key(office_key)
    except TrustError as exc:
        raise ActionRefused("no_office_key", f"cannot issue codes: {exc}") from None
    text = access.issue(key, museum, gate, role, expires_at)
    code = access.check(text, raw_public(key.public_key()), museum, gate, now, set())
    return IssuedCode(text, museum, gate, role, code.expires_at, code.nonce)


def access_code_used(m: HubModels, museum: str, gate: str, nonce: int) -> bool:
    """Whether the hub accepted an enrolment with this code (``hub/service.py``)."""
    c = m.counter
    return c.select().where(c.name == f"access:{museum}/{gate}:{nonce}").exists()


# -- problems -------------------------------------------------------------------------------


def resolve_problem(m: HubModels, problem_id: int) -> Any:
    """Mark a problem resolved; return its row (ActionRefused when there is none)."""
    p = m.problem
    row = p.get_or_none(p.id == problem_id)
    if row is None:
        raise ActionRefused("no_problem", f"there is no problem {problem_id}")
    p.update(resolved=True).where(p.id == problem_id).execute()
    return row
