"""`portique list …` and `portique keys …`: build, check and install lists; manage keys.

Building and key commands belong to the central office or the hub (they
need private keys); `verify` and `install` are for technicians at a gate.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from firmware.clock import FlooredClock, SystemClock, gate_clock
from firmware.lists import format as fmt
from firmware.lists.publisher import Signer, build_delta, build_snapshot
from firmware.lists.verify import ListRejected, verify_file
from firmware.store.csvlist import ListError, read_passes, read_types
from firmware.trust import (
    PURPOSES,
    TrustError,
    TrustStore,
    certify,
    generate_private_key,
    load_private_key,
    raw_public,
    read_public_key,
    revocations,
    rotate_root,
    write_public_key,
)

_DURATION = re.compile(r"^(\d+)([dhm])$")


def duration(text: str) -> float:
    """``7d``, ``12h`` or ``30m`` in seconds."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 7d, 12h or 30m")
    return int(match[1]) * {"d": 86400, "h": 3600, "m": 60}[match[2]]


def add_commands(sub: argparse._SubParsersAction, config_option) -> None:  # noqa: ANN001
    lists = sub.add_parser("list", help="build, check and install signed pass lists")
    lsub = lists.add_subparsers(dest="list_command", required=True)

    build = lsub.add_parser("build", help="build and sign a snapshot (or a delta) from CSV")
    build.add_argument("--passes", type=Path, required=True, help="passes CSV")
    build.add_argument("--types", type=Path, required=True, help="pass types CSV")
    build.add_argument("--version", type=int, required=True, help="the new list version")
    build.add_argument("--base-version", type=int, help="build a delta from this version")
    build.add_argument("--key", type=Path, required=True, help="signing private key (PEM)")
    build.add_argument("--cert", type=Path, required=True, help="its root-signed certificate")
    build.add_argument("--valid-for", type=duration, default=duration("7d"),
                       help="how long gates treat it as fresh (default 7d)")  # fmt: skip
    build.add_argument("--revocations", type=Path,
                       help="a root-signed revocation list to ship to the gates")  # fmt: skip
    build.add_argument("--root-rotation", type=Path,
                       help="a new root signed by the old and the new root")  # fmt: skip
    build.add_argument("--out", type=Path, required=True)
    build.set_defaults(func=_cmd_build)

    verify = lsub.add_parser(
        "verify",
        help="check a list file as this gate's install would (its trust store, list in "
        "force and clock), or on its own against --root",
    )
    verify.add_argument("file", type=Path)
    verify.add_argument("--root", type=Path,
                        help="check the file on its own against this root public key")  # fmt: skip
    verify.add_argument("--allow-demo", action="store_true", help="accept demonstration keys")
    config_option(verify)
    verify.set_defaults(func=_cmd_verify)

    install = lsub.add_parser("install", help="apply a list file to this gate's data (offline)")
    install.add_argument("file", type=Path)
    config_option(install)
    install.set_defaults(func=_cmd_install)

    keys = sub.add_parser("keys", help="central office keys: root, signing certificates")
    ksub = keys.add_subparsers(dest="keys_command", required=True)
    root = ksub.add_parser("new-root", help="create a root key pair")
    root.add_argument("--out", type=Path, required=True, help="folder for root.key, root.pub")
    root.set_defaults(func=_cmd_new_root)
    office = ksub.add_parser("new-office", help="create the office's access-code key pair")
    office.add_argument("--out", type=Path, required=True, help="folder for office.key, office.pub")
    office.set_defaults(func=_cmd_new_office)
    cert = ksub.add_parser("certify", help="create a signing key certified by the root")
    cert.add_argument("--root-key", type=Path, required=True)
    cert.add_argument("--out", type=Path, required=True, help="folder for NAME.key, NAME.cert.json")
    cert.add_argument("--name", default="signing")
    cert.add_argument("--purposes", default="list,hub", help=f"among {', '.join(PURPOSES)}")
    cert.add_argument("--valid-for", type=duration, default=duration("365d"))
    cert.add_argument("--label", default="")
    cert.add_argument("--demo", action="store_true", help="mark as a demonstration key")
    cert.set_defaults(func=_cmd_certify)
    rotate = ksub.add_parser("rotate-root", help="move gates to a new root: a root document "
                             "signed by the old and the new root")  # fmt: skip
    rotate.add_argument("--old-key", type=Path, required=True, help="the current root.key")
    rotate.add_argument("--new-key", type=Path, required=True, help="the new root.key "
                        "(portique keys new-root)")  # fmt: skip
    rotate.add_argument("--out", type=Path, required=True,
                        help="the rotation document, for `list build --root-rotation`")  # fmt: skip
    rotate.set_defaults(func=_cmd_rotate_root)
    revoke = ksub.add_parser("revoke", help="write a root-signed revocation list")
    revoke.add_argument("--root-key", type=Path, required=True)
    revoke.add_argument("--version", type=int, required=True, help="higher than the last one")
    revoke.add_argument("--out", type=Path, required=True)
    revoke.add_argument("key_ids", nargs="+")
    revoke.set_defaults(func=_cmd_revoke)


