"""The gate's side of "hub, validate this counter-mark": build the request, read the answer.

The gate never talks to pass Culture: it signs a ``passculture_validate``
request with its own key and waits (1.5 s at most, then "see the desk") for the
hub's signed ``passculture_answer`` carrying the same ``request_id``.
"""

from __future__ import annotations

import uuid
from typing import Any

from firmware.sync.protocol import ProtocolError, Sealed, addressed_to, unseal

MAX_ANSWER_BYTES = 4096


def request(museum: str, gate: str, code: str, issued_at: float, action: str = "validate",
            operator: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A request body for ``code`` (already normalised by ``codes.normalise``)."""
    return {
        "type": "passculture_validate", "museum": museum, "gate": gate, "issued_at": issued_at,
        "request_id": uuid.uuid4().hex, "action": action, "code": code, "operator": operator,
    }  # fmt: skip


def read_answer(payload: bytes, museum: str, gate: str) -> Sealed:
    """The answer in ``payload`` if well-formed and addressed here; the caller checks the
    hub's signature (``HubVerifier.check``) and that ``request_id`` is the one it asked."""
    sealed = unseal(payload, "passculture_answer", MAX_ANSWER_BYTES)
    if not addressed_to(sealed.body, museum, gate):
        raise ProtocolError("not_addressed", "a pass Culture answer for another gate")
    return sealed
