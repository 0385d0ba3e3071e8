"""The sync protocol on the wire, shared by the gate and the hub (docs/protocol.md).

Every message but a list chunk is an *envelope*: a body, the id of the key
that signed it and an Ed25519 signature over the body's canonical JSON in the
signature domain of its sender (``gate-message`` for what gates send,
``hub-message`` for what the hub sends; ``firmware/trust.py``), so a
signature made for a list, a certificate or the other direction never passes
as a message. The JSON Schemas in ``schemas/`` are the
contract: both ends validate every message against them before acting, so
what the documentation shows is what the code accepts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware import strictjson
from firmware.protocol.record import COLUMNS
from firmware.trust import b64, sign, signing_input, unb64

ROOT = "portique/v1"
BROADCAST = "all"  # the topic level of messages to every gate (config reserves it)
ANY = "*"  # the museum and gate of a body addressed to every gate

# Gate to hub (under <root>/<museum>/<gate>/up/) and hub to gate (.../down/).
# batch2: the batch format of docs/protocol.md's "Throughput" (a signed header, the
# records after it); batch stays accepted for gates of the earlier format.
UP = ("batch", "status", "hello", "enrol", "passculture_validate", "batch2")
DOWN = ("ack", "command", "deltas", "beacon", "list/manifest", "list/chunk", "passculture_answer",
        "release")  # fmt: skip
# The last will's counter: the last word of a session, above any status it sent.
WILL_N = 2**31 - 1


class ProtocolError(Exception):
    """A message refused; ``code`` is stable (logs, tests, docs/protocol.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def gate_topic(museum: str, gate: str, direction: str, name: str) -> str:
    return f"{ROOT}/{museum}/{gate}/{direction}/{name}"


def broadcast_topic(name: str) -> str:
    return f"{ROOT}/{BROADCAST}/down/{name}"


@dataclass(frozen=True)
class Topic:
    museum: str  # BROADCAST for messages to every gate
    gate: str  # "" for broadcasts
    direction: str  # "up" or "down"
    name: str  # one of UP or DOWN


def parse_topic(topic: str) -> Topic:
    """Split a portique topic; raise ProtocolError("wrong_topic") for anything else."""
    prefix = ROOT + "/"
    parts = topic[len(prefix) :].split("/") if topic.startswith(prefix) else []
    if len(parts) >= 3 and parts[0] == BROADCAST and parts[1] == "down":
        parsed = Topic(BROADCAST, "", "down", "/".join(parts[2:]))
    elif len(parts) >= 4 and parts[2] in ("up", "down"):
        parsed = Topic(parts[0], parts[1], parts[2], "/".join(parts[3:]))
    else:
        raise ProtocolError("wrong_topic", f"{topic!r} is not a portique v1 topic")
    if parsed.name not in (UP if parsed.direction == "up" else DOWN):
        raise ProtocolError("wrong_topic", f"{topic!r}: no message {parsed.name!r} is defined")
    return parsed


# -- schemas -------------------------------------------------------------------


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of message ``name`` (``envelope``, ``batch``, ...)."""
    text = resources.files("firmware.sync").joinpath("schemas", f"{name}.json").read_text()
    return json.loads(text)


@cache
def _validator(name: str) -> Callable[[object], object]:
    return fastjsonschema.compile(schema(name))


def validate(name: str, document: object) -> None:
    """Raise ProtocolError("malformed") unless ``document`` fits schema ``name``."""
    try:
        _validator(name)(document)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise ProtocolError("malformed", f"{name}: {exc.message}") from None


# -- envelopes -----------------------------------------------------------------


def domain_of(body_type: str) -> str:
    """The signature domain of a body of this type: a gate's message (what goes up), the
    office's release notice, or another hub message (what comes down)."""
    if body_type == "release":
        # A document of its own type: no hub message's signature passes as a notice.
        return "release-notice"
    return "gate-message" if body_type in UP else "hub-message"


@dataclass(frozen=True)
class Sealed:
    """A parsed envelope whose body fits its schema; the signature is not checked yet."""

    body: dict[str, Any]
    signer: str
    signature: bytes
    cert: dict[str, Any] | None

    @property
    def signed_bytes(self) -> bytes:
        return signing_input(domain_of(self.body["type"]), self.body)


def seal(body: dict[str, Any], key: Ed25519PrivateKey, signer: str,
         cert: dict[str, Any] | None = None) -> bytes:  # fmt: skip
    """The envelope of ``body`` signed by ``key`` (whose id is ``signer``), as bytes."""
    envelope: dict[str, Any] = {
        "body": body,
        "signer": signer,
        "signature": b64(sign(key, domain_of(body["type"]), body)),
    }
    if cert is not None:
        envelope["cert"] = cert
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(payload: bytes, limit: int) -> Any:
    """Decode a payload of at most ``limit`` bytes, or raise ProtocolError."""
    if len(payload) > limit:
        raise ProtocolError("oversized", f"{len(payload)} bytes, more than the {limit} allowed")
    try:
        return strictjson.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("malformed", f"not JSON within limits ({exc})") from None


def unseal(payload: bytes, expected: str, limit: int) -> Sealed:
    """Parse an envelope carrying a body of type ``expected``; or raise ProtocolError."""
    document = parse_json(payload, limit)
    if not isinstance(document, dict) or "signature" not in document or "signer" not in document:
        raise ProtocolError("unsigned", "no signature: every message but a list chunk is signed")
    validate("envelope", document)
    body = document["body"]
    if body["type"] != expected:
        raise ProtocolError("malformed", f"a {body['type']!r} body on the {expected} topic")
    validate(expected, body)
    try:
        signature = unb64(document["signature"], "signature")
    except Exception as exc:  # TrustError: the pattern let through a bad padding
        raise ProtocolError("malformed", str(exc)) from None
    return Sealed(body, document["signer"], signature, document.get("cert"))


_PREV_HASH, _HASH = COLUMNS.index("prev_hash"), COLUMNS.index("hash")


def seal_batch(header: dict[str, Any], records: list[list[Any]], key: Ed25519PrivateKey,
               signer: str) -> bytes:  # fmt: skip
    """A batch2 message: the signed header, a newline, the records as a compact array.

    Only the header is signed (a few hundred bytes, not the whole batch): it
    names the records' SHA-256 and the hash chain's ends, which bind them.
    """
    data = json.dumps(records, separators=(",", ":"), ensure_ascii=False).encode()
    header = {**header, "type": "batch2", "prev_hash": records[0][_PREV_HASH],
              "last_hash": records[-1][_HASH],
              "records_sha256": hashlib.sha256(data).hexdigest()}  # fmt: skip
    return seal(header, key, signer) + b"\n" + data


def unseal_batch(payload: bytes, limit: int) -> tuple[Sealed, bytes]:
    """Split a batch2 message: its parsed header (signature not checked yet), the records' bytes.

    Raises ProtocolError; the records' bytes are checked against the header's
    hash here, and parsed only later (hub/rawbatch.py), off the path of the
    acknowledgement.
    """
    if len(payload) > limit:
        raise ProtocolError("oversized", f"{len(payload)} bytes, more than the {limit} allowed")
    head, newline, data = payload.partition(b"\n")
    if not newline:
        raise ProtocolError("malformed", "batch2: no records after the signed header")
    sealed = unseal(head, "batch2", limit)
    if hashlib.sha256(data).hexdigest() != sealed.body["records_sha256"]:
        raise ProtocolError("bad_records", "batch2: the records do not match the header's hash")
    return sealed, data


def addressed_to(body: dict[str, Any], museum: str, gate: str) -> bool:
    """Whether a hub message's body names this gate (or every gate)."""
    return (body["museum"], body["gate"]) in ((museum, gate), (ANY, ANY))
