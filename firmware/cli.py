"""The ``portique`` command: run the gate, present a test card, read the journal."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from firmware import config

EXIT_CONFIG = 2
EXIT_STORAGE = 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args_verbose(args) else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # nfcpy logs each failed open as an error and its polls at debug level; the
    # reader reports both itself, naming the path, so nfcpy speaks only with -v.
    # nfcpy sets its own level when imported, so import it first.
    import nfc  # noqa: F401

    logging.getLogger("nfc").setLevel(logging.DEBUG if args_verbose(args) else logging.CRITICAL)
    return int(args.func(args) or 0)


def args_verbose(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "verbose", False))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portique", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the gate daemon")
    _config_option(run)
    run.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    run.set_defaults(func=_cmd_run)

    tap = sub.add_parser("tap", help="present an emulated card to a simulated reader")
    tap.add_argument("serial", help="chip serial in hex, e.g. 04A1B2C3D4E501")
    tap.add_argument(
        "--reader",
        default="udp:127.0.0.1:54321",
        help="the simulated reader's nfcpy path (default %(default)s)",
    )
    tap.add_argument(
        "--hold",
        type=float,
        default=2.5,
        help="seconds the card stays on the reader (default %(default)s)",
    )
    tap.set_defaults(func=_cmd_tap)

    journal = sub.add_parser("journal", help="read the journal")
    jsub = journal.add_subparsers(dest="journal_command", required=True)
    export = jsub.add_parser("export", help="print every record")
    export.add_argument("--csv", action="store_true", required=True, help="as CSV")
    _config_option(export)
    export.set_defaults(func=_cmd_export)
    verify = jsub.add_parser("verify", help="check sequence numbers and the hash chain")
    _config_option(verify)
    verify.set_defaults(func=_cmd_verify)

    key = sub.add_parser("key", help="print this gate's public key file (made if missing)")
    _config_option(key)
    key.set_defaults(func=_cmd_key)

    demo = sub.add_parser("demo", help="write a demonstration pass list (CSV)")
    demo.add_argument("--out", type=Path, required=True, help="folder for passes.csv, types.csv")
    demo.add_argument("--filler", type=int, default=2000, help="extra random passes")
    demo.set_defaults(func=_cmd_demo)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("PORTIQUE_CONFIG", str(config.DEFAULT_PATH))
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path(default),
        help="configuration file (default %(default)s, or $PORTIQUE_CONFIG)",
    )


def _load(path: Path) -> config.Settings | None:
    try:
        return config.load(path)
    except config.ConfigError as exc:
        print(f"portique: configuration error: {exc}", file=sys.stderr)
        return None


def _cmd_run(args: argparse.Namespace) -> int:
    from firmware.app import build_gate, run_gate
    from firmware.journal.database import StorageError
    from firmware.store.csvlist import ListError
    from firmware.trust import TrustError

    settings = _load(args.config)
    if settings is None:
        return EXIT_CONFIG
    try:
        gate = build_gate(settings)
    except (StorageError, ListError, TrustError) as exc:
        print(f"portique: cannot start: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    run_gate(gate)
    return 0


def _cmd_tap(args: argparse.Namespace) -> int:
    from firmware.reader import parse_serial, present_card

    try:
        serial = parse_serial(args.serial)
        seen = present_card(args.reader, serial, hold_s=args.hold)
    except (ValueError, OSError) as exc:
        print(f"portique tap: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not seen:
        print(f"portique tap: no reader sensed the card on {args.reader} "
              "(is `make run` running?)", file=sys.stderr)  # fmt: skip
        return 1
    print(f"card {serial.hex().upper()} presented on {args.reader}")
    return 0


def _open_journal_readonly(path: Path):  # noqa: ANN202 - Journal, imported lazily
    from firmware.app import JOURNAL_FILE
    from firmware.journal.journal import Journal

    settings = _load(path)
    if settings is None:
        return None
    return Journal.open(settings.gate.data_dir / JOURNAL_FILE, readonly=True)


def _cmd_export(args: argparse.Namespace) -> int:
    from firmware.journal.database import StorageError

    try:
        journal = _open_journal_readonly(args.config)
    except StorageError as exc:
        print(f"portique journal: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    if journal is None:
        return EXIT_CONFIG
    try:
        journal.export_csv(sys.stdout)
    finally:
        journal.close()
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from firmware.journal.database import StorageError

    try:
        journal = _open_journal_readonly(args.config)
    except StorageError as exc:
        print(f"portique journal: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    if journal is None:
        return EXIT_CONFIG
    try:
        problems = journal.verify_chain()
        count = journal.last_seq
    finally:
        journal.close()
    for line in problems:
        print(f"journal {journal.path}: {line}")
    print(f"{count} records checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def _cmd_key(args: argparse.Namespace) -> int:
    from firmware.sync.keys import PUBLIC_FILE, gate_key
    from firmware.trust import TrustError

    settings = _load(args.config)
    if settings is None:
        return EXIT_CONFIG
    try:
        _, key_id = gate_key(settings.gate.data_dir)
    except (OSError, TrustError) as exc:
        print(f"portique key: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    print(f"{settings.gate.data_dir / PUBLIC_FILE}  (key id {key_id})")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from firmware.clock import SystemClock
    from firmware.demo import NAMED, write_demo

    today = datetime.fromtimestamp(SystemClock().wall()).date()
    passes, types = write_demo(args.out, today, filler=args.filler)
    print(f"wrote {passes} and {types}; serials to try with `portique tap`:")
    for serial, number, what in NAMED:
        print(f"  {serial}  pass {number}: {what}")
    return 0
