"""Signed lists at the size of the whole network: 1,000,000 passes.

Figures: building and signing a snapshot from CSV (publisher side),
verifying and activating it on the gate, a lookup through the pass store
the decision uses, applying a 10,000-change delta, the daemon's resident
memory with that list in force, and the floor for the same bytes (SHA-256
of the payload plus one Ed25519 signature check).
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.tap import percentile
from firmware.demo import TYPES, filler_rows
from firmware.gate.passes import PassType
from firmware.journal.journal import Journal
from firmware.lists import format as fmt
from firmware.lists.manager import ListManager
from firmware.lists.publisher import Signer, build_delta, build_snapshot
from firmware.store.csvlist import read_passes, read_types
from firmware.store.store import PassStore
from firmware.trust import TrustStore, read_public_key, unb64, verify_signature

PASSES = 1_000_000
DELTA = 10_000
LOOKUPS = 20_000
KEYS = Path("provisioning/demo-keys")
TODAY = date(2026, 6, 1)


def _write_csv(workdir: Path) -> tuple[Path, Path]:
    passes, types = workdir / "passes.csv", workdir / "types.csv"
    with open(types, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "persons", "children"))
        writer.writerows(TYPES)
    with open(passes, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("serial", "pass_number", "id_number", "pass_type", "state",
                         "activated_on", "expires_on"))  # fmt: skip
        writer.writerows(filler_rows(TODAY, PASSES, seed=11))
    return passes, types


def _timed(action):  # noqa: ANN001, ANN202
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def _hash_floor(snapshot: Path) -> float:
    data = snapshot.read_bytes()
    header = fmt.read_header(data, len(data))
    public = unb64(header.certificates[0]["cert"]["public_key"], "signing key")
    payload = memoryview(data)[header.payload_offset :]
    started = time.perf_counter()
    hashlib.sha256(payload).hexdigest()
    verify_signature(public, header.signature, fmt.signed_bytes(header.signed))
    return time.perf_counter() - started


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(workdir: Path, data_dir: Path) -> float:
    config = workdir / "portique.toml"
    config.write_text(
        f"""
[gate]
data_dir = "{data_dir}"
[reader]
path = "udp:127.0.0.1:{_free_udp_port()}"
[gpio]
pin_factory = "mock"
[lists]
root_key = "{(KEYS / "root.pub").resolve()}"
allow_demo_keys = true
"""
    )
    proc = subprocess.Popen([sys.executable, "-m", "firmware", "run", "-c", str(config)],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "running;" in line:
                break
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return kib / 1024


def run(workdir: Path) -> dict[str, float]:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    passes_csv, types_csv = _write_csv(workdir)
    signer = Signer.from_files(KEYS / "signing.key", KEYS / "signing.cert.json")
    now = time.time()

    def build() -> bytes:
        types = read_types(types_csv)
        rows = list(read_passes(passes_csv, types))
        return build_snapshot(rows, types, 1, now, now + 7 * 86400, signer)

    data, build_s = _timed(build)
    snapshot = workdir / "snapshot.pql"
    snapshot.write_bytes(data)
    del data

    data_dir = workdir / "gate"
    data_dir.mkdir()
    root = read_public_key(KEYS / "root.pub")
    trust = TrustStore.open(root, data_dir / "trust.json", allow_demo=True)
    manager = ListManager(data_dir, trust, 1 << 30)
    _, activate_s = _timed(lambda: manager.apply_file(snapshot, now))

    journal = Journal.open(data_dir / "journal.sqlite")
    store = PassStore(manager, journal)
    serials = [row[0] for row in filler_rows(TODAY, PASSES, seed=11)]
    rng = random.Random(3)
    probes = [rng.choice(serials) for _ in range(LOOKUPS)]
    probes += [f"09{rng.getrandbits(48):012X}" for _ in range(LOOKUPS // 10)]  # unknown passes
    lookups = []
    for serial in probes:
        started = time.perf_counter()
        store.lookup(serial)
        lookups.append((time.perf_counter() - started) * 1e6)

    types = {code: PassType(code, p, c) for code, p, c in TYPES}
    changes = [(s, f"9{i:07d}", f"IDX{i}", "solo", "blocked", None, None)
               for i, s in enumerate(serials[:DELTA])]  # fmt: skip
    delta_file = workdir / "delta.pql"
    delta_file.write_bytes(build_delta(changes, types, 1, 2, now, now + 86400, signer))
    _, delta_s = _timed(lambda: manager.apply_file(delta_file, now))
    journal.close()
    manager.close()

    return {
        "list_passes": float(PASSES),
        # The snapshot's size: 43 bytes a pass since format 3 (whose stock), 41 before.
        "list_mb": snapshot.stat().st_size / 1e6,
        "list_build_s": build_s,
        "list_activate_s": activate_s,
        "list_hash_floor_s": _hash_floor(snapshot),
        "list_lookup_p50_us": percentile(lookups, 0.50),
        "list_lookup_p99_us": percentile(lookups, 0.99),
        "delta_apply_10k_ms": delta_s * 1000,
        "daemon_rss_mb": _rss_mb(workdir, data_dir),
    }
