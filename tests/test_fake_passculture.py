"""The fake pass Culture itself: it keeps to the contract and catches what breaks it."""

from __future__ import annotations

import httpx
from fake_passculture import KEY, VENUE, FakePassCulture

BASE = "/public/bookings/v1"


def client(key: str = KEY) -> httpx.Client:
    return httpx.Client(headers={"Authorization": f"Bearer {key}"})


def test_list_by_offer_gives_bookings_without_their_tokens(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE, offer_id=77, quantity=2)
    fake_pc.add_booking(KEY, "CD4EF5", venue_id=VENUE, offer_id=78)
    with client() as c:
        answer = c.get(f"{fake_pc.url}{BASE}/bookings", params={"offerId": 77})
        assert answer.status_code == 200
        (booking,) = answer.json()["bookings"]
        assert booking["quantity"] == 2 and "AB3DK7" not in answer.text
        assert c.get(f"{fake_pc.url}{BASE}/bookings", params={"offerId": 5}).status_code == 404


def test_cancel_then_use_is_gone(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    with client() as c:
        assert c.patch(f"{fake_pc.url}{BASE}/cancel/token/AB3DK7").status_code == 204
        assert c.patch(f"{fake_pc.url}{BASE}/use/token/AB3DK7").status_code == 410
        assert c.patch(f"{fake_pc.url}{BASE}/cancel/token/AB3DK7").status_code == 410


def test_token_is_upper_cased_like_the_real_api(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    with client() as c:
        assert c.get(f"{fake_pc.url}{BASE}/token/ab3dk7").status_code == 200


def test_missing_or_wrong_key_is_401(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    with httpx.Client() as c:
        assert c.get(f"{fake_pc.url}{BASE}/token/AB3DK7").status_code == 401
    with client("nope") as c:
        assert c.get(f"{fake_pc.url}{BASE}/token/AB3DK7").status_code == 401


def test_contract_check_catches_a_request_the_contract_refuses(fake_pc: FakePassCulture) -> None:
    with client() as c:
        c.get(f"{fake_pc.url}{BASE}/bookings", params={"offerId": "many", "limit": 0})
    assert any("request GET" in e for e in fake_pc.contract_errors)
    fake_pc.contract_errors.clear()  # seen: the fixture must not fail the test for it


def test_contract_check_catches_an_answer_the_contract_refuses(fake_pc: FakePassCulture) -> None:
    fake_pc.add_booking(KEY, "AB3DK7", venue_id=VENUE)
    fake_pc.bookings["AB3DK7"].fields["quantity"] = "two"  # a booking the API would not send
    with client() as c:
        c.get(f"{fake_pc.url}{BASE}/token/AB3DK7")
    assert any("response 200" in e for e in fake_pc.contract_errors)
    fake_pc.contract_errors.clear()
