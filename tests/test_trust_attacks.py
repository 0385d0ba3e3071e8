"""Issue 10's attacks, one test each, named after the attack: every one is refused
with its code and leaves the state in force unchanged.

Real Ed25519 keys, real list files on the gate's real list manager and SQLite
files, real subprocesses for the commands a technician runs.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import Pki
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_lists import NOW, apply, refused, snapshot

from firmware import strictjson
from firmware.clock import ManualClock, gate_clock
from firmware.lists import format as fmt
from firmware.lists.manager import ListManager
from firmware.lists.publisher import Signer
from firmware.lists.verify import ListRejected, verify_file
from firmware.trust import (
    DOMAINS,
    TrustError,
    TrustStore,
    b64,
    certify,
    raw_public,
    revocations,
    rotate_root,
    sign,
    unb64,
    verify_typed,
)

PORTIQUE = [sys.executable, "-m", "firmware"]
DAY = 86400.0


def portique(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PORTIQUE, *args], capture_output=True, text=True, timeout=60)


# -- 1. typed documents: a signature for one type never passes as another ---------------


@pytest.mark.parametrize(("signed_as", "checked_as"),
                         [p for p in itertools.permutations(DOMAINS, 2)])  # fmt: skip
def test_a_signature_made_for_one_document_type_never_verifies_as_another(
    signed_as: str, checked_as: str
) -> None:
    key = Ed25519PrivateKey.generate()
    body = {"type": "anything", "n": 1}
    signature = sign(key, signed_as, body)
    assert verify_typed(raw_public(key.public_key()), signature, signed_as, body)
    assert not verify_typed(raw_public(key.public_key()), signature, checked_as, body)


def certificate_as_rotation(cert_document: dict, key: Ed25519PrivateKey) -> dict:
    """The old attack: a certificate (root-signed body) plus the key's own signature."""
    body = cert_document["cert"]
    return {"root": body, "old_signature": cert_document["signature"],
            "new_signature": b64(sign(key, "certificate", body))}  # fmt: skip


def test_a_signing_key_cannot_make_itself_root_with_its_certificate(
    manager: ListManager, pki: Pki
) -> None:
    apply(manager, snapshot(pki, version=1))
    attacker = pki.signing_key(purposes=("hub",))  # the hub's online key, say
    attacker.root_rotation = certificate_as_rotation(attacker.certificate, attacker.key)
    refused(manager, snapshot(pki, version=2, signer=attacker), "malformed")
    # Dressed up as a root document, the root's signature no longer covers it.
    forged = certificate_as_rotation(attacker.certificate, attacker.key)
    forged["root"] = {**forged["root"], "type": "root", "previous_id": manager.trust.root_id}
    attacker.root_rotation = forged
    refused(manager, snapshot(pki, version=2, signer=attacker), "bad_signature")
    assert manager.trust.root == pki.root_public
    apply(manager, snapshot(pki, version=3))  # the office's next list is still accepted


def test_a_revoked_key_cannot_make_itself_root(manager: ListManager, pki: Pki) -> None:
    revoked = pki.signing_key()
    pki.signer.revocations = revocations(pki.root, 1, [revoked.key_id])
    apply(manager, snapshot(pki, version=1))
    revoked.root_rotation = certificate_as_rotation(revoked.certificate, revoked.key)
    refused(manager, snapshot(pki, version=2, signer=revoked), "malformed")
    assert manager.trust.root == pki.root_public


def test_a_rotation_that_does_not_follow_the_gates_root_is_refused(
    manager: ListManager, pki: Pki
) -> None:
    other, newer = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signer = Pki(newer, pki.signer).signing_key()
    signer.root_rotation = rotate_root(other, newer)  # a valid rotation, of another root
    refused(manager, snapshot(pki, version=1, signer=signer), "wrong_root")
    assert manager.trust.root == pki.root_public


def test_no_key_the_root_certified_can_certify_another(manager: ListManager, pki: Pki) -> None:
    rogue = Ed25519PrivateKey.generate()
    cert = certify(pki.signer.key, raw_public(rogue.public_key()), ["list"], NOW - DAY,
                   NOW + DAY)  # signed by the signing key, not the root  # fmt: skip
    refused(manager, snapshot(pki, version=1, signer=Signer(rogue, cert)), "bad_certificate")


