"""The ``portique-hub`` command: run the hub, register gates, export entries, publish."""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

from firmware.protocol.signing import TrustError, key_id, read_public_key
from hub.models import register_gate

EXIT_USAGE = 2
_DURATION = re.compile(r"^(\d+)([dhm])$")


def duration(text: str) -> float:
    """``7d``, ``12h`` or ``30m`` in seconds."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 7d, 12h or 30m")
    return int(match[1]) * {"d": 86400, "h": 3600, "m": 60}[match[2]]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    from hub.models import DatabaseUnavailable, check_driver, database_url

    try:
        if hasattr(args, "db"):  # before any command writes anything (keys, the database)
            check_driver(database_url(args.data, args.db))
        return int(args.func(args) or 0)
    except DatabaseUnavailable as exc:
        print(f"portique-hub: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portique-hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    init = _command(sub, "init", _cmd_init, "create the hub's key and certificate (and a root)")
    init.add_argument("--root-key", type=Path, help="the root private key (default: make one)")
    init.add_argument("--office-pub", type=Path,
                      help="the office's access-code public key: checks enrolments")  # fmt: skip

    gate = sub.add_parser("gate", help="the registry of gates").add_subparsers(
        dest="gate_command", required=True
    )
    add = _command(gate, "add", _cmd_gate_add, "register a gate's public key")
    add.add_argument("--museum", required=True)
    add.add_argument("--gate", required=True)
    add.add_argument("--key", type=Path, required=True, help="the gate's gate.pub")
    _command(gate, "list", _cmd_gate_list, "gates, how far each is stored, last status")

    run = _command(sub, "run", _cmd_run, "run the hub until SIGTERM", broker=True)
    run.add_argument("--beacon-s", type=float, default=60.0, help="time beacon interval")
    # Several workers: each its own client id (and, on the reference broker, its own
    # account: the broker names sessions after accounts). docs/operations.md.
    run.add_argument(
        "--client-id",
        default="portique-hub",
        help="this worker's MQTT client id, one per worker (default %(default)s)",
    )
    run.add_argument(
        "--session-expiry-s",
        type=int,
        default=3600,
        help="how long the broker keeps this worker's messages while it is "
        "away (default %(default)s)",
    )
    run.add_argument(
        "--gap-grace-s",
        type=float,
        default=0.0,
        help="ask a gate to resend only once a hole lasted this long; with "
        "several workers, 2 (default %(default)s)",
    )
    run.add_argument("-v", "--verbose", action="store_true")

    export = _command(sub, "export", _cmd_export, "entries of a museum as CSV")
    export.add_argument("--museum", required=True)
    export.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    export.add_argument("--to", dest="last", type=date.fromisoformat, required=True)

    pc = sub.add_parser("passculture", help="pass Culture counter-marks").add_subparsers(
        dest="passculture_command", required=True
    )
    pc_export = _command(pc, "export", _cmd_passculture_export,
                         "validated counter-marks of a museum as CSV (reconciliation)")  # fmt: skip
    pc_export.add_argument("--museum", required=True)
    pc_export.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    pc_export.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    pc_export.add_argument("--timezone", default="Europe/Paris",
                           help="days and times in this zone (default %(default)s)")  # fmt: skip

    _command(sub, "problems", _cmd_problems, "gaps, chain breaks and conflicts not resolved")

    sales = sub.add_parser("sales", help="the counters' sales ledger").add_subparsers(
        dest="sales_command", required=True
    )
    sales_export = _command(sales, "export", _cmd_sales_export, "sales of a museum as CSV")
    sales_export.add_argument("--museum", required=True)
    sales_export.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    sales_export.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    z_reports = _command(sales, "closures", _cmd_sales_closures,
                         "the counters' signed closures (Z reports), checked")  # fmt: skip
    z_reports.add_argument("--museum", required=True)
    stats = _command(sales, "stats", _cmd_sales_stats, "entries and sales by day, week or month")
    stats.add_argument("--museum", required=True)
    stats.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    stats.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    stats.add_argument("--by", choices=("day", "week", "month"), default="day")
    orders = sub.add_parser("orders", help="pass orders from the counters").add_subparsers(
        dest="orders_command", required=True
    )
    orders_list = _command(orders, "list", _cmd_orders_list, "pass orders and their state")
    orders_list.add_argument("--museum", help="one museum (default: every museum)")
    ship = _command(orders, "ship", _cmd_orders, "record the serials shipped for an order")
    ship.add_argument("order", help="the order's id (its first 8 characters are enough)")
    ship.add_argument("--serials", nargs="+", required=True, metavar="SERIAL")
    deliver = _command(orders, "deliver", _cmd_orders,
                       "the museum received an order: its serials become its stock on every "
                       "gate", broker=True)  # fmt: skip
    deliver.add_argument("order")

    lists = sub.add_parser("list", help="list files").add_subparsers(dest="list_command",
                                                                      required=True)  # fmt: skip
    publish = _command(lists, "publish", _cmd_list_publish, "send a list file", broker=True)
    publish.add_argument("file", type=Path)
    publish.add_argument("--version", type=int,
                         help="the list's version (default: read from the file)")  # fmt: skip
    publish.add_argument("--allow-demo-keys", action="store_true",
                         help="accept a list signed with the demonstration keys")  # fmt: skip
    _target_options(publish)

    release = sub.add_parser("release", help="the office's release notices").add_subparsers(
        dest="release_command", required=True
    )
    notice = _command(release, "publish", _cmd_release_publish,
                      "tell every gate a new version is available", broker=True)  # fmt: skip
    notice.add_argument("version", help="the version released, e.g. 1.4.0")
    notice.add_argument("--date", default=date.today().isoformat(),
                        help="the release's date, YYYY-MM-DD (default: today)")  # fmt: skip
    notice.add_argument("--notes", default="", help="what changed, for staff (1000 characters)")

    passes = sub.add_parser("pass", help="pass changes for every gate").add_subparsers(
        dest="pass_command", required=True
    )
    block = _command(passes, "block", _cmd_pass, "block a pass on every gate", broker=True)
    block.add_argument("serial")
    unblock = _command(passes, "unblock", _cmd_pass, "lift a block made through the hub",
                       broker=True)  # fmt: skip
    unblock.add_argument("serial")
    sell = _command(passes, "sell", _cmd_pass, "record a sale on every gate", broker=True)
    sell.add_argument("serial")
    sell.add_argument("--pass-number", required=True)
    sell.add_argument("--type", dest="pass_type", required=True)
    renew = _command(passes, "renew", _cmd_pass, "renew a pass (office side), with its dates",
                     broker=True)  # fmt: skip
    renew.add_argument("serial")
    renew.add_argument("--immediate-entry", action="store_true",
                       help="the new year starts today (the days left are added to its end); "
                       "without it the holder keeps the current year and the new one starts at "
                       "the first entry after it")  # fmt: skip

    code = _command(
        sub,
        "access-code",
        _cmd_access_code,
        "issue an access code for a technician (or cash mode) at one gate",
    )
    code.add_argument("action", choices=("issue",))
    code.add_argument("--museum", required=True)
    code.add_argument("--gate", required=True)
    code.add_argument("--role", choices=("technician", "cash"), default="technician")
    code.add_argument("--valid-for", default="7d", help="e.g. 7d, 12h (default %(default)s)")
    code.add_argument("--office-key", type=Path, required=True,
                      help="the central office's access-code private key")  # fmt: skip
    code.add_argument("--qr", type=Path,
                      help="also write the code as a QR code (PNG or SVG, by the file's "
                      "extension) for the printout: the counter's barcode scanner types it "
                      "in a second, where typing it by hand takes about a minute")  # fmt: skip

    console = _command(sub, "console", _cmd_console, "serve the office's web console",
                       broker=True)  # fmt: skip
    console.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        help="address:port to serve on (default %(default)s; TLS in front)",
    )
    console.add_argument(
        "--office-key",
        type=Path,
        help="the office's access-code private key (none: no codes issued)",
    )
    console.add_argument(
        "--insecure-cookies",
        action="store_true",
        help="send the session cookie over plain HTTP (tests, demonstrations)",
    )
    console.add_argument(
        "--proxies",
        type=int,
        default=0,
        help="reverse proxies in front whose X-Forwarded-* to trust",
    )
    console.add_argument("--refresh-s", type=int, default=10, help="gates page refresh")
    console.add_argument("--max-upload-mb", type=int, default=64)
    console.add_argument(
        "--allow-demo-keys",
        action="store_true",
        help="accept lists signed with the demonstration keys",
    )

    users = sub.add_parser("user", help="the console's accounts").add_subparsers(
        dest="user_command", required=True
    )
    user_add = _command(users, "add", _cmd_user_add, "create an account (password on stdin)")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=("admin", "manager", "viewer"))
    user_add.add_argument("--museum", help="the museum of a manager or viewer")

    dev = sub.add_parser("dev-broker", help="run a throwaway mosquitto for a demonstration")
    dev.add_argument("--port", type=int, default=1883)
    dev.add_argument("--dir", type=Path, default=Path("var/broker"))
    dev.set_defaults(func=_cmd_dev_broker)

    resend = _command(sub, "resend", _cmd_resend, "ask a gate for records again", broker=True)
    resend.add_argument("--museum", required=True)
    resend.add_argument("--gate", required=True)
    resend.add_argument("--from", dest="from_seq", type=int, required=True)
    return parser


def _command(sub, name, func, help_text, broker=False) -> argparse.ArgumentParser:  # noqa: ANN001
    parser = sub.add_parser(name, help=help_text)
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("PORTIQUE_HUB_DATA", "/var/lib/portique-hub")),
                        help="the hub's folder: keys and hub.sqlite (default %(default)s, "
                        "or $PORTIQUE_HUB_DATA)")  # fmt: skip
    parser.add_argument("--db", default=os.environ.get("PORTIQUE_HUB_DB"),
                        help="database URL, e.g. postgresql://user@host/portique "
                        "(default: sqlite in --data, or $PORTIQUE_HUB_DB)")  # fmt: skip
    if broker:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=1883)
        parser.add_argument("--username")
        parser.add_argument("--password-file", type=Path)
        parser.add_argument("--tls", action="store_true")
        parser.add_argument("--ca-file", type=Path)
    parser.set_defaults(func=func)
    return parser


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--museum", default="*", help="one gate's museum (default: every gate)")
    parser.add_argument("--gate", default="*")


def _models(args: argparse.Namespace):  # noqa: ANN202 - HubModels, imported lazily
    from hub.models import database_url, open_hub

    return open_hub(database_url(args.data, args.db))


def _broker(args: argparse.Namespace):  # noqa: ANN202
    from hub.publish import Broker

    return Broker(args.host, args.port, args.username, args.password_file, args.tls, args.ca_file)


def _cmd_init(args: argparse.Namespace) -> int:
    from hub.keys import init_keys

    root_pub = init_keys(args.data, time.time(), args.root_key)
    if args.office_pub is not None:
        from hub.keys import OFFICE_PUBLIC

        (args.data / OFFICE_PUBLIC).write_bytes(args.office_pub.read_bytes())
    _models(args).db.close()
    print(f"hub keys in {args.data}; give gates the root public key: {root_pub}")
    return 0


def _cmd_gate_add(args: argparse.Namespace) -> int:
    try:
        public = read_public_key(args.key)
    except TrustError as exc:
        print(f"portique-hub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    register_gate(_models(args), args.museum, args.gate, public, time.time())
    print(f"gate {args.museum}/{args.gate} registered with key {key_id(public)}")
    return 0


def _cmd_gate_list(args: argparse.Namespace) -> int:
    import json

    m = _models(args)
    j = m.incarnation
    for key in m.gate_key.select().order_by(m.gate_key.museum, m.gate_key.gate):
        p = m.progress.get_or_none(m.progress.museum == key.museum, m.progress.gate == key.gate)
        status = json.loads(p.status) if p and p.status else {}
        # The newest journal first: a re-provisioned gate has had more than one.
        journals = list(j.select().where(j.museum == key.museum, j.gate == key.gate)
                        .order_by(j.first_seen_at.desc(), j.id.desc()))  # fmt: skip
        current = journals[0] if journals else None
        print(
            f"{key.museum}/{key.gate}  key {key.key_id}"
            f"  journal {current.epoch if current else '-'}"
            f"  stored 1..{current.contiguous_seq if current else 0}"
            f"  {'online' if p and p.online else 'offline'}"
            f"  backlog {status.get('backlog', '?')}  list {status.get('list_version', '?')}"
        )
        for old in journals[1:]:
            since = time.strftime("%Y-%m-%d %H:%M", time.localtime(old.first_seen_at))
            last = max(old.highest_seq, old.reported_seq)
            print(f"    earlier journal {old.epoch} (seen from {since})  stored "
                  f"1..{old.contiguous_seq} of {last}")  # fmt: skip
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from hub.models import database_url
    from hub.service import HubService, HubSettings

    settings = HubSettings(args.data, database_url(args.data, args.db), _broker(args),
                           beacon_interval_s=args.beacon_s, client_id=args.client_id,
                           session_expiry_s=args.session_expiry_s,
                           gap_grace_s=args.gap_grace_s)  # fmt: skip
    try:
        service = HubService(settings)
    except (OSError, TrustError) as exc:
        print(f"portique-hub: cannot start: {exc} (did you run `portique-hub init`?)",
              file=sys.stderr)  # fmt: skip
        return 1
    service.start()
    _wait_for_signal()
    service.stop()
    logging.getLogger("portique.hub").info("hub stopped")
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


def _cmd_dev_broker(args: argparse.Namespace) -> int:
    from hub.devbroker import DevBroker

    broker = DevBroker(args.dir, args.port)
    try:
        broker.start()
    except (OSError, RuntimeError) as exc:
        print(f"portique-hub: {exc} (is port {args.port} taken?)", file=sys.stderr)
        return 1
    print(f"mosquitto listening on 127.0.0.1:{args.port}, log in {args.dir}; Ctrl-C stops it")
    _wait_for_signal()
    broker.stop()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from hub.export import export_entries

    export_entries(_models(args), args.museum, args.first, args.last, sys.stdout)
    return 0


def _cmd_sales_export(args: argparse.Namespace) -> int:
    from hub.sales import export_sales

    export_sales(_models(args), args.museum, args.first, args.last, sys.stdout)
    return 0


def _cmd_sales_closures(args: argparse.Namespace) -> int:
    from firmware.protocol.sales import format_cents
    from hub.sales import closures

    bad = 0
    for document, problems in closures(_models(args), args.museum):
        if document:
            body = document["closure"]
            print(f"{body['gate']}  {body['period']} {body['label']} no. {body['number']}  "
                  f"net {format_cents(body['totals']['net_cents'])}  grand total "
                  f"{format_cents(body['grand_total_cents'])}  "
                  f"{'ok' if not problems else 'PROBLEM'}")  # fmt: skip
        for line in problems:
            print(f"  {line}")
        bad += bool(problems)
    return 1 if bad else 0


def _cmd_sales_stats(args: argparse.Namespace) -> int:
    from firmware.protocol.sales import format_cents
    from hub.sales import statistics_of

    print("period,entries,children,billable,sales,renewals,cancellations,revenue")
    for b in statistics_of(_models(args), args.museum, args.first, args.last, args.by):
        print(
            f"{b.key},{b.entries},{b.children},{b.billable},{b.sales},{b.renewals},"
            f"{b.cancellations},{format_cents(b.revenue_cents)}"
        )
    return 0


def _cmd_orders_list(args: argparse.Namespace) -> int:
    from hub.sales import pass_orders

    for order in pass_orders(_models(args), args.museum):
        print(
            f"{order['order'][:8]}  {order['day']}  {order['museum']}/{order['gate']}  "
            f"{order['quantity']} x {order['pass_type']}  by {order['by']}  {order['state']}"
            + (f"  serials {' '.join(order['serials'])}" if order["serials"] else "")
        )
    return 0


def _cmd_orders(args: argparse.Namespace) -> int:
    from hub import actions, orders

    m = _models(args)
    try:
        if args.orders_command == "ship":
            order = orders.ship(m, args.order, args.serials, time.time())
            deltas = []
        else:
            order, deltas = orders.deliver(m, args.order, time.time())
    except actions.ActionRefused as exc:
        print(f"portique-hub: order {args.order}: {exc}; nothing was stored",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if deltas:
        try:
            actions.send_deltas(_broker(args), args.data, time.time, deltas)
        except OSError as exc:  # stored: the gates get them at their next hello
            print(f"portique-hub: broker unreachable ({exc}); the gates receive the "
                  "stock at their next connection", file=sys.stderr)  # fmt: skip
    print(f"order {order.order[:8]} of {order.museum}: {order.state}, "
          f"{len(order.serials)} serials")  # fmt: skip
    return 0


def _cmd_passculture_export(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from hub.passculture.export import export_validations
    from hub.passculture.models import open_countermarks

    try:
        tz = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"portique-hub: unknown time zone {args.timezone!r} (e.g. Europe/Paris)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    table = open_countermarks(_models(args).db)
    export_validations(table, args.museum, args.first, args.last, sys.stdout, tz)
    return 0


def _cmd_problems(args: argparse.Namespace) -> int:
    m = _models(args)
    p = m.problem
    for row in p.select().where(~p.resolved).order_by(p.at):
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(row.at))}  "
              f"{row.museum}/{row.gate}  {row.kind}  seq {row.seq}: {row.detail}")  # fmt: skip
    return 0


def _cmd_list_publish(args: argparse.Namespace) -> int:
    from hub.actions import ActionRefused, latest_list_version, send_list, store_list, verify_list

    data = args.file.read_bytes()
    m = _models(args)
    try:
        header = verify_list(data, args.data, time.time(),
                             latest_list_version(m, args.museum, args.gate, data),
                             allow_demo=args.allow_demo_keys)  # fmt: skip
    except ActionRefused as exc:
        print(f"portique-hub: {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.version is not None and args.version != header.version:
        print(f"portique-hub: {args.file} is version {header.version}, not {args.version}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    release = store_list(m, data, header.version, time.time(), args.museum, args.gate)
    send_list(_broker(args), args.data, time.time, data, release)
    print(
        f"list version {release.version} ({release.size} bytes) published to "
        f"{'every gate' if args.museum == '*' else f'{args.museum}/{args.gate}'}"
    )
    return 0


def _cmd_release_publish(args: argparse.Namespace) -> int:
    import getpass

    from hub.actions import ActionRefused
    from hub.releases import publish_release, send_release

    try:
        body = publish_release(_models(args), args.version, args.date, args.notes, time.time(),
                               f"{getpass.getuser()} (command line)")  # fmt: skip
    except ActionRefused as exc:
        print(f"portique-hub: release {args.version}: {exc}; nothing was stored or sent",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        send_release(_broker(args), args.data, time.time, body)
    except OSError as exc:
        print(f"release notice {body['version']} stored; the broker is away ({exc}): the hub "
              "sends it when a gate next connects")  # fmt: skip
        return 0
    print(f"release notice {body['version']} of {body['date']} sent to every gate")
    return 0


def _cmd_pass(args: argparse.Namespace) -> int:
    from hub import actions

    m = _models(args)
    try:
        if args.pass_command == "block":
            item = actions.block_pass(m, args.serial, time.time())
        elif args.pass_command == "unblock":
            item = actions.unblock_pass(m, args.serial, time.time())
        elif args.pass_command == "renew":
            from hub.renewals import renew_pass

            item = renew_pass(m, args.serial, args.immediate_entry, time.time())
        else:
            item = actions.sell_pass(m, args.serial, args.pass_number, args.pass_type,
                                     time.time())  # fmt: skip
    except actions.ActionRefused as exc:
        print(f"portique-hub: pass {args.serial}: {exc}; nothing was stored or sent",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        actions.send_deltas(_broker(args), args.data, time.time, [item])
    except OSError as exc:  # stored: every gate asks for it at its next hello
        print(f"portique-hub: pass {item['serial']}: {args.pass_command} stored as delta "
              f"{item['dseq']}, but the broker is unreachable ({exc}); the gates receive it "
              "at their next connection", file=sys.stderr)  # fmt: skip
        return 1
    print(f"pass {item['serial']}: {args.pass_command} sent to every gate as delta {item['dseq']}")
    return 0


def _cmd_resend(args: argparse.Namespace) -> int:
    from hub.keys import HubSigner
    from hub.publish import next_command, publish_once

    m = _models(args)
    with m.db.atomic():
        n = next_command(m, args.museum, args.gate)
    publish_once(_broker(args), HubSigner.load(args.data), time.time,
                 lambda p: p.resend(args.museum, args.gate, n, args.from_seq))  # fmt: skip
    print(f"asked {args.museum}/{args.gate} for its records from {args.from_seq}")
    return 0


def _cmd_access_code(args: argparse.Namespace) -> int:
    from hub.actions import ActionRefused, issue_access_code

    try:
        valid_s = duration(args.valid_for)
        now = time.time()
        code = issue_access_code(args.office_key, args.museum, args.gate, args.role,
                                 now + valid_s, now)  # fmt: skip
    except (ActionRefused, argparse.ArgumentTypeError) as exc:
        print(f"portique-hub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.qr is not None:
        try:
            access_qr(code.text).save(str(args.qr), scale=8, border=4)
        except (OSError, ValueError) as exc:
            print(f"portique-hub: QR code {args.qr}: {exc}", file=sys.stderr)
            return 1
    print(code.text)
    print(f"for {args.role} at {args.museum}/{args.gate}, valid {args.valid_for}, once",
          file=sys.stderr)  # fmt: skip
    return 0


def access_qr(code: str):  # noqa: ANN201 - segno.QRCode, imported lazily
    """The access code as a QR code: its letters only (no dashes), in QR's alphanumeric mode.

    A barcode scanner types what it reads; the gate ignores dashes and case anyway.
    """
    import segno

    from firmware.protocol import access_codes as access

    return segno.make_qr(access.normalise(code), error="m", mode="alphanumeric")


def _cmd_console(args: argparse.Namespace) -> int:
    from hub.console.app import ConsoleSettings
    from hub.console.serve import make_server
    from hub.models import database_url

    host, _, port = args.listen.rpartition(":")
    if not host or not port.isdigit():
        print(f"portique-hub: --listen {args.listen!r}: give ADDRESS:PORT", file=sys.stderr)
        return EXIT_USAGE
    settings = ConsoleSettings(
        data_dir=args.data, db_url=database_url(args.data, args.db), broker=_broker(args),
        office_key=args.office_key, secure_cookies=not args.insecure_cookies,
        refresh_s=args.refresh_s, max_upload_bytes=args.max_upload_mb * 1024 * 1024,
        allow_demo_keys=args.allow_demo_keys, proxies=args.proxies,
    )  # fmt: skip
    try:
        server = make_server(settings, host.strip("[]"), int(port), time.time)
    except OSError as exc:
        print(f"portique-hub: cannot serve on {args.listen}: {exc}", file=sys.stderr)
        return 1
    logging.getLogger("portique.console").info("console on http://%s", args.listen)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        server.close()
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt  # waitress's loop stops on it; SIGTERM means the same as Ctrl-C


def _cmd_user_add(args: argparse.Namespace) -> int:
    from hub.console.auth import UserError, add_user
    from hub.console.models import open_console

    password = sys.stdin.readline().rstrip("\n")
    try:
        add_user(open_console(_models(args)), args.name, args.role, args.museum, password,
                 time.time())  # fmt: skip
    except UserError as exc:
        print(f"portique-hub: {exc}", file=sys.stderr)
        return EXIT_USAGE
    where = f" of {args.museum}" if args.museum else ""
    print(f"account {args.name}: {args.role}{where}")
    return 0
