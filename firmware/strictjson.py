"""JSON from outside, parsed with limits: no parser bombs reach the code.

Everything the gate and the hub read from the network or a list file goes
through ``loads``: nesting deeper than ``MAX_DEPTH``, integers outside 64 bits,
``NaN``/``Infinity`` and numbers too large for a float are refused with a
``ValueError`` that the callers turn into their ``malformed`` refusal. Python's
own parser would accept huge integers and, for deep nesting, raise
``RecursionError``, which no caller expects.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


def _int(text: str) -> int:
    # Refused before conversion: a 100,000-digit integer is slow to convert.
    if len(text.lstrip("-")) > 20 or not _INT_MIN <= (value := int(text)) <= _INT_MAX:
        raise ValueError(f"integer {text[:24]}{'…' if len(text) > 24 else ''} is beyond 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:24]} is too large")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _depth(document: Any) -> int:
    """The nesting depth of ``document``, without recursion."""
    deepest, todo = 0, [(document, 1)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        todo.extend((child, depth + 1) for child in value if isinstance(child, dict | list))
    return deepest


def loads(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data``; ValueError for bad JSON and for anything beyond the limits."""
    try:
        document = json.loads(data, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if _depth(document) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return document