def test_keys_rotate_root_moves_a_gate_to_the_new_root(tmp_path: Path) -> None:
    from firmware.demo import write_demo

    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        assert portique("keys", "new-root", "--out", str(folder)).returncode == 0
    done = portique("keys", "certify", "--root-key", str(new / "root.key"), "--out", str(new),
                    "--purposes", "list")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rotation = tmp_path / "rotation.json"
    done = portique("keys", "rotate-root", "--old-key", str(old / "root.key"), "--new-key",
                    str(new / "root.key"), "--out", str(rotation))  # fmt: skip
    assert done.returncode == 0, done.stderr
    passes, types = write_demo(tmp_path / "csv", __import__("datetime").date.today(), filler=3)
    out = tmp_path / "list.pql"
    done = portique("list", "build", "--passes", str(passes), "--types", str(types),
                    "--version", "3", "--key", str(new / "signing.key"), "--cert",
                    str(new / "signing.cert.json"), "--root-rotation", str(rotation),
                    "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = tmp_path / "portique.toml"
    config.write_text(f'[gate]\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[lists]\nroot_key = "{old / "root.pub"}"\n')  # fmt: skip
    done = portique("list", "install", str(out), "-c", str(config))
    assert done.returncode == 0, done.stderr
    saved = json.loads((tmp_path / "data" / "trust.json").read_text())
    assert unb64(saved["root"], "root") == unb64((new / "root.pub").read_text().strip(), "new")


# -- 2. revocations are cumulative and monotonic -------------------------------------------


def test_a_later_revocation_that_forgets_an_entry_does_not_unrevoke_the_key(
    manager: ListManager, pki: Pki
) -> None:
    first, second = pki.signing_key(), pki.signing_key()
    pki.signer.revocations = revocations(pki.root, 1, [first.key_id])
    apply(manager, snapshot(pki, version=1))
    pki.signer.revocations = revocations(pki.root, 2, [second.key_id])  # forgets ``first``
    apply(manager, snapshot(pki, version=2))
    refused(manager, snapshot(pki, version=3, signer=first), "revoked_key")
    refused(manager, snapshot(pki, version=3, signer=second), "revoked_key")


def test_two_different_revocation_lists_with_one_version_are_refused(
    manager: ListManager, pki: Pki
) -> None:
    suspect, innocent = pki.signing_key(), pki.signing_key()
    pki.signer.revocations = revocations(pki.root, 4, [suspect.key_id])
    apply(manager, snapshot(pki, version=1))
    pki.signer.revocations = revocations(pki.root, 4, [innocent.key_id])
    refused(manager, snapshot(pki, version=2), "revocation_conflict")
    assert manager.trust.revoked == {suspect.key_id}
    apply(manager, snapshot(pki, version=2, signer=innocent))  # not revoked by the twin


def test_a_revocation_inside_a_refused_list_still_counts(manager: ListManager, pki: Pki) -> None:
    """Safe by design (docs/validity-list.md): root-signed, and it can only add."""
    apply(manager, snapshot(pki, version=5))
    leaked = pki.signing_key()
    pki.signer.revocations = revocations(pki.root, 1, [leaked.key_id])
    refused(manager, snapshot(pki, version=4), "rollback")
    refused(manager, snapshot(pki, version=6, signer=leaked), "revoked_key")


# -- 3. time ------------------------------------------------------------------------------


def test_a_list_on_a_stick_installs_at_a_1970_boot(tmp_path: Path, pki: Pki) -> None:
    """The key's validity starts after the floor; the gate only knows the time is later."""
    clock = gate_clock(ManualClock(wall=0.0), 0.0)
    trust = TrustStore.open(pki.root_public, tmp_path / "trust.json")
    lists = ListManager(tmp_path, trust, 1 << 20)
    try:
        now = clock.now()
        assert not now.trusted
        lists.apply_bytes(snapshot(pki, version=1), now.wall, clock.latest_issue())
        assert lists.version == 1
    finally:
        lists.close()


# -- 4. list install: the bytes verified are the bytes installed -----------------------------


def test_a_list_swapped_during_install_never_installs_unverified_bytes(
    tmp_path: Path, manager: ListManager, pki: Pki
) -> None:
    stick = tmp_path / "stick.pql"
    installed = 0
    for version in range(1, 10):
        good = snapshot(pki, version=version)
        evil = bytearray(good)
        evil[-3] ^= 0xFF  # one pass altered, same signed header
        stop = threading.Event()

        def swap(
            good: bytes = good, evil: bytes = bytes(evil), stop: threading.Event = stop
        ) -> None:
            for turn in itertools.count():  # bounded by the install below
                tmp = tmp_path / f"swap-{turn % 2}"
                tmp.write_bytes(evil if turn % 2 else good)
                os.replace(tmp, stick)
                if stop.is_set() or turn > 100_000:
                    return

        stick.write_bytes(good)
        swapper = threading.Thread(target=swap)
        swapper.start()
        try:
            manager.apply_file(stick, NOW)
            installed += 1
        except ListRejected as exc:
            assert exc.code == "hash_mismatch"
        finally:
            stop.set()
            swapper.join()
        if manager.snapshot is not None:
            # Whatever is in force verifies from scratch: no unhashed byte slipped in.
            fresh = TrustStore(root=pki.root_public)
            verify_file(manager.snapshot.path, fresh, 0, NOW, 1 << 30)
    assert installed  # the good file got through at least once


# -- 6. parser bombs in list headers --------------------------------------------------------


@pytest.mark.parametrize(
    "bomb",
    [
        b"[" * 100_000 + b"]" * 100_000,  # nesting deep enough to crash the parser
        b'{"a":' * 40 + b"1" + b"}" * 40,  # nesting beyond the limit
        b"1" * 5000,  # an integer Python would take seconds to convert
        b"18446744073709551616",  # 2**64: beyond 64 bits
        b"1e999",  # infinity
        b"NaN",
    ],
)
def test_parser_bombs_are_refused_by_the_strict_parser(bomb: bytes) -> None:
    with pytest.raises(ValueError):
        strictjson.loads(bomb)


@pytest.mark.parametrize("field", ["version", "payload_length", "issued_at"])
def test_a_list_header_with_numbers_beyond_64_bits_is_refused_as_malformed(
    manager: ListManager, pki: Pki, field: str
) -> None:
    data = snapshot(pki, version=1)
    header = fmt.read_header(data, len(data))
    blob = json.dumps({"signed": {**header.signed, field: 2**70}, "signature": b64(b"x" * 64)})
    bomb = fmt.MAGIC + len(blob).to_bytes(4, "big") + blob.encode() + data[header.payload_offset :]
    refused(manager, bomb, "malformed")


def test_a_deeply_nested_list_header_is_refused_as_malformed(manager: ListManager) -> None:
    blob = b"[" * 50_000 + b"]" * 50_000
    refused(manager, fmt.MAGIC + len(blob).to_bytes(4, "big") + blob, "malformed")


KNOWN = {"malformed", "unknown_format", "bad_signature", "bad_certificate", "unknown_key",
         "expired_key", "revoked_key", "wrong_purpose", "demo_key", "rollback", "too_large",
         "truncated", "hash_mismatch", "issued_in_future", "wrong_root", "mix_and_match",
         "revocation_conflict"}  # fmt: skip


def test_a_mutated_list_is_refused_or_means_exactly_the_original(tmp_path: Path, pki: Pki) -> None:
    """Fuzz: 300 lists with random bytes changed; none may be believed with other content."""
    original = snapshot(pki, version=1)
    header = fmt.read_header(original, len(original))
    rng = random.Random(10)
    path = tmp_path / "fuzzed.pql"
    codes: set[str] = set()
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.choice((1, 1, 2, 8))):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(data)
        try:
            accepted = verify_file(path, TrustStore(root=pki.root_public), 0, NOW, 1 << 20)
        except ListRejected as exc:
            assert exc.code in KNOWN, exc
            codes.add(exc.code)
            continue
        # Only bytes no check covers changed (an unsigned, unused header field).
        assert accepted.signed == header.signed
        assert data[accepted.payload_offset :] == original[header.payload_offset :]
    assert {"malformed", "hash_mismatch"} <= codes


