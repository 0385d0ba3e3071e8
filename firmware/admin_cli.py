"""`portique provision`, `deprovision` and `status`: the technician's commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from firmware.cli_support import EXIT_CONFIG, EXIT_STORAGE, load_settings


def add_commands(sub: argparse._SubParsersAction,
                 config_option: Callable[[argparse.ArgumentParser], None]) -> None:  # fmt: skip
    prov = sub.add_parser("provision", help="set this gate up with an access code from the "
                          "central office")  # fmt: skip
    prov.add_argument("--museum", required=True, help="the museum id from the central office")
    prov.add_argument("--gate", required=True, help="this gate's id within the museum")
    prov.add_argument("--code", help="the access code (asked for when not given)")
    prov.add_argument("--office-key", type=Path, default=Path("/etc/portique/office.pub"),
                      help="the office's public key (default %(default)s)")  # fmt: skip
    prov.add_argument(
        "--root-key",
        type=Path,
        help="the central office's root public key, pinned for lists and the hub",
    )
    prov.add_argument("--broker", help="the museum's MQTT broker, HOST or HOST:PORT")
    prov.add_argument("--no-tls", action="store_true", help="plain MQTT (a test network only)")
    prov.add_argument("--ca-file", type=Path,
                      help="the CA of the broker's certificate (default: system CAs)")  # fmt: skip
    prov.add_argument("--username", help="the gate's broker account (default MUSEUM/GATE)")
    prov.add_argument("--password-file", "--broker-password-file", dest="password_file",
                      type=Path, help="a file holding the broker account's password")  # fmt: skip
    prov.add_argument("--reader", default="tty:AMA0:pn532", help="nfcpy path of the PN532")
    prov.add_argument("--pin-factory", default="lgpio", choices=("lgpio", "mock"))
    prov.add_argument(
        "--no-display",
        dest="display",
        action="store_false",
        help="a gate without a touch screen (LEDs and buzzer only)",
    )
    prov.add_argument("--data-dir", type=Path, default=Path("/var/lib/portique"))
    config_option(prov)
    prov.set_defaults(func=cmd_provision)

    deprov = sub.add_parser("deprovision", help="wipe this gate's keys and data")
    deprov.add_argument(
        "--force",
        action="store_true",
        help="even with records the hub has not acknowledged (needs --export)",
    )
    deprov.add_argument("--export", type=Path, help="write unacknowledged records here first")
    config_option(deprov)
    deprov.set_defaults(func=cmd_deprovision)

    status = sub.add_parser("status", help="the gate's health (exit 0 healthy, 1 problems, "
                            "3 daemon not running)")  # fmt: skip
    status.add_argument("--json", action="store_true", help="as JSON, for scripts")
    config_option(status)
    status.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from firmware import status
    from firmware.clock import SystemClock

    settings = load_settings(args.config)
    if settings is None:
        return EXIT_CONFIG
    runtime_dir = settings.status.runtime_dir
    try:
        document = status.read(runtime_dir)
    except status.StatusUnreadable as exc:
        print(f"portique status: {exc} (run it as root or as a member of the portique group)",
              file=sys.stderr)  # fmt: skip
        return 3
    if document is None:
        print(f"portique status: no status in {runtime_dir}: the daemon is not running "
              "(it has not run since the last boot)", file=sys.stderr)  # fmt: skip
        return 3
    now = SystemClock().wall()
    running = status.daemon_running(document, now)
    healthy = running and status.healthy(document)
    if args.json:
        print(json.dumps({**document, "daemon_running": running, "healthy": healthy},
                         indent=1, sort_keys=True))  # fmt: skip
    else:
        print(status.human(document, now))
    return 0 if healthy else (1 if running else 3)


def cmd_provision(args: argparse.Namespace) -> int:
    import getpass

    from firmware import provision
    from firmware.clock import SystemClock, gate_clock
    from firmware.datalock import DataDirBusy, DataDirLock
    from firmware.journal.database import StorageError
    from firmware.sync.keys import PRIVATE_FILE, PUBLIC_FILE, gate_key
    from firmware.trust import TrustError

    code = args.code or getpass.getpass("access code: ")
    host, _, port = (args.broker or "").partition(":")
    request = provision.Request(
        museum=args.museum, gate=args.gate, code=code, office_key=args.office_key,
        config_path=args.config, data_dir=args.data_dir.resolve(), root_key=args.root_key,
        reader=args.reader, pin_factory=args.pin_factory, display=args.display,
        broker_host=host or None,
        broker_port=int(port) if port else (1883 if args.no_tls else 8883),
        broker_tls=not args.no_tls, broker_user=args.username,
        broker_password_file=args.password_file, broker_ca_file=args.ca_file,
    )  # fmt: skip
    now = gate_clock(SystemClock(), 0.0).now().wall
    try:
        with DataDirLock(request.data_dir, "portique provision"):
            # Everything that could fail is checked before the code is used up.
            provision.preflight(request)
            accepted = provision.check_code(request)
            pinned = None
            if args.root_key is not None:
                pinned = args.config.parent / "root.pub"
                provision.write_atomically(pinned, args.root_key.read_text())
            key, key_id = gate_key(request.data_dir)
            provision.write_atomically(args.config, provision.config_text(request, pinned))
            provision.consume_code(request, accepted)
    except (provision.ProvisionError, StorageError, DataDirBusy, TrustError) as exc:
        print(f"portique provision: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"portique provision: {exc}; the code was not used up", file=sys.stderr)
        return 1
    provision.hand_to_service_user([request.data_dir, request.data_dir / PRIVATE_FILE,
                                    request.data_dir / PUBLIC_FILE,
                                    request.data_dir / "journal.sqlite",
                                    request.data_dir / provision.ACCESS_STATE])  # fmt: skip
    print(f"gate {args.museum}/{args.gate} provisioned: key {key_id}, config {args.config}")
    settings = load_settings(args.config)
    if settings is None or settings.sync is None:
        print("no broker given: register the key at the hub with "
              f"`portique-hub gate add --museum {args.museum} --gate {args.gate} "
              f"--key {request.data_dir / PUBLIC_FILE}`")  # fmt: skip
        return 0
    from firmware.sync.enrol import announce

    problem = announce(settings.sync, args.museum, args.gate, key, key_id, code, now)
    if problem:
        print(
            f"portique provision: the hub was not told ({problem}); the gate works and "
            "queues its records: run `portique provision` again with a new code once the "
            "broker is reachable, or register the key at the hub by hand",
            file=sys.stderr,
        )
        return 4
    print(f"key announced to the hub through {settings.sync.host}:{settings.sync.port}")
    return 0


def cmd_deprovision(args: argparse.Namespace) -> int:
    from firmware.datalock import DataDirBusy, DataDirLock

    settings = load_settings(args.config)
    if settings is None:
        return EXIT_CONFIG
    try:
        with DataDirLock(settings.gate.data_dir, "portique deprovision"):
            return _deprovision(args, settings.gate.data_dir)
    except DataDirBusy as exc:
        print(f"portique deprovision: {exc}", file=sys.stderr)
        return EXIT_STORAGE


def _deprovision(args: argparse.Namespace, data_dir: Path) -> int:
    from firmware import provision
    from firmware.app import JOURNAL_FILE
    from firmware.journal.database import StorageError
    from firmware.journal.journal import Journal

    if (data_dir / JOURNAL_FILE).exists():
        try:
            journal = Journal.open(data_dir / JOURNAL_FILE)
        except StorageError as exc:
            print(f"portique deprovision: {exc}", file=sys.stderr)
            return EXIT_STORAGE
        try:
            pending = provision.unacknowledged(journal)
        finally:
            journal.close()
        if pending and not args.force:
            print(
                f"portique deprovision: {len(pending)} record(s) from seq "
                f"{pending[0]['seq']} are not acknowledged by the hub; let the gate sync, "
                "or use --force --export FILE to keep them in a file",
                file=sys.stderr,
            )
            return 1
        if pending:
            if args.export is None:
                print("portique deprovision: --force needs --export FILE: unacknowledged "
                      "records are never thrown away", file=sys.stderr)  # fmt: skip
                return 2
            provision.export_records(pending, args.export)
            print(f"{len(pending)} unacknowledged record(s) written to {args.export}")
    for path in provision.wipe(data_dir, args.config):
        print(f"removed {path}")
    return 0
