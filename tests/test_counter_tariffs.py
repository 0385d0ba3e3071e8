"""Tariffs are data signed by the office: forged, unsigned, expired or missing ones block sales."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from counterworld import T0, YEAR_S, Office, tariff_body

from firmware.counter.tariffs import TariffsUnavailable, load_tariffs, parse_body, verify_document
from firmware.trust import b64


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "tariffs.json"
    path.write_text(json.dumps(document))
    return path


def unavailable(path: Path, office: Office, now: float = T0) -> TariffsUnavailable:
    with pytest.raises(TariffsUnavailable) as caught:
        load_tariffs(path, office.trust(), now)
    return caught.value


def test_signed_current_tariffs_load_with_prices_and_categories(tmp_path: Path) -> None:
    office = Office()
    tariffs = load_tariffs(write(tmp_path, office.sign()), office.trust(), T0)
    assert tariffs.version == 3 and tariffs.currency == "EUR"
    assert tariffs.tariffs["reduced"].price_cents == 9900
    assert "job_seeker" in tariffs.tariffs["reduced"].categories
    assert [t.code for t in tariffs.for_pass_type("single")] == ["normal", "reduced"]


def test_missing_tariff_file_blocks_sales_with_a_message_naming_the_file(tmp_path: Path) -> None:
    error = unavailable(tmp_path / "nothing.json", Office())
    assert error.code == "missing" and "nothing.json" in str(error)


def test_unsigned_tariffs_are_refused(tmp_path: Path) -> None:
    document = Office().sign()
    del document["signature"]
    assert unavailable(write(tmp_path, document), Office()).code == "unsigned"


def test_price_changed_after_signing_is_refused_as_bad_signature(tmp_path: Path) -> None:
    office = Office()
    document = office.sign()
    document["tariffs"]["tariffs"]["normal"]["price_cents"] = 1
    assert unavailable(write(tmp_path, document), office).code == "bad_signature"


def test_tariffs_signed_by_another_office_are_refused(tmp_path: Path) -> None:
    forger = Office()
    assert unavailable(write(tmp_path, forger.sign()), Office()).code == "bad_certificate"


def test_a_list_signing_key_cannot_sign_tariffs(tmp_path: Path) -> None:
    office = Office(purposes=("list",))
    assert unavailable(write(tmp_path, office.sign()), office).code == "wrong_purpose"


def test_expired_tariffs_block_sales_and_say_to_synchronise(tmp_path: Path) -> None:
    office = Office()
    error = unavailable(write(tmp_path, office.sign()), office, now=T0 + YEAR_S + 1)
    assert error.code == "expired" and "synchronise" in str(error)


def test_tariffs_not_yet_valid_are_refused(tmp_path: Path) -> None:
    office = Office()
    document = office.sign(tariff_body(not_before=T0 + 86400))
    assert unavailable(write(tmp_path, document), office).code == "not_yet_valid"


def test_corrupt_tariff_file_is_refused_as_malformed(tmp_path: Path) -> None:
    path = tmp_path / "tariffs.json"
    path.write_bytes(b"\x00{not json")
    assert unavailable(path, Office()).code == "malformed"


def test_a_signed_document_of_another_type_is_not_tariffs(tmp_path: Path) -> None:
    office = Office()
    document = office.sign()
    document["tariffs"]["type"] = "portique-list"
    document["signature"] = b64(office.key.sign(b"{}"))
    assert unavailable(write(tmp_path, document), office).code == "malformed"


@pytest.mark.parametrize("price", [-100, 10**12, "12.00", 1.5, True])
def test_absurd_or_negative_prices_are_never_signed_nor_accepted(price: object) -> None:
    body = tariff_body()
    body["tariffs"]["normal"]["price_cents"] = price
    with pytest.raises(TariffsUnavailable) as caught:
        parse_body(body, "k")
    assert caught.value.code == "malformed" and "normal" in str(caught.value)
    with pytest.raises(TariffsUnavailable):
        Office().sign(body)


def test_unknown_reduced_category_is_refused() -> None:
    body = tariff_body()
    body["tariffs"]["reduced"]["categories"] = ["pensioner"]
    with pytest.raises(TariffsUnavailable, match="pensioner"):
        parse_body(body, "k")


def test_verify_document_refuses_garbage_without_a_traceback() -> None:
    for garbage in (None, [], {"tariffs": "x"}, {"tariffs": {"type": 1}}):
        with pytest.raises(TariffsUnavailable):
            verify_document(garbage, Office().trust(), T0)