def test_verify_with_the_gates_config_predicts_what_install_does(tmp_path: Path, pki: Pki) -> None:
    from conftest import DEMO_KEYS

    from firmware.demo import write_demo, write_demo_list

    passes, types = write_demo(tmp_path / "csv", __import__("datetime").date.today(), filler=3)
    now = __import__("time").time()
    lists = {v: write_demo_list(passes, types, DEMO_KEYS, tmp_path / f"v{v}.pql", now - 60,
                                version=v) for v in (4, 5, 6)}  # fmt: skip
    config = tmp_path / "portique.toml"
    config.write_text(f'[gate]\ndata_dir = "{tmp_path / "data"}"\n[lists]\n'
                      f'root_key = "{DEMO_KEYS / "root.pub"}"\n'
                      "allow_demo_keys = true\n")  # fmt: skip
    assert portique("list", "install", str(lists[5]), "-c", str(config)).returncode == 0
    older = portique("list", "verify", str(lists[4]), "-c", str(config))
    assert older.returncode == 1 and "refused (rollback)" in older.stderr
    newer = portique("list", "verify", str(lists[6]), "-c", str(config))
    assert newer.returncode == 0 and "over version 5" in newer.stdout, newer.stderr
    assert portique("list", "install", str(lists[4]), "-c", str(config)).returncode == 1


