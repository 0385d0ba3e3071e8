"""fiskaly SIGN DE (API v2): a cloud TSE, driven over HTTPS with the standard library.

The calls, from fiskaly's public API reference:

- ``POST /api/v2/auth`` with ``api_key`` and ``api_secret`` answers a bearer
  ``access_token`` and ``access_token_expires_in`` (seconds);
- ``GET /api/v2/tss/{tss_id}`` answers the TSS and its ``state`` (a TSS must
  be ``INITIALIZED`` to sign; setting one up is the museum's, once, with
  fiskaly's dashboard) and its ``serial_number``;
- ``PUT /api/v2/tss/{tss_id}/client/{client_id}`` registers this till
  (``serial_number``); repeated, it answers the same client;
- ``PUT /api/v2/tss/{tss_id}/tx/{tx_id}?tx_revision=1`` with state
  ``ACTIVE`` starts a transaction; ``tx_revision=2`` with state ``FINISHED``
  and the receipt (``schema.standard_v1.receipt``: amounts per VAT rate and
  per payment type, decimal strings) finishes it and answers its
  ``signature`` (``value``, ``counter``, ``algorithm``), ``number``,
  ``time_start``, ``time_end``, ``tss_serial_number`` and ``qr_code_data``;
- an error answers ``{status_code, error, code, message}``.

Ids are UUIDs the caller chooses, so a call repeated after a lost answer is
harmless. Every call has a timeout: a TSE that hangs fails the signature,
never the sale.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from firmware.clock import Clock
from firmware.counter.money import format_cents
from firmware.counter.tse import TseError, TseSignature, TseTransaction

# Renew the token this long before fiskaly says it expires.
TOKEN_MARGIN_S = 60.0


class FiskalyTse:
    name = "fiskaly"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        tss_id: str,
        client_id: str,
        client_serial: str,
        clock: Clock,
        timeout_s: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v2"
        self._key, self._secret = api_key, api_secret
        self.tss_id, self.client_id, self.client_serial = tss_id, client_id, client_serial
        self.clock, self.timeout_s = clock, timeout_s
        self._token: str | None = None
        self._token_until = 0.0
        self._client_ready = False
        self._deadline = 0.0

    def sign(self, transaction: TseTransaction) -> TseSignature:
        # One budget for the whole signature (up to five calls), not one per call:
        # a TSE that hangs delays a sale by timeout_s at most.
        self._deadline = self.clock.monotonic() + self.timeout_s
        if not self._client_ready:
            self._register_client()
        path = f"/tss/{self.tss_id}/tx/{transaction.tx_id}"
        self._call("PUT", f"{path}?tx_revision=1",
                   {"state": "ACTIVE", "client_id": self.client_id})  # fmt: skip
        answer = self._call("PUT", f"{path}?tx_revision=2", {
            "state": "FINISHED",
            "client_id": self.client_id,
            "schema": {"standard_v1": {"receipt": _receipt(transaction)}},
        })  # fmt: skip
        try:
            signature = answer["signature"]
            return TseSignature(
                serial=str(answer["tss_serial_number"]),
                client=str(answer.get("client_serial_number", self.client_serial)),
                number=int(answer["number"]),
                counter=int(signature["counter"]),
                value=str(signature["value"]),
                algorithm=str(signature.get("algorithm", "")),
                time_start=str(answer["time_start"]),
                time_end=str(answer["time_end"]),
                qr_data=str(answer["qr_code_data"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TseError("bad_answer", f"fiskaly's answer lacks {exc}") from None

    def _register_client(self) -> None:
        tss = self._call("GET", f"/tss/{self.tss_id}")
        if tss.get("state") != "INITIALIZED":
            raise TseError("tss_not_initialized", f"fiskaly TSS {self.tss_id} is "
                           f"{tss.get('state')}, not INITIALIZED: set it up first")  # fmt: skip
        self._call("PUT", f"/tss/{self.tss_id}/client/{self.client_id}",
                   {"serial_number": self.client_serial})  # fmt: skip
        self._client_ready = True

    def _bearer(self) -> str:
        if self._token is None or self.clock.monotonic() >= self._token_until:
            answer = self._request("POST", "/auth", {"api_key": self._key,
                                                     "api_secret": self._secret}, None)  # fmt: skip
            try:
                self._token = str(answer["access_token"])
                lifetime = float(answer["access_token_expires_in"])
            except (KeyError, TypeError, ValueError):
                raise TseError("bad_answer", "fiskaly's auth answer has no token") from None
            self._token_until = self.clock.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_S)
        return self._token

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            return self._request(method, path, body, self._bearer())
        except TseError as exc:
            if exc.code != "unauthorized":
                raise
            self._token = None  # revoked or expired early: one fresh token, one retry
            return self._request(method, path, body, self._bearer())

    def _request(self, method: str, path: str, body: dict[str, Any] | None,
                 token: str | None) -> dict[str, Any]:  # fmt: skip
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        left = self._deadline - self.clock.monotonic() if self._deadline else self.timeout_s
        if left <= 0:
            raise TseError("timeout", f"fiskaly {method} {path}: no time left of the "
                           f"{self.timeout_s} s for this signature")  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=left) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, method, path) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TseError("unreachable", f"fiskaly {method} {path}: {exc}") from None
        except ValueError:
            raise TseError("bad_answer", f"fiskaly {method} {path}: answer is not JSON") from None


def _http_error(exc: urllib.error.HTTPError, method: str, path: str) -> TseError:
    try:
        detail = json.loads(exc.read())
        message = f"{detail.get('code') or detail.get('error')}: {detail.get('message')}"
    except (ValueError, AttributeError):
        message = exc.reason
    code = "unauthorized" if exc.code == 401 else f"http_{exc.code}"
    return TseError(code, f"fiskaly {method} {path} answered {exc.code} ({message})")


def _receipt(transaction: TseTransaction) -> dict[str, Any]:
    return {
        "receipt_type": transaction.receipt_type,
        "amounts_per_vat_rate": [{"vat_rate": rate, "amount": format_cents(cents)}
                                 for rate, cents in transaction.amounts_per_vat_rate],
        "amounts_per_payment_type": [{"payment_type": kind, "amount": format_cents(cents)}
                                     for kind, cents in transaction.amounts_per_payment_type],
    }  # fmt: skip
