"""The pure parts of sync, without a broker: list reassembly, pass merging, the outbox."""

from __future__ import annotations

import base64
import hashlib
import stat
from typing import Any

import pytest
from conftest import ACTIVE, SOLD, World, paris
from syncworld import fill_journal

from firmware.config import ConfigError, from_dict
from firmware.journal.outbox import Outbox
from firmware.sync.deltas import merge_remote
from firmware.sync.keys import PRIVATE_FILE, gate_key
from firmware.sync.listfetch import ListAssembly
from firmware.sync.protocol import ProtocolError, parse_topic

CHUNK = 1024


def manifest(data: bytes, version: int = 1) -> dict[str, Any]:
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    return {"version": version, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "chunk_size": CHUNK, "chunks": len(chunks),
            "chunk_sha256": [hashlib.sha256(c).hexdigest() for c in chunks]}  # fmt: skip


def chunk(data: bytes, index: int, version: int = 1) -> dict[str, Any]:
    part = data[index * CHUNK : (index + 1) * CHUNK]
    return {"version": version, "sha256": hashlib.sha256(data).hexdigest(), "index": index,
            "data": base64.b64encode(part).decode()}  # fmt: skip


DATA = bytes(range(256)) * 15  # 3840 bytes: 4 chunks, the last one short


def test_chunks_in_any_order_and_twice_give_the_file_once() -> None:
    lists = ListAssembly(max_bytes=10_000, timeout_s=60)
    lists.manifest(manifest(DATA), now=0)
    results = [lists.chunk(chunk(DATA, i), now=1) for i in (3, 1, 1, 0)]
    assert results == [None, None, None, None]
    assert lists.chunk(chunk(DATA, 2), now=2) == (1, DATA)
    assert lists.known_version == 1 and lists.partial() is None


def test_a_list_larger_than_the_cap_is_refused_before_any_chunk_is_kept() -> None:
    lists = ListAssembly(max_bytes=1000, timeout_s=60)
    with pytest.raises(ProtocolError) as refused:
        lists.manifest(manifest(DATA), now=0)
    assert refused.value.code == "oversized"
    assert lists.partial() is None


def test_a_chunk_that_does_not_match_its_manifest_is_refused() -> None:
    lists = ListAssembly(max_bytes=10_000, timeout_s=60)
    lists.manifest(manifest(DATA), now=0)
    bad = {**chunk(DATA, 0), "data": base64.b64encode(b"x" * CHUNK).decode()}
    with pytest.raises(ProtocolError) as refused:
        lists.chunk(bad, now=1)
    assert refused.value.code == "bad_hash"
    assert lists.partial()["missing"] == [0, 1, 2, 3]


def test_a_stalled_transfer_is_discarded_after_the_timeout() -> None:
    lists = ListAssembly(max_bytes=10_000, timeout_s=60)
    lists.manifest(manifest(DATA), now=0)
    lists.chunk(chunk(DATA, 0), now=30)
    lists.expire(now=89)
    assert lists.partial() is not None
    lists.expire(now=91)
    assert lists.partial() is None
    with pytest.raises(ProtocolError) as refused:
        lists.chunk(chunk(DATA, 1), now=92)
    assert refused.value.code == "unexpected"


def test_the_same_manifest_again_resumes_the_transfer() -> None:
    lists = ListAssembly(max_bytes=10_000, timeout_s=60)
    lists.manifest(manifest(DATA), now=0)
    lists.chunk(chunk(DATA, 0), now=1)
    lists.chunk(chunk(DATA, 2), now=1)
    lists.manifest(manifest(DATA), now=2)  # after a reconnection
    assert lists.partial()["missing"] == [1, 3]


def test_an_older_or_known_version_is_refused_as_replayed() -> None:
    lists = ListAssembly(max_bytes=10_000, timeout_s=60, known_version=3)
    with pytest.raises(ProtocolError) as refused:
        lists.manifest(manifest(DATA, version=3), now=0)
    assert refused.value.code == "replayed"


ITEM = {"kind": "activation", "pass_number": "1", "id_number": None, "pass_type": None,
        "state": "active", "activated_on": "2026-05-02", "expires_on": "2027-05-01",
        "origin_museum": "M2", "origin_gate": "G1"}  # fmt: skip


