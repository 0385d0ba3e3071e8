"""Whose stock a pass is in: the list's format 3 (a museum table and an index per record).

Real keys, real list files, the gate's real list manager; format 2 lists still read.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import LIST_NOW, Pki

from firmware.gate.passes import PassType
from firmware.lists import format as fmt
from firmware.lists.manager import ListManager
from firmware.lists.publisher import build_delta, build_snapshot
from firmware.lists.verify import ListRejected
from firmware.store.csvlist import ListError, read_passes

DAY = 86400.0
TYPES = {"solo": PassType("solo", 1, 5)}
OURS = ("0A0B0C01", "100001", "ID1", "solo", "stock", None, None, "M1")
THEIRS = ("0A0B0C02", "100002", "ID2", "solo", "stock", None, None, "M2")
NOBODYS = ("0A0B0C03", "100003", "ID3", "solo", "stock", None, None, None)
SOLD = ("0A0B0C04", "100004", "ID4", "solo", "sold", None, None)


def snapshot(pki: Pki, rows, version: int = 1) -> bytes:  # noqa: ANN001
    return build_snapshot(list(rows), TYPES, version, LIST_NOW, LIST_NOW + 7 * DAY, pki.signer)


def test_the_list_says_whose_stock_each_stock_pass_is_in(manager: ListManager, pki: Pki) -> None:
    header = manager.apply_bytes(snapshot(pki, (OURS, THEIRS, NOBODYS, SOLD)), LIST_NOW)
    assert (header.format, header.museums, header.record_size) == (3, ["M1", "M2"], 43)
    assert manager.lookup(OURS[0]).stock_of == "M1"
    assert manager.lookup_number("100002").stock_of == "M2"
    assert manager.lookup(NOBODYS[0]).stock_of is None
    assert manager.lookup(SOLD[0]).stock_of is None


def test_a_list_delta_moves_a_pass_into_another_museums_stock(
    manager: ListManager, pki: Pki
) -> None:
    manager.apply_bytes(snapshot(pki, (OURS, THEIRS)), LIST_NOW)
    moved = (*OURS[:7], "M3")
    data = build_delta([moved], TYPES, 1, 2, LIST_NOW, LIST_NOW + DAY, pki.signer)
    manager.apply_bytes(data, LIST_NOW)
    assert manager.lookup(OURS[0]).stock_of == "M3"


def format_2(pki: Pki, rows) -> bytes:  # noqa: ANN001
    """A list as a format 2 publisher wrote it: 41-byte records, no museum table."""
    index = {code: i for i, code in enumerate(sorted(TYPES))}
    payload = b"".join(sorted(
        fmt.RECORD_V2.pack(bytes.fromhex(r[0]), len(bytes.fromhex(r[0])), r[1].encode(),
                           r[2].encode(), index[r[3]], fmt.STATE_CODES[r[4]], 0, 0)
        for r in rows))  # fmt: skip
    signed = fmt.metadata("snapshot", 1, None, LIST_NOW, LIST_NOW + DAY, payload, TYPES,
                          pki.signer.key_id, len(rows))  # fmt: skip
    signed.update(format=2, record_size=fmt.RECORD_V2.size)
    del signed["museums"]
    return fmt.assemble(signed, pki.signer.key.sign(fmt.signed_bytes(signed)),
                        pki.signer.extras(), payload)  # fmt: skip


def test_a_format_2_list_is_still_read_with_no_stock_owner(manager: ListManager, pki: Pki) -> None:
    header = manager.apply_bytes(format_2(pki, [OURS[:7], SOLD]), LIST_NOW)
    assert (header.format, header.record_size, manager.count) == (2, 41, 2)
    record = manager.lookup(OURS[0])
    assert (record.pass_number, record.state, record.stock_of) == ("100001", "stock", None)
    assert manager.lookup_number("100004").serial == SOLD[0]


def test_a_museum_table_that_is_not_museum_ids_is_refused(manager: ListManager, pki: Pki) -> None:
    data = snapshot(pki, (OURS,))
    header = fmt.read_header(data, len(data))
    signed = dict(header.signed, museums=["M1/../x"])
    forged = fmt.assemble(signed, pki.signer.key.sign(fmt.signed_bytes(signed)),
                          pki.signer.extras(), data[header.payload_offset :])  # fmt: skip
    with pytest.raises(ListRejected) as caught:
        manager.apply_bytes(forged, LIST_NOW)
    assert caught.value.code == "malformed" and "museum" in str(caught.value)


def test_an_index_beyond_the_museum_table_is_nobodys_stock_not_a_crash(
    manager: ListManager, pki: Pki
) -> None:
    # The office's own bug, signed: the pass is in no stock (no sale) rather than a traceback.
    record = bytearray(fmt.RECORD.pack(bytes.fromhex(OURS[0]), 4, b"100001", b"ID1", 0,
                                       fmt.STATE_CODES["stock"], 0, 0, 9))  # fmt: skip
    payload = bytes(record)
    signed = fmt.metadata("snapshot", 1, None, LIST_NOW, LIST_NOW + DAY, payload, TYPES,
                          pki.signer.key_id, 1, ["M1"])  # fmt: skip
    assert signed["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    data = fmt.assemble(signed, pki.signer.key.sign(fmt.signed_bytes(signed)),
                        pki.signer.extras(), payload)  # fmt: skip
    manager.apply_bytes(data, LIST_NOW)
    assert manager.lookup(OURS[0]).stock_of is None


def test_a_delta_row_naming_a_bad_museum_is_refused(manager: ListManager, pki: Pki) -> None:
    manager.apply_bytes(snapshot(pki, (OURS,)), LIST_NOW)
    data = build_delta([(*OURS[:7], "M 1; drop")], TYPES, 1, 2, LIST_NOW, LIST_NOW + DAY,
                       pki.signer)  # fmt: skip
    with pytest.raises(ListRejected) as caught:
        manager.apply_bytes(data, LIST_NOW)
    assert caught.value.code == "malformed"
    assert manager.lookup(OURS[0]).stock_of == "M1"


@pytest.mark.parametrize(
    ("state", "owner", "message"),
    [("sold", "M1", "not in stock"), ("stock", "M 1", "not a museum id")],
)
def test_the_office_csv_refuses_a_stock_owner_that_cannot_be(
    tmp_path: Path, state: str, owner: str, message: str
) -> None:
    path = tmp_path / "passes.csv"
    path.write_text("serial,pass_number,id_number,pass_type,state,activated_on,expires_on,"
                    f"stock_of\n0A0B0C01,1,ID1,solo,{state},,,{owner}\n")  # fmt: skip
    with pytest.raises(ListError, match=message) as caught:
        list(read_passes(path, TYPES))
    assert f"{path}:2" in str(caught.value)


def test_a_gate_knows_the_demo_stock_pass_is_its_museums(tmp_path: Path, make_settings) -> None:  # noqa: ANN001
    """The simulated gate's list puts its stock pass in its museum's stock, for the desk."""
    from datetime import date

    from conftest import DEMO_KEYS
    from gpiozero.pins.mock import MockFactory

    from firmware.app import build_gate
    from firmware.demo import DEMO_MUSEUM, write_demo, write_demo_list

    passes, types = write_demo(tmp_path / "demo", date.today(), filler=5)
    listed = write_demo_list(passes, types, DEMO_KEYS, tmp_path / "demo" / "list.pql",
                             LIST_NOW, version=1)  # fmt: skip
    settings = make_settings(gate={"museum": DEMO_MUSEUM, "data_dir": str(tmp_path / "gate")},
                             lists={"install_at_start": str(listed)})  # fmt: skip
    gate = build_gate(settings, pin_factory=MockFactory())
    try:
        assert gate.store.lookup("04A1B2C3D4E505").stock_of == DEMO_MUSEUM
        assert gate.store.lookup("04A1B2C3D4E501").stock_of is None
    finally:
        gate.close()