def _fail(message: str, code: int = 1) -> int:
    print(f"portique: {message}", file=sys.stderr)
    return code


def _cmd_build(args: argparse.Namespace) -> int:
    try:
        signer = Signer.from_files(args.key, args.cert)
        if args.revocations:
            signer.revocations = json.loads(args.revocations.read_text())
        if args.root_rotation:
            signer.root_rotation = json.loads(args.root_rotation.read_text())
        types = read_types(args.types)
        rows = list(read_passes(args.passes, types))
        issued = SystemClock().wall()
        expires = issued + args.valid_for
        if args.base_version is None:
            data = build_snapshot(rows, types, args.version, issued, expires, signer)
        else:
            data = build_delta(
                rows, types, args.base_version, args.version, issued, expires, signer
            )
    except (TrustError, ListError, ValueError, OSError) as exc:
        return _fail(str(exc))
    args.out.write_bytes(data)
    kind = "snapshot" if args.base_version is None else f"delta from {args.base_version}"
    print(f"{args.out}: {kind} version {args.version}, {len(rows)} passes, {len(data)} bytes")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from firmware.cli_support import load_settings
    from firmware.journal.database import StorageError

    try:
        if args.root is not None:
            # The file on its own: its version against its own base, today's clock.
            trust = TrustStore(root=read_public_key(args.root), allow_demo=args.allow_demo)
            with open(args.file, "rb") as handle:
                prefix = handle.read(len(fmt.MAGIC) + 4 + fmt.MAX_HEADER_BYTES)
            header = fmt.read_header(prefix, args.file.stat().st_size)
            base = (header.base_version or 0) if header.kind == "delta" else 0
            verify_file(args.file, trust, base, SystemClock().wall(), 1 << 40)
            _print_metadata(args.file, header)
            return 0
        settings = load_settings(args.config)
        if settings is None:
            return 2
        if settings.lists.root_key is None:
            return _fail(f"{args.config}: [lists] root_key is not set; use --root", 2)
        # What `list install` would decide: the gate's trust store (read, never
        # saved), the version in force and the daemon's floored clock.
        gate = GateView.read(settings)
        allow_demo = args.allow_demo or settings.lists.allow_demo_keys
        root = read_public_key(settings.lists.root_key)
        trust = TrustStore.open(root, settings.gate.data_dir / "trust.json", allow_demo)
        now, cap = gate.clock.now(), settings.lists.max_list_mb << 20
        header = verify_file(args.file, trust, gate.version, now.wall, cap,
                             gate.clock.latest_issue())  # fmt: skip
    except (TrustError, OSError, StorageError) as exc:
        return _fail(str(exc))
    except (fmt.ListFormatError, ListRejected) as exc:
        return _fail(f"refused ({exc.code}): {exc}")
    _print_metadata(args.file, header)
    print(
        f"  would install  over version {gate.version}, gate time "
        f"{_when(now.wall)}{'' if now.trusted else ' (clock untrusted: floor used)'}"
    )
    return 0


