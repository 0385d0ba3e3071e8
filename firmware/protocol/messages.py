"""The sync messages on the wire: topics, the signed envelope, the JSON Schemas.

Defined in ``firmware/sync/protocol.py`` beside the schemas it loads; this
is the name both ends import it by.
"""

from __future__ import annotations

from firmware.sync.protocol import (
    ANY,
    BROADCAST,
    DOWN,
    ROOT,
    UP,
    WILL_N,
    ProtocolError,
    Sealed,
    Topic,
    addressed_to,
    broadcast_topic,
    gate_topic,
    parse_json,
    parse_topic,
    schema,
    seal,
    seal_batch,
    unseal,
    unseal_batch,
    validate,
)

__all__ = ["ANY", "BROADCAST", "DOWN", "ROOT", "UP", "WILL_N", "ProtocolError", "Sealed", "Topic",
           "addressed_to", "broadcast_topic", "gate_topic", "parse_json", "parse_topic", "schema",
           "seal", "unseal", "validate",
           "seal_batch", "unseal_batch"]  # batch2 (issue 16)  # fmt: skip
