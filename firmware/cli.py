"""The ``portique`` command: run the gate, present a test card, read the journal."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from firmware import config
from firmware.cli_support import EXIT_CONFIG, EXIT_STORAGE, load_settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args_verbose(args) else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `portique journal export --csv | head`: the reader has what it wanted.
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(
            f"portique {args.command}: output closed by the reader (broken pipe)", file=sys.stderr
        )
        return EXIT_STORAGE


def _quiet_nfcpy(args: argparse.Namespace) -> None:
    """nfcpy logs each failed open as an error and its polls at debug level; the
    reader reports both itself, naming the path, so nfcpy speaks only with -v.
    Only the commands that use a reader import nfcpy (0.2 s and more on a Pi)."""
    import nfc  # noqa: F401 - nfcpy sets its own level when imported, so import it first

    logging.getLogger("nfc").setLevel(logging.DEBUG if args_verbose(args) else logging.CRITICAL)


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
    verify.add_argument(
        "--archive", type=Path, metavar="FILE",
        help="check an archive file offline instead of this gate's journal",
    )  # fmt: skip
    verify.add_argument(
        "--gate-key", type=Path, metavar="GATE_PUB",
        help="with --archive: the gate's public key file, as registered",
    )  # fmt: skip
    _config_option(verify)
    verify.set_defaults(func=_cmd_verify)
    archive = jsub.add_parser("archive", help="write every record to a signed archive file")
    archive.add_argument("--out", type=Path, required=True, help="the archive file to write")
    _config_option(archive)
    archive.set_defaults(func=_cmd_archive)

    staff = sub.add_parser("staff", help="manage the staff accounts of the gate's screen")
    ssub = staff.add_subparsers(dest="staff_command", required=True)
    add = ssub.add_parser("add", help="add a staff member, or change their role and PIN")
    add.add_argument("name", help="the name shown on the login screen")
    add.add_argument("--role", required=True, choices=("controle", "caisse", "stock"),
                     help="controle: entries; caisse and stock: entries and figures")  # fmt: skip
    _config_option(add)
    add.set_defaults(func=_cmd_staff_add)
    remove = ssub.add_parser("remove", help="remove a staff member")
    remove.add_argument("name")
    _config_option(remove)
    remove.set_defaults(func=_cmd_staff_remove)
    listing = ssub.add_parser("list", help="list the staff members and their roles")
    _config_option(listing)
    listing.set_defaults(func=_cmd_staff_list)

    shot = sub.add_parser("screenshot", help="draw a screen with sample data to a PNG file")
    shot.add_argument("--screen", required=True,
                      help="a screen name, or 'all' to write every screen in every language "
                      "into the folder --out")  # fmt: skip
    shot.add_argument("--lang", default="fr", choices=("fr", "de", "en"))
    shot.add_argument("--out", type=Path, required=True, help="the PNG file (or folder for all)")
    shot.add_argument("--size", default="800x480", help="WIDTHxHEIGHT (default %(default)s)")
    shot.set_defaults(func=_cmd_screenshot)

    key = sub.add_parser("key", help="print this gate's public key file (made if missing)")
    _config_option(key)
    key.set_defaults(func=_cmd_key)

    demo = sub.add_parser("demo", help="write a demonstration pass list, signed by demo keys")
    demo.add_argument("--out", type=Path, required=True,
                      help="folder for passes.csv, types.csv and list.pql")  # fmt: skip
    demo.add_argument("--keys", type=Path, default=Path("provisioning/demo-keys"),
                      help="the demonstration keys (default %(default)s)")  # fmt: skip
    demo.add_argument("--filler", type=int, default=2000, help="extra random passes")
    demo.set_defaults(func=_cmd_demo)

    from firmware import admin_cli
    from firmware.counter import cli as counter_cli
    from firmware.lists import cli as lists_cli

    admin_cli.add_commands(sub, _config_option)
    lists_cli.add_commands(sub, _config_option)
    counter_cli.add_commands(sub, _config_option)
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


def _cmd_run(args: argparse.Namespace) -> int:
    from firmware.app import build_gate, run_gate
    from firmware.datalock import DataDirBusy
    from firmware.gate.hardware import HardwareError
    from firmware.journal.database import StorageError
    from firmware.lists.verify import ListRejected
    from firmware.trust import TrustError

    _quiet_nfcpy(args)
    settings = load_settings(args.config)
    if settings is None:
        return EXIT_CONFIG
    try:
        gate = build_gate(settings)
    except (StorageError, ListRejected, TrustError, HardwareError, DataDirBusy) as exc:
        print(f"portique: cannot start: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    run_gate(gate)
    return 0


def _cmd_tap(args: argparse.Namespace) -> int:
    from firmware.reader import parse_serial, present_card

    _quiet_nfcpy(args)
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

    settings = load_settings(path)
    if settings is None:
        return None
    return Journal.open(settings.gate.data_dir / JOURNAL_FILE, readonly=True)


def _cmd_export(args: argparse.Namespace) -> int:
    import peewee

    from firmware.journal.database import StorageError, describe

    try:
        journal = _open_journal_readonly(args.config)
    except StorageError as exc:
        print(f"portique journal: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    if journal is None:
        return EXIT_CONFIG
    try:
        journal.export_csv(sys.stdout)
    except peewee.DatabaseError as exc:  # a page that went bad since the open's check
        print(f"portique journal: {describe(exc, journal.path, 'journal')}", file=sys.stderr)
        return EXIT_STORAGE
    finally:
        journal.close()
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    import peewee

    from firmware.journal.database import StorageError, describe

    if args.archive is not None:
        return _verify_archive(args.archive, args.gate_key)
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
    except peewee.DatabaseError as exc:
        print(f"portique journal: {describe(exc, journal.path, 'journal')}", file=sys.stderr)
        return EXIT_STORAGE
    finally:
        journal.close()
    for line in problems:
        print(f"journal {journal.path}: {line}")
    print(f"{count} records checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def _verify_archive(path: Path, gate_pub: Path | None) -> int:
    from firmware.counter.archive import verify_archive
    from firmware.trust import TrustError, read_public_key

    try:
        expected = read_public_key(gate_pub) if gate_pub else None
    except TrustError as exc:
        print(f"portique journal verify: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    key_id, count, problems = verify_archive(path, expected)
    for line in problems:
        print(f"archive {path}: {line}")
    print(f"{count} records checked, {len(problems)} problem(s); signed by gate key {key_id or '?'}"
          " (compare it with the key registered at the hub)")  # fmt: skip
    return 1 if problems else 0


def _cmd_archive(args: argparse.Namespace) -> int:
    from firmware.counter.archive import export_archive
    from firmware.journal.database import StorageError
    from firmware.sync.keys import gate_key
    from firmware.trust import TrustError

    settings = load_settings(args.config)
    if settings is None:
        return EXIT_CONFIG
    try:
        key, _ = gate_key(settings.gate.data_dir)
        journal = _open_journal_readonly(args.config)
    except (OSError, TrustError, StorageError) as exc:
        print(f"portique journal archive: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    if journal is None:
        return EXIT_CONFIG
    try:
        count = export_archive(journal, key, args.out)
    except OSError as exc:
        print(f"portique journal archive: {args.out}: {exc.strerror}", file=sys.stderr)
        return EXIT_STORAGE
    finally:
        journal.close()
    print(f"{count} records written to {args.out}")
    return 0


def _cmd_key(args: argparse.Namespace) -> int:
    from firmware.sync.keys import PUBLIC_FILE, gate_key
    from firmware.trust import TrustError

    settings = load_settings(args.config)
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
    from firmware.demo import NAMED, write_demo, write_demo_list
    from firmware.trust import TrustError

    now = SystemClock().wall()
    passes, types = write_demo(args.out, datetime.fromtimestamp(now).date(), filler=args.filler)
    try:
        listed = write_demo_list(passes, types, args.keys, args.out / "list.pql", now)
    except TrustError as exc:
        print(f"portique demo: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {passes}, {types} and {listed} (signed by the DEMO key: simulation only)")
    print("serials to try with `portique tap`:")
    for serial, number, what in NAMED:
        print(f"  {serial}  pass {number}: {what}")
    return 0


def _read_pin() -> str:
    """The PIN, asked twice on a terminal; one line on standard input for scripts."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    pin = getpass.getpass("PIN (4 to 8 digits): ")
    if getpass.getpass("the same PIN again: ") != pin:
        raise ValueError("the two PINs differ")
    return pin


