"""`portique tariffs sign|verify`: the office signs the counter's tariffs, a technician checks them.

The office writes its tariffs as TOML (prices as amounts such as ``119.00``)
and signs them with a key certified for the ``tariffs`` purpose
(``portique keys certify --purposes tariffs``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from firmware.clock import SystemClock
from firmware.counter.money import AmountError, format_cents, parse_amount
from firmware.counter.tariffs import DOCUMENT_TYPE, TariffsUnavailable, load_tariffs, sign_tariffs
from firmware.lists.cli import duration
from firmware.trust import TrustError, TrustStore, load_private_key, read_public_key

EXAMPLE = """\
currency = "EUR"

[pass_types]        # code = [persons, children]
single = [1, 5]

[tariffs.normal]
label = "Plein tarif"
pass_type = "single"
price = "119.00"
vat_rate = "NULL"   # NORMAL, REDUCED_1, SPECIAL_RATE_1, SPECIAL_RATE_2 or NULL

[tariffs.reduced]
label = "Tarif réduit"
pass_type = "single"
price = "99.00"
reduced = true
categories = ["pupil", "student", "teacher", "trainee", "disabled", "job_seeker",
              "museum_support"]
"""


def add_commands(sub: argparse._SubParsersAction, config_option) -> None:  # noqa: ANN001
    tariffs = sub.add_parser("tariffs", help="the counter's tariffs, signed by the office")
    tsub = tariffs.add_subparsers(dest="tariffs_command", required=True)
    sign = tsub.add_parser("sign", help="sign tariffs written as TOML",
                           epilog="example TOML:\n\n" + EXAMPLE,
                           formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sign.add_argument("--tariffs", type=Path, required=True, help="the tariffs as TOML")
    sign.add_argument("--version", type=int, required=True, help="higher than the last one")
    sign.add_argument("--key", type=Path, required=True, help="signing private key (PEM)")
    sign.add_argument("--cert", type=Path, required=True,
                      help="its root-signed certificate, with the purpose 'tariffs'")  # fmt: skip
    sign.add_argument("--valid-for", type=duration, default=duration("365d"),
                      help="how long counters may sell with them (default 365d)")  # fmt: skip
    sign.add_argument("--out", type=Path, required=True)
    sign.set_defaults(func=_cmd_sign)
    verify = tsub.add_parser("verify", help="check a tariff file against the pinned root")
    verify.add_argument("file", type=Path)
    verify.add_argument("--root", type=Path, help="root public key (default: from the config)")
    config_option(verify)
    verify.set_defaults(func=_cmd_verify)


def _fail(message: str, code: int = 1) -> int:
    print(f"portique tariffs: {message}", file=sys.stderr)
    return code


def body_from_toml(path: Path, version: int, now: float, valid_for: float) -> dict[str, Any]:
    """The unsigned tariff body for the TOML file ``path``; ValueError names what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path} is not valid TOML ({exc})") from None
    tariffs = {}
    for code, table in dict(data.get("tariffs", {})).items():
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [tariffs.{code}] must be a table")
        entry = {k: v for k, v in table.items() if k != "price"}
        try:
            entry["price_cents"] = parse_amount(str(table.get("price", "")),
                                                f"[tariffs.{code}] price")  # fmt: skip
        except AmountError as exc:
            raise ValueError(f"{path}: {exc}") from None
        tariffs[code] = entry
    return {
        "type": DOCUMENT_TYPE, "version": version, "currency": data.get("currency", ""),
        "issued_at": now, "not_before": now, "expires_at": now + valid_for,
        "pass_types": data.get("pass_types", {}), "tariffs": tariffs,
    }  # fmt: skip


def _cmd_sign(args: argparse.Namespace) -> int:
    try:
        body = body_from_toml(args.tariffs, args.version, SystemClock().wall(), args.valid_for)
        key = load_private_key(args.key)
        certificate = json.loads(args.cert.read_text())
        document = sign_tariffs(body, key, certificate)
    except (ValueError, OSError, TrustError) as exc:
        return _fail(str(exc), 2)
    except TariffsUnavailable as exc:
        return _fail(f"{args.tariffs}: {exc}", 2)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    tmp.replace(args.out)
    print(f"tariffs version {args.version} signed by key {document['signer']}: {args.out}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from firmware.cli_support import load_settings

    allow_demo = False
    root_path = args.root
    if root_path is None:
        settings = load_settings(args.config)
        if settings is None:
            return 2
        if settings.lists.root_key is None:
            return _fail(f"{args.config}: [lists] root_key is not set; use --root", 2)
        root_path, allow_demo = settings.lists.root_key, settings.lists.allow_demo_keys
    try:
        trust = TrustStore(root=read_public_key(root_path), allow_demo=allow_demo)
        tariffs = load_tariffs(args.file, trust, SystemClock().wall())
    except TrustError as exc:
        return _fail(str(exc))
    except TariffsUnavailable as exc:
        return _fail(f"refused ({exc.code}): {exc}")
    print(f"tariffs version {tariffs.version} ({tariffs.currency}), signed by {tariffs.signer}")
    for tariff in tariffs.tariffs.values():
        who = f" for {', '.join(tariff.categories)}" if tariff.reduced else ""
        print(f"  {tariff.code}: {tariff.label}, {tariff.pass_type} pass, "
              f"{format_cents(tariff.price_cents)}{who}")  # fmt: skip
    return 0
