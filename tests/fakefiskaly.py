"""A fake fiskaly SIGN DE v2 server, built from fiskaly's public API reference.

It checks what the real service checks that matters to us (bearer tokens,
an INITIALIZED TSS, a registered client, revision 1 ACTIVE before revision
2 FINISHED, the receipt's shape) and signs with a real ECDSA P-256 key, so
the client's parsing and error paths run against real HTTP.
"""

from __future__ import annotations

import base64
import json
import re
import socketserver
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

_TX = re.compile(r"^/api/v2/tss/([^/]+)/tx/([^/]+)$")
_CLIENT = re.compile(r"^/api/v2/tss/([^/]+)/client/([^/]+)$")
_TSS = re.compile(r"^/api/v2/tss/([^/]+)$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer looks its own name up (getfqdn), which can stall on a machine
        # without DNS; the fake only ever listens on loopback.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class FakeFiskaly:
    def __init__(self, api_key: str = "key", api_secret: str = "secret",
                 tss_id: str | None = None) -> None:  # fmt: skip
        self.api_key, self.api_secret = api_key, api_secret
        self.tss_id = tss_id or str(uuid.uuid4())
        self.tss_state = "INITIALIZED"
        self.serial = "a1b2c3" * 10
        self.tokens: set[str] = set()
        self.clients: dict[str, str] = {}
        self.transactions: dict[str, dict[str, Any]] = {}
        self.counter = 0
        self.fail_status: int | None = None  # answer every call with this HTTP status
        self.hang = threading.Event()  # set: every call waits for ``release`` before answering
        self.release = threading.Event()
        self.on_call: Callable[[], None] | None = None  # e.g. let the test's clock move
        self.calls: list[tuple[str, str]] = []
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._server = _Server(("127.0.0.1", 0), self._handler())
        # shutdown() waits for serve_forever's next poll: a short one keeps each test quick.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeFiskaly:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self._route("POST")

            def do_PUT(self) -> None:
                self._route("PUT")

            def do_GET(self) -> None:
                self._route("GET")

            def _route(self, method: str) -> None:
                url = urlsplit(self.path)
                fake.calls.append((method, url.path))
                if fake.on_call is not None:
                    fake.on_call()
                if fake.hang.is_set():
                    fake.release.wait(timeout=30)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer = fake.answer(method, url.path, parse_qs(url.query), body,
                                             self.headers.get("Authorization", ""))  # fmt: skip
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any],
               auth: str) -> tuple[int, dict[str, Any]]:  # fmt: skip
        if self.fail_status:
            return _error(self.fail_status, "E_INTERNAL", "the fake was told to fail")
        if method == "POST" and path == "/api/v2/auth":
            if (body.get("api_key"), body.get("api_secret")) != (self.api_key, self.api_secret):
                return _error(401, "E_UNAUTHORIZED", "wrong API key or secret")
            token = str(uuid.uuid4())
            self.tokens.add(token)
            return 200, {"access_token": token, "access_token_expires_in": 86400,
                         "refresh_token": str(uuid.uuid4())}  # fmt: skip
        if auth.removeprefix("Bearer ") not in self.tokens:
            return _error(401, "E_UNAUTHORIZED", "missing or expired bearer token")
        if (match := _TSS.match(path)) and method == "GET":
            if match[1] != self.tss_id:
                return _error(404, "E_TSS_NOT_FOUND", "no such TSS")
            return 200, {"_id": self.tss_id, "state": self.tss_state,
                         "serial_number": self.serial}  # fmt: skip
        if (match := _CLIENT.match(path)) and method == "PUT":
            self.clients[match[2]] = str(body.get("serial_number"))
            return 200, {"_id": match[2], "serial_number": body.get("serial_number"),
                         "state": "REGISTERED", "tss_id": match[1]}  # fmt: skip
        if (match := _TX.match(path)) and method == "PUT":
            return self._transaction(match[2], int(query["tx_revision"][0]), body)
        return _error(404, "E_NOT_FOUND", f"{method} {path}")

    def _transaction(self, tx_id: str, revision: int, body: dict[str, Any]):  # noqa: ANN202
        if body.get("client_id") not in self.clients:
            return _error(400, "E_CLIENT_NOT_FOUND", "client not registered")
        tx = self.transactions.get(tx_id)
        if revision == 1:
            if tx is not None or body.get("state") != "ACTIVE":
                return _error(409, "E_TX_CONFLICT", "revision 1 starts an ACTIVE transaction")
            self.counter += 1
            tx = {"_id": tx_id, "number": len(self.transactions) + 1, "state": "ACTIVE",
                  "time_start": 1_780_000_000, "revision": 1}  # fmt: skip
            self.transactions[tx_id] = tx
            return 200, tx
        if tx is None or tx["state"] != "ACTIVE" or body.get("state") != "FINISHED":
            return _error(409, "E_TX_CONFLICT", "finish an ACTIVE transaction at revision 2")
        receipt = body["schema"]["standard_v1"]["receipt"]
        for key in ("receipt_type", "amounts_per_vat_rate", "amounts_per_payment_type"):
            if key not in receipt:
                return _error(400, "E_VALIDATION", f"receipt lacks {key}")
        self.counter += 1
        signed = json.dumps([tx_id, receipt, self.counter], sort_keys=True).encode()
        value = base64.b64encode(self._key.sign(signed, ec.ECDSA(hashes.SHA256()))).decode()
        tx.update(state="FINISHED", revision=2, time_end=1_780_000_001, receipt=receipt,
                  signature={"value": value, "algorithm": "ecdsa-plain-SHA256",
                             "counter": self.counter}, tss_serial_number=self.serial,
                  client_serial_number=self.clients[body["client_id"]])  # fmt: skip
        tx["qr_code_data"] = (f"V0;{tx['client_serial_number']};Kassenbeleg-V1;Beleg^"
                              f"{receipt['amounts_per_payment_type'][0]['amount']};"
                              f"{tx['number']};{self.counter};{value}")  # fmt: skip
        return 200, tx


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"status_code": status, "error": "error", "code": code, "message": message}
