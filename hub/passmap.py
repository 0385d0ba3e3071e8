"""Which chip serial a printed pass number belongs to, as the hub knows it.

Gates key passes by chip serial; staff type the printed number when a chip
cannot be read, and the journal record of such an entry holds the number.
The hub resolves it before passing the activation on, from what it said
itself: the activations that stand, the deltas it sent (a sale or delivery
names both), then the newest list it published to every gate.
"""

from __future__ import annotations

import json

from firmware.protocol import listfile as fmt
from hub.models import HubModels

_NUMBER_SIZE = 12  # the record's pass number field


def serial_for_number(m: HubModels, number: str) -> str | None:
    """The serial of the pass printed ``number``, or None when the hub knows of none."""
    a = m.activation
    row = a.get_or_none(a.pass_number == number)
    if row is not None:
        return str(row.serial)
    d = m.delta
    needle = json.dumps({"pass_number": number})[1:-1]  # how new_delta wrote it
    for (text,) in d.select(d.item).where(d.item.contains(needle)).order_by(d.dseq.desc()).tuples():
        item = json.loads(text)
        if item.get("pass_number") == number:
            return str(item["serial"])
    return _from_list(m, number)


def _from_list(m: HubModels, number: str) -> str | None:
    encoded = number.encode()
    if not encoded or len(encoded) > _NUMBER_SIZE:
        return None
    r = m.list_release
    release = (r.select().where(r.museum == "*", r.gate == "*")
               .order_by(r.version.desc()).first())  # fmt: skip
    if release is None:
        return None
    data = bytes(release.data)
    try:
        header = fmt.read_header(data, len(data))
    except fmt.ListFormatError:
        return None
    if header.kind != "snapshot":
        return None
    return fmt.find_number_serial(data, header, encoded.ljust(_NUMBER_SIZE, b"\0"))
