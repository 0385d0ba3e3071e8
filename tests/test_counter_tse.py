"""The German TSE: fiskaly SIGN DE v2 against a fake server; a failed TSE never stops a sale."""

from __future__ import annotations

import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from counterworld import T0, make_pass, tariff_body
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from escpos.printer import Dummy
from fakefiskaly import FakeFiskaly

from firmware.clock import FlooredClock, ManualClock
from firmware.counter.fiskaly import FiskalyTse
from firmware.counter.receipt import ReceiptPrinter
from firmware.counter.records import detail_of
from firmware.counter.rules import Basket
from firmware.counter.service import Counter
from firmware.counter.tariffs import current, parse_body
from firmware.counter.tse import TseError, TseTransaction
from firmware.gate.staff import Role, StaffMember
from firmware.journal.journal import Journal

PARIS = ZoneInfo("Europe/Berlin")
CASHIER = StaffMember("Jonas", Role.CAISSE)


def client(fake: FakeFiskaly, secret: str = "secret", url: str | None = None) -> FiskalyTse:
    return FiskalyTse(url or fake.url, "key", secret, fake.tss_id, str(uuid.uuid4()),
                      "desk1", ManualClock(), timeout_s=2.0)  # fmt: skip


def transaction() -> TseTransaction:
    return TseTransaction(str(uuid.uuid4()), (("NULL", 11900),), (("CASH", 11900),))


def test_fiskaly_signs_a_transaction_and_answers_the_qr_data() -> None:
    with FakeFiskaly() as fake:
        signature = client(fake).sign(transaction())
    assert signature.serial == fake.serial and signature.counter == 2
    assert signature.qr_data.startswith("V0;desk1;Kassenbeleg-V1;Beleg^119.00")
    paths = [p.split("/")[-2] if "/tx/" in p else p.rsplit("/", 1)[-1] for _, p in fake.calls]
    assert paths[:2] == ["auth", fake.tss_id] and paths.count("tx") == 2


def test_token_is_reused_and_renewed_once_when_revoked() -> None:
    with FakeFiskaly() as fake:
        tse = client(fake)
        tse.sign(transaction())
        tse.sign(transaction())
        assert [p for _, p in fake.calls].count("/api/v2/auth") == 1
        fake.tokens.clear()
        tse.sign(transaction())
        assert [p for _, p in fake.calls].count("/api/v2/auth") == 2


def test_wrong_secret_is_refused_with_a_clear_code() -> None:
    with FakeFiskaly() as fake, pytest.raises(TseError) as caught:
        client(fake, secret="wrong").sign(transaction())
    assert caught.value.code == "unauthorized" and "E_UNAUTHORIZED" in str(caught.value)


def test_a_tss_not_initialized_is_reported() -> None:
    with FakeFiskaly() as fake, pytest.raises(TseError) as caught:
        fake.tss_state = "UNINITIALIZED"
        client(fake).sign(transaction())
    assert caught.value.code == "tss_not_initialized"


def test_unreachable_fiskaly_is_reported_not_raised_as_a_traceback() -> None:
    with FakeFiskaly() as fake:
        url = fake.url
    with pytest.raises(TseError) as caught:
        client(fake, url=url).sign(transaction())
    assert caught.value.code == "unreachable"


@pytest.fixture
def counter(tmp_path: Path):  # noqa: ANN201
    journal = Journal.open(tmp_path / "journal.sqlite")
    tariffs = parse_body(tariff_body(), "k")
    printer = Dummy()
    made = Counter(journal, FlooredClock(ManualClock(wall=T0)), PARIS, "M1", "desk1",
                   lambda now: current(tariffs, now), Ed25519PrivateKey.generate(),
                   ReceiptPrinter(printer, PARIS, language="de", check_paper=False))  # fmt: skip
    yield made, printer
    journal.close()


def test_sale_record_carries_the_tse_signature_and_the_receipt_its_qr(counter) -> None:  # noqa: ANN001
    made, printer = counter
    with FakeFiskaly() as fake:
        made.tse = client(fake)
        done = made.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    tse = detail_of(done.record)["tse"]
    assert tse["state"] == "signed" and tse["serial"] == fake.serial
    assert tse["qr_data"].encode() in printer.output  # the native QR command carries the text
    assert b"\x1d(k" in printer.output


def test_tse_failure_marks_the_record_and_the_sale_goes_through(counter) -> None:  # noqa: ANN001
    made, printer = counter
    with FakeFiskaly() as fake:
        fake.fail_status = 503
        made.tse = client(fake)
        done = made.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
    tse = detail_of(done.record)["tse"]
    assert tse["state"] == "failed" and tse["code"] == "http_503"
    assert done.record.seq == 1 and made.journal.verify_chain() == []
    assert b"TSE ausgefallen" in printer.output


def test_a_hanging_tse_delays_the_sale_by_its_timeout_at_most_and_marks_it(counter) -> None:  # noqa: ANN001
    made, printer = counter
    with FakeFiskaly() as fake:
        made.tse = FiskalyTse(fake.url, "key", "secret", fake.tss_id, str(uuid.uuid4()),
                              "desk1", ManualClock(), timeout_s=0.3)  # fmt: skip
        fake.hang.set()
        done = made.sell(CASHIER, make_pass(), "M1", Basket("normal", "cash"))
        assert detail_of(done.record)["tse"]["state"] == "failed"
        assert done.record.seq == 1 and b"TSE ausgefallen" in printer.output


def test_one_time_budget_covers_every_call_of_a_signature() -> None:
    clock = ManualClock()
    with FakeFiskaly() as fake:
        fake.on_call = lambda: clock.advance(0.2)  # each answer takes 0.2 s of the counter's time
        tse = FiskalyTse(fake.url, "key", "secret", fake.tss_id, str(uuid.uuid4()), "desk1",
                         clock, timeout_s=0.5)  # fmt: skip
        with pytest.raises(TseError) as caught:
            tse.sign(transaction())
    assert caught.value.code == "timeout"
    assert len(fake.calls) == 3  # auth, TSS, client: then no time was left to start the transaction
