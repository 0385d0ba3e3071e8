"""Signed validity lists: every refusal leaves the previous list in force.

Real Ed25519 keys, real list files, the gate's real list manager on SQLite.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from conftest import LIST_NOW, Pki
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware.gate.passes import PassState, PassType
from firmware.lists import format as fmt
from firmware.lists.manager import ListManager
from firmware.lists.publisher import Signer, build_delta, build_snapshot
from firmware.lists.verify import ListRejected
from firmware.trust import TrustStore, raw_public, revocations, rotate_root

NOW = LIST_NOW
DAY = 86400.0
TYPES = {"solo": PassType("solo", 1, 5), "duo": PassType("duo", 2, 5)}
A = ("04A1B2C3D4E501", "100001", "ID1", "solo", "active", "2026-01-10", "2027-01-09")
B = ("04A1B2C3D4E502", "100002", "ID2", "duo", "sold", None, None)
C = ("0A0B0C0D", "100003", "ID3", "solo", "stock", None, None)
D = ("01020304050607080910", "100004", "ID4", "solo", "active", "2026-03-01", "2027-02-28")


def snapshot(pki: Pki, version: int = 1, rows=(A, B, C, D), signer: Signer | None = None) -> bytes:
    return build_snapshot(list(rows), TYPES, version, NOW, NOW + 7 * DAY, signer or pki.signer)


def delta(pki: Pki, base: int, version: int, rows, signer: Signer | None = None) -> bytes:
    return build_delta(list(rows), TYPES, base, version, NOW, NOW + 7 * DAY, signer or pki.signer)


def apply(manager: ListManager, data: bytes, now: float = NOW) -> fmt.Header:
    return manager.apply_bytes(data, now)


def refused(manager: ListManager, data: bytes, code: str, now: float = NOW) -> None:
    """Assert ``data`` is refused with ``code`` and nothing of the list in force changed."""
    before = (manager.version, manager.lookup(A[0]), manager.rejections[code])
    with pytest.raises(ListRejected) as caught:
        apply(manager, data, now)
    assert caught.value.code == code
    assert (manager.version, manager.lookup(A[0])) == before[:2]
    assert manager.rejections[code] == before[2] + 1


def resign(pki: Pki, data: bytes, change) -> bytes:  # noqa: ANN001
    """Edit the signed metadata of ``data`` with ``change`` and sign it again, validly."""
    header = fmt.read_header(data, len(data))
    signed = dict(header.signed)
    change(signed)
    payload = data[header.payload_offset :]
    signature = pki.signer.key.sign(fmt.signed_bytes(signed))
    return fmt.assemble(signed, signature, pki.signer.extras(), payload)


def rewrite_header(data: bytes, change) -> bytes:  # noqa: ANN001
    """Edit the header of ``data`` without re-signing (what a forger can do)."""
    header = fmt.read_header(data, len(data))
    start = len(fmt.MAGIC) + 4
    document = json.loads(data[start : header.payload_offset])
    change(document)
    blob = json.dumps(document).encode()
    return fmt.MAGIC + struct.pack(">I", len(blob)) + blob + data[header.payload_offset :]


# -- a good list ----------------------------------------------------------------


def test_snapshot_is_verified_and_put_in_force(manager: ListManager, pki: Pki) -> None:
    header = apply(manager, snapshot(pki, version=3))
    assert (manager.version, manager.count, header.kind) == (3, 4, "snapshot")
    record = manager.lookup(A[0])
    assert record.pass_number == "100001" and record.state is PassState.ACTIVE
    assert str(record.expires_on) == "2027-01-09" and record.pass_type.children == 5
    assert manager.lookup(D[0]).pass_number == "100004"  # a 10-byte UID
    assert manager.lookup(C[0]).state is PassState.STOCK  # a 4-byte UID
    assert manager.lookup("04A1B2C3D4E599") is None


def test_pass_number_lookup_finds_typed_numbers(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki))
    assert manager.lookup_number("100002").serial == B[0]
    assert manager.lookup_number("10000") is None
    assert manager.lookup_number("999999") is None


def test_delta_applies_sales_activations_and_blocks(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))
    changes = [
        (*B[:4], "active", "2026-05-02", "2027-05-01"),  # activated at another museum
        (*C[:4], "sold", None, None),  # sold at another museum
        (*A[:4], "blocked", A[5], A[6]),  # reported stolen
    ]
    apply(manager, delta(pki, base=1, version=2, rows=changes))
    assert manager.version == 2
    assert manager.lookup(B[0]).state is PassState.ACTIVE
    assert manager.lookup(C[0]).state is PassState.SOLD
    assert manager.lookup(A[0]).state is PassState.BLOCKED
    assert manager.lookup_number("100001").state is PassState.BLOCKED


def test_a_new_snapshot_replaces_the_deltas(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))
    apply(manager, delta(pki, 1, 2, [(*A[:4], "blocked", A[5], A[6])]))
    apply(manager, snapshot(pki, version=3, rows=(A, B)))
    assert manager.lookup(A[0]).state is PassState.ACTIVE
    assert manager.lookup(C[0]) is None
    assert [p.name for p in manager.directory.iterdir()] == ["snapshot-3.pql"]


def test_list_in_force_survives_a_restart(tmp_path: Path, pki: Pki) -> None:
    trust = TrustStore.open(pki.root_public, tmp_path / "trust.json")
    first = ListManager(tmp_path, trust, 1 << 20)
    apply(first, snapshot(pki, version=5))
    apply(first, delta(pki, 5, 6, [(*B[:4], "blocked", None, None)]))
    first.close()
    again = ListManager(
        tmp_path, TrustStore.open(pki.root_public, tmp_path / "trust.json"), 1 << 20
    )
    assert again.version == 6 and again.lookup(B[0]).state is PassState.BLOCKED
    again.close()


# -- forgery and keys -----------------------------------------------------------------


def test_missing_signature_is_refused(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))
    refused(manager, rewrite_header(snapshot(pki, 2), lambda h: h.pop("signature")), "malformed")


def test_forged_metadata_is_refused_as_bad_signature(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))

    def extend_expiry(header: dict) -> None:
        header["signed"]["expires_at"] += 365 * DAY

    refused(manager, rewrite_header(snapshot(pki, 2), extend_expiry), "bad_signature")


def test_list_signed_by_an_uncertified_key_is_refused(manager: ListManager, pki: Pki) -> None:
    stranger = Signer(Ed25519PrivateKey.generate(), pki.signer.certificate)
    data = snapshot(pki, version=2, signer=stranger)
    refused(manager, rewrite_header(data, lambda h: h.update(certificates=[])), "unknown_key")


def test_certificate_not_signed_by_the_pinned_root_is_refused(
    manager: ListManager, pki: Pki
) -> None:
    other_root = Pki(Ed25519PrivateKey.generate(), pki.signer)
    refused(manager, snapshot(pki, signer=other_root.signing_key()), "bad_certificate")


def test_expired_signing_key_is_refused(manager: ListManager, pki: Pki) -> None:
    old = pki.signing_key(not_after=NOW - 1)
    refused(manager, snapshot(pki, signer=old), "expired_key")


def test_key_for_hub_messages_cannot_sign_lists(manager: ListManager, pki: Pki) -> None:
    refused(manager, snapshot(pki, signer=pki.signing_key(purposes=("hub",))), "wrong_purpose")


def test_demo_key_is_refused_by_a_provisioned_gate(manager: ListManager, pki: Pki) -> None:
    refused(manager, snapshot(pki, signer=pki.signing_key(demo=True)), "demo_key")


def test_revoked_key_is_refused_and_the_revocation_is_remembered(
    tmp_path: Path, manager: ListManager, pki: Pki
) -> None:
    compromised = pki.signing_key()
    apply(manager, snapshot(pki, version=1, signer=compromised))
    pki.signer.revocations = revocations(pki.root, 1, [compromised.key_id])
    apply(manager, snapshot(pki, version=2))  # carries the revocation list
    refused(manager, snapshot(pki, version=3, signer=compromised), "revoked_key")
    reopened = TrustStore.open(pki.root_public, tmp_path / "trust.json")
    assert compromised.key_id in reopened.revoked


def test_root_rotation_needs_both_the_old_and_the_new_root(manager: ListManager, pki: Pki) -> None:
    new_root = Ed25519PrivateKey.generate()
    successor = Pki(new_root, pki.signer)
    signer = successor.signing_key()
    forged = rotate_root(pki.root, new_root)
    forged["old_signature"] = forged["new_signature"]  # signed by the new root only
    signer.root_rotation = forged
    with pytest.raises(ListRejected) as caught:
        apply(manager, snapshot(pki, version=1, signer=signer))
    assert caught.value.code == "bad_signature"
    signer.root_rotation = rotate_root(pki.root, new_root)
    apply(manager, snapshot(pki, version=1, signer=signer))
    assert manager.trust.root == raw_public(new_root.public_key())
    # Certificates from the old root no longer count.
    refused(manager, snapshot(pki, version=2), "bad_certificate")


# -- replay, freeze, mix-and-match, endless data -----------------------------------------


def test_older_or_same_version_is_refused_as_rollback(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=5))
    refused(manager, snapshot(pki, version=4), "rollback")
    refused(manager, snapshot(pki, version=5), "rollback")


def test_delta_for_another_base_is_refused_and_asks_for_a_snapshot(
    manager: ListManager, pki: Pki
) -> None:
    apply(manager, snapshot(pki, version=5))
    refused(manager, delta(pki, base=4, version=6, rows=[B]), "mix_and_match")
    assert manager.needs_snapshot
    apply(manager, snapshot(pki, version=7))
    assert not manager.needs_snapshot


def test_payload_longer_than_signed_is_refused(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))
    refused(manager, snapshot(pki, version=2) + b"\0" * fmt.RECORD.size, "too_large")


def test_payload_over_the_configured_cap_is_refused(manager: ListManager, pki: Pki) -> None:
    manager.max_payload_bytes = 2 * fmt.RECORD.size
    refused(manager, snapshot(pki, version=2), "too_large")


def test_payload_that_does_not_match_its_hash_is_refused(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))
    data = bytearray(snapshot(pki, version=2))
    data[-3] ^= 0xFF
    refused(manager, bytes(data), "hash_mismatch")


@pytest.mark.parametrize("keep", [5, 20, -fmt.RECORD.size])
def test_truncated_file_is_refused(manager: ListManager, pki: Pki, keep: int) -> None:
    apply(manager, snapshot(pki, version=1))
    refused(manager, snapshot(pki, version=2)[:keep], "truncated")


def test_unknown_format_version_is_refused(manager: ListManager, pki: Pki) -> None:
    data = resign(
        pki, snapshot(pki, version=2), lambda signed: signed.update(format=fmt.FORMAT + 1)
    )
    refused(manager, data, "unknown_format")


def test_not_a_list_file_is_refused(manager: ListManager) -> None:
    refused(manager, b"<html>not a list</html>", "malformed")


def test_delta_naming_an_unknown_pass_type_is_refused(manager: ListManager, pki: Pki) -> None:
    apply(manager, snapshot(pki, version=1))
    refused(manager, delta(pki, 1, 2, [(*B[:3], "premium", "sold", None, None)]), "malformed")


def test_signatures_cover_the_metadata_once_not_each_pass(pki: Pki) -> None:
    data = snapshot(pki)
    header = fmt.read_header(data, len(data))
    assert len(header.signature) == 64
    assert header.signed["payload_length"] == 4 * fmt.RECORD.size