def _staff_command(args: argparse.Namespace, change: Callable[[dict, Path], str | None]) -> int:
    """Load the staff file named by the config, let ``change`` act on the accounts, report.

    ``change`` returns what to print, or None when it found nothing to do.
    """
    from firmware.app import STAFF_FILE
    from firmware.gate.staff import StaffError, load_staff

    settings = load_settings(args.config)
    if settings is None:
        return EXIT_CONFIG
    path = settings.gate.data_dir / STAFF_FILE
    try:
        said = change(load_staff(path), path)
    except (StaffError, ValueError) as exc:
        print(f"portique staff: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"portique staff: {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_STORAGE
    if said is None:
        return 1
    print(said)
    return 0


def _cmd_staff_add(args: argparse.Namespace) -> int:
    from firmware.gate.staff import Role, StaffMember, check_pin, hash_pin, save_staff

    def add(staff: dict, path: Path) -> str:
        pin = _read_pin()
        check_pin(pin)
        staff[args.name] = StaffMember(args.name, Role(args.role), hash_pin(pin))
        path.parent.mkdir(parents=True, exist_ok=True)
        save_staff(path, staff)
        return f"{args.name} ({args.role}) saved in {path}; effective at the next login"

    return _staff_command(args, add)


def _cmd_staff_remove(args: argparse.Namespace) -> int:
    from firmware.gate.staff import save_staff

    def remove(staff: dict, path: Path) -> str | None:
        if staff.pop(args.name, None) is None:
            print(f"portique staff: no staff member {args.name!r} in {path}", file=sys.stderr)
            return None
        save_staff(path, staff)
        return f"{args.name} removed from {path}"

    return _staff_command(args, remove)


def _cmd_staff_list(args: argparse.Namespace) -> int:
    def listing(staff: dict, _path: Path) -> str:
        members = sorted(staff.values(), key=lambda m: m.name.casefold())
        return "\n".join(f"{member.name}\t{member.role}" for member in members)

    return _staff_command(args, listing)


def _cmd_screenshot(args: argparse.Namespace) -> int:
    from firmware.display.screenshot import SAMPLES, save

    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        print(f"portique screenshot: --size {args.size!r} is not WIDTHxHEIGHT", file=sys.stderr)
        return EXIT_CONFIG
    if args.screen == "all":
        jobs = [(name, lang, args.out / f"{name}-{lang}.png")
                for name in SAMPLES for lang in ("fr", "de", "en")]  # fmt: skip
    elif args.screen in SAMPLES:
        jobs = [(args.screen, args.lang, args.out)]
    else:
        print(f"portique screenshot: no screen {args.screen!r}; screens: "
              f"{', '.join(SAMPLES)}, all", file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    overflowing = 0
    for name, lang, out in jobs:
        for text in save(name, lang, out, (width, height)):
            print(f"{out}: text does not fit its box: {text!r}", file=sys.stderr)
            overflowing += 1
        print(out)
    return 1 if overflowing else 0