class GateView:
    """What a gate's data directory says, read without changing it: list version, clock."""

    def __init__(self, version: int, clock: FlooredClock) -> None:
        self.version, self.clock = version, clock

    @classmethod
    def read(cls, settings) -> GateView:  # noqa: ANN001 - Settings, imported lazily
        import sqlite3

        from firmware.journal.journal import Journal

        data_dir = settings.gate.data_dir
        floor, version = 0.0, 0
        if (data_dir / "journal.sqlite").exists():
            journal = Journal.open(data_dir / "journal.sqlite", readonly=True)
            try:
                floor = max(floor, journal.stored_floor())
            finally:
                journal.close()
        if (data_dir / "lists.sqlite").exists():
            db = sqlite3.connect(f"file:{data_dir / 'lists.sqlite'}?mode=ro", uri=True)
            try:
                state = dict(db.execute("SELECT key, value FROM state").fetchall())
            except sqlite3.Error:
                state = {}
            finally:
                db.close()
            version = int(state.get("version", 0))
            floor = max(floor, float(state.get("issued_at", 0)))
        return cls(version, gate_clock(SystemClock(), floor))


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _print_metadata(path: Path, header: fmt.Header) -> None:
    signed = header.signed

    when = _when
    print(f"{path}: valid {header.kind}")
    print(f"  version        {header.version}")
    if header.base_version is not None:
        print(f"  base version   {header.base_version}")
    print(f"  issued at      {when(header.issued_at)}")
    print(f"  expires at     {when(header.expires_at)}")
    print(f"  passes         {signed['record_count']}")
    print(f"  payload        {header.payload_length} bytes, sha256 {signed['payload_sha256']}")
    print(f"  signed by key  {signed['signer']}")
    print(f"  pass types     {json.dumps(signed['types'], sort_keys=True)}")


def _cmd_install(args: argparse.Namespace) -> int:
    from firmware.app import open_lists
    from firmware.cli_support import load_settings
    from firmware.datalock import DataDirBusy, DataDirLock
    from firmware.journal.database import StorageError

    settings = load_settings(args.config)
    if settings is None:
        return 2
    try:
        # The running daemon decides from the list it holds: never a second writer.
        with DataDirLock(settings.gate.data_dir, "portique list install"):
            clock = GateView.read(settings).clock  # the daemon's floored clock
            lists = open_lists(settings)
            try:
                lists.apply_file(args.file, clock.now().wall, clock.latest_issue())
                print(f"list version {lists.version} in force: {lists.count} passes")
            finally:
                lists.close()
    except ListRejected as exc:
        return _fail(f"refused ({exc.code}): {exc}")
    except (DataDirBusy, StorageError, TrustError, OSError) as exc:
        return _fail(str(exc))
    return 0


def _cmd_new_root(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    key = generate_private_key(args.out / "root.key")
    key_id = write_public_key(key, args.out / "root.pub")
    print(f"root key {key_id}: {args.out / 'root.key'} (keep offline), {args.out / 'root.pub'}")
    return 0


def _cmd_new_office(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    key = generate_private_key(args.out / "office.key")
    key_id = write_public_key(key, args.out / "office.pub")
    print(
        f"office key {key_id}: {args.out / 'office.key'} (the office signs access codes "
        f"with it), {args.out / 'office.pub'} (installed on every gate and the hub)"
    )
    return 0


def _cmd_certify(args: argparse.Namespace) -> int:
    purposes = [p.strip() for p in args.purposes.split(",") if p.strip()]
    if not purposes or set(purposes) - set(PURPOSES):
        return _fail(f"--purposes must be among {', '.join(PURPOSES)}", 2)
    try:
        root = load_private_key(args.root_key)
    except TrustError as exc:
        return _fail(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    key = generate_private_key(args.out / f"{args.name}.key")
    now = SystemClock().wall()
    document = certify(root, raw_public(key.public_key()), purposes, now - 86400,
                       now + args.valid_for, args.label, demo=args.demo)  # fmt: skip
    cert_path = args.out / f"{args.name}.cert.json"
    cert_path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(
        f"signing key {document['cert']['key_id']}: {args.out / (args.name + '.key')}, {cert_path}"
    )
    return 0


def _cmd_revoke(args: argparse.Namespace) -> int:
    try:
        root = load_private_key(args.root_key)
    except TrustError as exc:
        return _fail(str(exc))
    args.out.write_text(json.dumps(revocations(root, args.version, args.key_ids), indent=1) + "\n")
    print(f"{args.out}: revocation list version {args.version}: {', '.join(args.key_ids)}")
    return 0


def _cmd_rotate_root(args: argparse.Namespace) -> int:
    try:
        old, new = load_private_key(args.old_key), load_private_key(args.new_key)
    except TrustError as exc:
        return _fail(str(exc))
    document = rotate_root(old, new)
    body = document["root"]
    if body["key_id"] == body["previous_id"]:
        return _fail("the new root is the current root: make one with `portique keys new-root`")
    args.out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(
        f"{args.out}: root {body['previous_id']} → {body['key_id']}; ship it with the next "
        "list (`portique list build --root-rotation`), signed by a key the new root certified"
    )
    return 0
