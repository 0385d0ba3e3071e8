"""pass Culture's bookings API over HTTP: one call per endpoint, answers as values.

Each call returns an ``Answer`` (status, JSON body, Retry-After) or raises
``Unreachable`` when no answer came (connection refused, timeout): what to do
with either is the connector's business. A booking body is checked against the
contract's ``GetBookingResponse`` schema before anyone reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
import httpx

PREFIX = "/public/bookings/v1"
PRODUCTION_URL = "https://backend.passculture.app"


class Unreachable(Exception):
    """No answer: ``sent`` says whether the request may have reached pass Culture."""

    def __init__(self, message: str, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class MalformedAnswer(ValueError):
    """A body that does not fit the contract."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # parsed JSON, or None
    retry_after: float | None

    def detail_keys(self) -> set[str]:
        """The error keys pass Culture put in the body ({"booking_cancelled": [...]} ...)."""
        return set(self.body) if isinstance(self.body, dict) else set()

    def detail(self) -> str:
        if not isinstance(self.body, dict):
            return ""
        parts = []
        for value in self.body.values():
            parts.extend(value if isinstance(value, list) else [value])
        return "; ".join(str(p) for p in parts)


@cache
def load_contract() -> dict[str, Any]:
    """The bookings part of pass Culture's published OpenAPI document (kept as data)."""
    text = resources.files("hub.passculture").joinpath("contract.json").read_text()
    return json.loads(text)


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema to JSON Schema: ``nullable`` becomes a null type, refs resolve."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _json_schema(load_contract()["components"]["schemas"][name])
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


@cache
def _booking_validator() -> Any:
    return fastjsonschema.compile(_json_schema({"$ref": "#/components/schemas/GetBookingResponse"}))


def check_booking(body: Any) -> dict[str, Any]:
    """``body`` if it is a booking as the contract describes it, else MalformedAnswer."""
    try:
        _booking_validator()(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        raise MalformedAnswer(f"booking answer does not fit the contract: {exc.message}") from None
    return body


class BookingsApi:
    """One venue API key's view of pass Culture's bookings endpoints."""

    def __init__(self, client: httpx.Client, base_url: str, api_key: str) -> None:
        self._client, self._base, self._key = client, base_url.rstrip("/"), api_key

    def get(self, token: str, timeout: float) -> Answer:
        return self._call("GET", f"/token/{token}", timeout)

    def use(self, token: str, timeout: float) -> Answer:
        return self._call("PATCH", f"/use/token/{token}", timeout)

    def keep(self, token: str, timeout: float) -> Answer:
        return self._call("PATCH", f"/keep/token/{token}", timeout)

    def cancel(self, token: str, timeout: float) -> Answer:
        return self._call("PATCH", f"/cancel/token/{token}", timeout)

    def _call(self, method: str, path: str, timeout: float) -> Answer:
        try:
            response = self._client.request(
                method, f"{self._base}{PREFIX}{path}", timeout=httpx.Timeout(timeout),
                headers={"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
            )  # fmt: skip
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(f"{method} {path}: cannot connect ({exc})", sent=False) from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"{method} {path}: no answer ({type(exc).__name__})",
                              sent=True) from None  # fmt: skip
        return Answer(response.status_code, _body(response), _retry_after(response))


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: the connector falls back to its own backoff
