"""A real HTTP server playing pass Culture's bookings API, built from its contract.

Bookings live in memory per venue API key (a provider sees only its venues'
bookings). Every request it receives and every answer it gives is checked
against the published OpenAPI document (``hub/passculture/contract.json``) with
openapi-core; anything that does not fit is kept in ``contract_errors`` and the
fixture fails the test with it, so the fake cannot drift from the contract.

Test-side actions, like gpiozero's ``MockFactory``: ``add_booking``, ``slow``,
``go_down``/``come_back``, ``fail_next`` (503, 422, ...), ``break_contract``;
and a history (``requests``). The rate limit (200 requests a minute per key)
counts against the injected clock, so a test crosses it without waiting.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from firmware.clock import Clock, ManualClock
from hub.passculture.api import load_contract

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request: noise
RATE_LIMIT = 200  # requests per API key per minute (the contract's notice)
WINDOW_S = 60.0
PREFIX = "/public/bookings/v1"


@functools.cache
def fake_contract() -> OpenAPI:
    """The contract, with the fake's address and the two values strict 3.0 tools refuse.

    pass Culture wrote ``externalDocs: null`` and ``exclusiveMinimum: 0`` (3.1 style) for
    ``limit``; here they become no externalDocs and ``minimum: 1``, which accept exactly
    the same requests (``limit`` is an integer).
    """
    spec = copy.deepcopy(load_contract())
    spec["servers"].append({"url": "http://127.0.0.1:{port}", "description": "the fake",
                            "variables": {"port": {"default": "80"}}})  # fmt: skip
    for tag in spec.get("tags", []):
        if tag.get("externalDocs") is None:
            tag.pop("externalDocs", None)
    for parameter in spec["paths"][f"{PREFIX}/bookings"]["get"]["parameters"]:
        schema = parameter["schema"]
        if schema.get("exclusiveMinimum") == 0:
            del schema["exclusiveMinimum"]
            schema["minimum"] = 1
    return OpenAPI.from_dict(spec)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class Booking:
    token: str
    fields: dict[str, Any]  # GetBookingResponse as the API sends it
    api_key: str
    validatable_from: float = 0.0  # an event booking: once it can no longer be cancelled
    history: list[str] = field(default_factory=list)  # statuses it went through

    @property
    def status(self) -> str:
        return self.fields["status"]


class FakePassCulture:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.bookings: dict[str, Booking] = {}
        self.venues: dict[str, set[int]] = {}  # API key -> the venues it may act for
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status), in order
        self.contract_errors: list[str] = []
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._failures: deque[int] = deque()
        self._delay_s = 0.0
        self._delay_only: str | None = None
        self._delay_after = False
        self._released = threading.Event()
        self._broken = False
        self._next_id = 1000
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._urls = Map([
            Rule(f"{PREFIX}/token/<token>", endpoint="get", methods=["GET"]),
            Rule(f"{PREFIX}/use/token/<token>", endpoint="use", methods=["PATCH"]),
            Rule(f"{PREFIX}/keep/token/<token>", endpoint="keep", methods=["PATCH"]),
            Rule(f"{PREFIX}/cancel/token/<token>", endpoint="cancel", methods=["PATCH"]),
            Rule(f"{PREFIX}/bookings", endpoint="list", methods=["GET"]),
        ])  # fmt: skip

    # -- running ------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakePassCulture:
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self._contract = fake_contract()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-passculture")  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_down(self) -> None:
        """Stop listening: connections are refused until ``come_back``."""
        self.stop()

    def come_back(self) -> None:
        self._released.clear()
        self.start()

    # -- test-side actions ------------------------------------------------------------

    def add_venue(self, api_key: str, *venue_ids: int) -> None:
        self.venues.setdefault(api_key, set()).update(venue_ids)

    def add_booking(self, api_key: str, token: str, *, venue_id: int, quantity: int = 1,
                    status: str = "CONFIRMED", price: int = 1200, offer_id: int = 77,
                    offer_name: str = "Carte musée", price_category: str | None = "Plein tarif",
                    validatable_from: float = 0.0) -> Booking:  # fmt: skip
        self._next_id += 1
        fields = {
            "id": self._next_id, "quantity": quantity, "creationDate": iso(self.clock.wall()),
            "confirmationDate": iso(validatable_from) if validatable_from else None,
            "price": price, "status": status, "offerId": offer_id, "stockId": offer_id * 10,
            "offerName": offer_name, "offerEan": None, "priceCategoryId": 1,
            "priceCategoryLabel": price_category, "venueId": venue_id,
            "venueName": f"Venue {venue_id}", "venueAddress": "1 rue de Rivoli",
            "venueDepartementCode": "75", "userEmail": "jeune@example.org",
            "userFirstName": "Camille", "userLastName": "Martin", "userBirthDate": None,
            "userPhoneNumber": None, "userPostalCode": "75001",
        }  # fmt: skip
        booking = Booking(token.upper(), fields, api_key, validatable_from, [status])
        self.bookings[booking.token] = booking
        return booking

    def status(self, token: str) -> str:
        return self.bookings[token.upper()].status

    def slow(self, seconds: float, only: str | None = None, after_acting: bool = False) -> None:
        """Hold answers this long (real time: the client's timeout is what is tested).

        ``only``: hold only this method's requests ("PATCH"); ``after_acting``: do what was
        asked first, then hold the answer (the request arrived, its answer is lost).
        """
        self._delay_s, self._delay_only, self._delay_after = seconds, only, after_acting
        self._released.clear()

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses instead (503, 422, 500, ...)."""
        self._failures.extend(statuses)

    def break_contract(self, broken: bool = True) -> None:
        """Answer a booking without its required fields (what a changed API might do)."""
        self._broken = broken

    def count(self, method: str, what: str) -> int:
        return sum(1 for m, path, _ in self.requests if m == method and what in path)

    # -- the server ---------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        held = self._delay_s and self._delay_only in (None, request.method)
        if held and not self._delay_after:
            self._released.wait(self._delay_s)
        response = self._answer(request)
        with self._lock:
            self.requests.append((request.method, request.path, response.status_code))
        if held and self._delay_after:
            self._released.wait(self._delay_s)
        # 5xx come from the servers in front of the API, not from it: outside the contract.
        if not (self._broken and response.status_code == 200) and response.status_code < 500:
            self._check_response(request, response)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        self._check_request(request)
        key = _bearer(request)
        if key is None or key not in self.venues:
            return Response(status=401)
        if self._rate_limited(key):
            wait = self._retry_after(key)
            return Response(status=429, headers={"Retry-After": str(wait)})
        if self._failures:
            return self._failure(self._failures.popleft())
        adapter = self._urls.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        return getattr(self, f"_{endpoint}")(key, request, **args)

    def _failure(self, status: int) -> Response:
        if status == 422:
            body = [{"loc": ["token"], "msg": "invalid token", "type": "value_error"}]
            return _json(body, 422)
        return Response("upstream trouble", status=status, content_type="text/plain")

    def _rate_limited(self, key: str) -> bool:
        now = self.clock.monotonic()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - WINDOW_S:
                calls.popleft()
            if len(calls) >= RATE_LIMIT:
                return True
            calls.append(now)
            return False

    def _retry_after(self, key: str) -> int:
        with self._lock:
            oldest = self._calls[key][0]
        return max(1, math.ceil(oldest + WINDOW_S - self.clock.monotonic()))

    def _find(self, key: str, token: str) -> Booking | None:
        booking = self.bookings.get(token.upper())
        if booking is None or booking.fields["venueId"] not in self.venues[key]:
            return None  # another provider's booking does not exist for this key
        return booking

    def _usable(self, booking: Booking) -> Response | None:
        """pass Culture's checks before a booking can be read for use or used."""
        status = booking.status
        if status == "USED":
            return _json({"booking": ["Cette réservation a déjà été validée"]}, 410)
        if status == "CANCELLED":
            return _json({"booking_cancelled": ["Cette réservation a été annulée"]}, 410)
        if status == "REIMBURSED":
            return _json({"payment": ["Cette réservation a été remboursée"]}, 403)
        if self.clock.wall() < booking.validatable_from:
            return _json({"booking": ["Vous ne pouvez pas valider cette contremarque avant "
                                      f"{iso(booking.validatable_from)}"]}, 403)  # fmt: skip
        return None

    def _get(self, key: str, _request: Request, token: str) -> Response:
        booking = self._find(key, token)
        if booking is None:
            return _json({"global": ["Cette contremarque n'a pas été trouvée"]}, 404)
        refused = self._usable(booking)
        if refused is not None:
            return refused
        if self._broken:
            return _json({"id": booking.fields["id"], "status": "CONFIRMED"}, 200)
        return _json(booking.fields, 200)

    def _set(self, booking: Booking, status: str) -> Response:
        booking.fields["status"] = status
        booking.history.append(status)
        return Response(status=204)

    def _use(self, key: str, _request: Request, token: str) -> Response:
        booking = self._find(key, token)
        if booking is None:
            return _json({"global": ["Cette contremarque n'a pas été trouvée"]}, 404)
        return self._usable(booking) or self._set(booking, "USED")

    def _keep(self, key: str, _request: Request, token: str) -> Response:
        booking = self._find(key, token)
        if booking is None:
            return _json({"global": ["Cette contremarque n'a pas été trouvée"]}, 404)
        if booking.status == "CANCELLED":
            return _json({"booking_cancelled": ["Cette réservation a été annulée"]}, 410)
        if booking.status != "USED":
            return _json({"booking": ["Cette réservation n'a pas encore été validée"]}, 403)
        return self._set(booking, "CONFIRMED")

    def _cancel(self, key: str, _request: Request, token: str) -> Response:
        booking = self._find(key, token)
        if booking is None:
            return _json({"global": ["Cette contremarque n'a pas été trouvée"]}, 404)
        if booking.status in ("USED", "CANCELLED"):
            return _json({"booking": ["Cette réservation a été validée ou annulée"]}, 410)
        if booking.status == "REIMBURSED":
            return _json({"payment": ["Cette réservation a été remboursée"]}, 403)
        return self._set(booking, "CANCELLED")

    def _list(self, key: str, request: Request) -> Response:
        try:
            offer = int(request.args["offerId"])
        except (KeyError, ValueError):
            body = [{"loc": ["offerId"], "msg": "field required", "type": "value_error.missing"}]
            return _json(body, 422)
        mine = [b.fields for b in self.bookings.values() if b.fields["venueId"] in self.venues[key]]
        found = [f for f in mine if f["offerId"] == offer]
        if not found:
            return _json({"offer": ["L'offre n'a pas été trouvée"]}, 404)
        status = request.args.get("status")
        return _json({"bookings": [f for f in found if status in (None, f["status"])]}, 200)

    # -- the contract ---------------------------------------------------------------

    def _check_request(self, request: Request) -> None:
        if _bearer(request) is None:
            return  # answered 401, as the real API does; nothing more to check
        for error in self._contract.iter_request_errors(WerkzeugOpenAPIRequest(request)):
            self.contract_errors.append(f"request {request.method} {request.path}: {error}")

    def _check_response(self, request: Request, response: Response) -> None:
        if _bearer(request) is None:
            return
        errors = self._contract.iter_response_errors(WerkzeugOpenAPIRequest(request),
                                                     WerkzeugOpenAPIResponse(response))  # fmt: skip
        for error in errors:
            self.contract_errors.append(
                f"response {response.status_code} to {request.method} {request.path}: {error}"
            )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    return key if scheme == "Bearer" and key else None


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


# -- fixtures (imported by the tests that use them) ------------------------------------

KEY = "key-louvre"
VENUE = 4242
MUSEUM = "LOUVRE"


@pytest.fixture
def pc_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake_pc(pc_clock: ManualClock) -> Iterator[FakePassCulture]:
    """pass Culture with the Louvre's key for venue 4242; fails the test on a contract breach."""
    fake = FakePassCulture(pc_clock).start()
    fake.add_venue(KEY, VENUE)
    yield fake
    fake.stop()
    assert fake.contract_errors == [], "\n".join(fake.contract_errors)
