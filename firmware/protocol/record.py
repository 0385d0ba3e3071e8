"""The journal record as both ends see it: its fields, their order and its hash.

The gate's journal (``firmware/journal/``) writes records with these
columns and hashes them so; the hub (``hub/ingest.py``) stores the same
columns and checks the same hash. The batch message's schema
(``firmware/sync/schemas/batch.json``) lists them again for validators.
"""

from __future__ import annotations

import hashlib
import json

# The previous hash of a gate's first record.
GENESIS_HASH = "0" * 64
# The epoch of a journal begun before journals had one: the hub files the records it
# already holds under the same value, so such a gate carries on where it was.
LEGACY_EPOCH = "0" * 32

# The order of the columns in exports and of the fields in the hash.
COLUMNS = (
    "seq", "uuid", "kind", "prev_hash", "hash", "wall", "monotonic", "time_trusted", "day",
    "museum", "gate", "credential_kind", "credential", "pass_number", "admitted", "reason",
    "billable", "children", "valid_until", "list_version", "operator", "refers_to", "detail",
    "persons",
)  # fmt: skip

HASHED = tuple(name for name in COLUMNS if name != "hash")
# Columns added after records were first hashed: hashed only when set, so every
# record written before them keeps its hash (and a record from an older gate, which
# does not send them, checks out at the hub). ``persons``: how many people an
# admission let through (holders + children); None on records before it existed.
ADDED = ("persons",)


def record_hash(fields: dict[str, object]) -> str:
    """SHA-256 over the JSON array of every field but ``hash``, in ``COLUMNS`` order.

    An array in a fixed order is as unambiguous as sorted-key JSON and about
    twice as fast to write, which the tap path and the hub's ingest both feel.
    """
    values = [fields[name] for name in HASHED if name not in ADDED]
    values += [fields[name] for name in ADDED if fields.get(name) is not None]
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