def test_a_trust_store_never_accepts_a_certificate_of_the_wrong_type(pki: Pki) -> None:
    store = TrustStore(root=pki.root_public)
    document = pki.signing_key().certificate
    disguised = {"cert": {**document["cert"], "type": "revocations"},
                 "signature": document["signature"]}  # fmt: skip
    with pytest.raises(TrustError) as caught:
        store.accept_certificate(disguised, NOW)
    assert caught.value.code == "malformed"


def test_after_a_root_rotation_hub_messages_follow_the_new_root(
    manager: ListManager, pki: Pki
) -> None:
    from firmware.sync.client import HubVerifier
    from firmware.sync.protocol import ProtocolError, seal, unseal

    new_root = Ed25519PrivateKey.generate()
    signer = Pki(new_root, pki.signer).signing_key()
    signer.root_rotation = rotate_root(pki.root, new_root)
    verifier = HubVerifier(pki.root_public, current_root=lambda: manager.trust.root)
    body = {"type": "beacon", "museum": "*", "gate": "*", "issued_at": NOW}

    def sealed(hub: Signer):  # noqa: ANN202
        return unseal(seal(body, hub.key, hub.key_id, hub.certificate), "beacon", 1 << 20)

    old_hub = pki.signing_key(purposes=("hub",))
    new_hub = Pki(new_root, pki.signer).signing_key(purposes=("hub",))
    verifier.check(sealed(old_hub), NOW)  # before the rotation: the pinned root's hub
    apply(manager, snapshot(pki, version=1, signer=signer))
    assert manager.trust.root == raw_public(new_root.public_key())
    verifier.check(sealed(new_hub), NOW)
    with pytest.raises(ProtocolError) as caught:
        verifier.check(sealed(old_hub), NOW)  # its certificate is the old root's
    assert caught.value.code in ("bad_certificate", "unknown_key")


def test_a_hub_key_the_office_revoked_is_refused_on_every_hub_message(pki: Pki) -> None:
    from firmware.sync.client import HubVerifier
    from firmware.sync.protocol import ProtocolError, seal, unseal

    hub = pki.signing_key(purposes=("hub",))
    body = {"type": "beacon", "museum": "*", "gate": "*", "issued_at": NOW}
    sealed = unseal(seal(body, hub.key, hub.key_id, hub.certificate), "beacon", 1 << 20)
    HubVerifier(pki.root_public).check(sealed, NOW)  # good until revoked
    revoked = frozenset({hub.key_id})
    with pytest.raises(ProtocolError) as caught:
        HubVerifier(pki.root_public, lambda: revoked).check(sealed, NOW)
    assert caught.value.code == "revoked_key"
    # A list key's signature never passes as a hub message, even with its certificate.
    lister = pki.signing_key(purposes=("list",))
    forged = unseal(seal(body, lister.key, lister.key_id, lister.certificate), "beacon", 1 << 20)
    with pytest.raises(ProtocolError) as caught:
        HubVerifier(pki.root_public).check(forged, NOW)
    assert caught.value.code == "wrong_purpose"