def test_the_earliest_activation_wins_whatever_the_order_of_arrival() -> None:
    later = {**ITEM, "activated_on": "2026-05-09", "expires_on": "2027-05-08"}
    first = merge_remote(None, later)
    assert merge_remote(first, ITEM)["activated_on"] == "2026-05-02"
    assert merge_remote(merge_remote(None, ITEM), later)["activated_on"] == "2026-05-02"


def test_a_block_stands_against_a_later_activation_until_a_sale() -> None:
    blocked = merge_remote(merge_remote(None, ITEM), {**ITEM, "kind": "block",
                                                      "state": "blocked"})  # fmt: skip
    assert blocked["state"] == "blocked" and blocked["activated_on"] == "2026-05-02"
    assert merge_remote(blocked, ITEM)["state"] == "blocked"
    sold = {**ITEM, "kind": "sale", "state": "sold", "activated_on": None, "expires_on": None}
    assert merge_remote(blocked, sold)["state"] == "sold"


def test_an_ack_must_name_this_journals_record_and_only_moves_forward(world: World) -> None:
    world.tap(ACTIVE)
    world.tap(SOLD)
    outbox = Outbox(world.journal)
    record = world.journal.models.record
    epoch = world.journal.epoch
    assert "differs" in outbox.acknowledge(2, "f" * 64, wall=1.0, epoch=epoch)
    assert "beyond" in outbox.acknowledge(3, "f" * 64, wall=1.0, epoch=epoch)
    assert outbox.acknowledge(2, record.get_by_id(2).hash, wall=1.0, epoch=epoch) is None
    assert "stale" in outbox.acknowledge(1, record.get_by_id(1).hash, wall=2.0, epoch=epoch)
    assert Outbox(world.journal).acked_seq == 2  # from the disk, not from memory
    assert outbox.backlog == 0


def test_pruning_removes_only_old_acknowledged_records_and_keeps_the_newest(
    world: World,
) -> None:
    fill_journal(world.journal, 10)  # walls 1_790_000_000 + i
    outbox = Outbox(world.journal)
    record = world.journal.models.record
    outbox.acknowledge(6, record.get_by_id(6).hash, wall=paris(2026, 6, 1),
                       epoch=world.journal.epoch)  # fmt: skip
    assert outbox.prune(before_wall=1_790_000_004.5, limit=100) == 5  # seqs 1..5
    assert world.journal.first_seq == 6
    assert outbox.prune(before_wall=2e9, limit=100) == 1  # 6; 7.. are not acknowledged
    outbox.acknowledge(10, record.get_by_id(10).hash, wall=paris(2026, 6, 1),
                       epoch=world.journal.epoch)  # fmt: skip
    assert outbox.prune(before_wall=2e9, limit=100) == 3  # 7..9; 10 stays, the newest
    assert world.journal.verify_chain() == []


def test_the_gate_key_is_made_once_readable_by_its_owner_only(tmp_path) -> None:
    key, key_id = gate_key(tmp_path)
    assert stat.S_IMODE((tmp_path / PRIVATE_FILE).stat().st_mode) == 0o600
    assert gate_key(tmp_path)[1] == key_id


def test_sync_ids_must_be_topic_safe_and_not_the_broadcast_level() -> None:
    with pytest.raises(ConfigError, match="topics"):
        from_dict({"gate": {"museum": "M+1"}, "sync": {}})
    with pytest.raises(ConfigError, match="reserved"):
        from_dict({"gate": {"museum": "all"}, "sync": {}})
    assert from_dict({"gate": {"museum": "M+1"}}).sync is None  # no sync: no topics
    with pytest.raises(ConfigError, match="retention_days = 1: must be from 2"):
        from_dict({"sync": {"retention_days": 1}})


def test_topics_outside_the_protocol_are_refused() -> None:
    assert parse_topic("portique/v1/M1/G1/up/batch").gate == "G1"
    assert parse_topic("portique/v1/all/down/list/chunk").name == "list/chunk"
    for topic in ("portique/v2/M1/G1/up/batch", "portique/v1/M1/G1/up/ack", "other/x"):
        with pytest.raises(ProtocolError):
            parse_topic(topic)
