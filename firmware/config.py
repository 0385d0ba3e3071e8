"""The gate's configuration: one TOML file, parsed once into typed settings.

Every key is declared here with its type, default and allowed range. Unknown
sections and keys are refused, so a typo never silently falls back to a
default; every message names the file, the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmware.gate.decision import Rules
from firmware.ranges import one_of, within

DEFAULT_PATH = Path("/etc/portique/portique.toml")
# gpiozero's own registry of pin factories (its entry points), so a name it
# knows is a name [gpio] pin_factory accepts and no list here goes stale. They
# are offered in gpiozero's order of preference on a Pi, the others after.
_PREFERRED = ("lgpio", "rpigpio", "pigpio", "native")
PIN_FACTORIES = tuple(
    sorted(
        (point.name for point in entry_points(group="gpiozero_pin_factories")),
        key=lambda name: (_PREFERRED.index(name) if name in _PREFERRED else 99, name),
    )
)


class ConfigError(Exception):
    """A configuration problem, worded for the technician who must fix it."""


@dataclass(frozen=True)
class GateSettings:
    museum: str = "DEMO"
    gate: str = "gate-1"
    data_dir: Path = Path("/var/lib/portique")
    timezone: str = "Europe/Paris"
    language: str = one_of(("fr", "de", "en"), "fr")
    # The central office's public key for access codes (install.sh puts it here);
    # without it every code is refused, on the kiosk as by `portique provision`.
    office_key: Path = Path("/etc/portique/office.pub")


@dataclass(frozen=True)
class ReaderSettings:
    # nfcpy device path: tty:AMA0:pn532 (Pi UART), tty:USB0:pn532, tty:ttyPORTIQUE:pn532
    # (a USB adapter under the udev rule's name), udp:HOST:PORT
    path: str = "tty:AMA0:pn532"
    # The pause between two polls: a card waits half of it on average and all of
    # it at worst (the p99 of card to relay, `make bench`). An empty poll costs
    # about a millisecond of CPU in nfcpy: 25 ms keeps that a few percent.
    poll_interval_ms: int = within(5, 1000, 25)
    # A card unseen for this long has been taken away; shown again is a new tap.
    removal_ms: int = within(50, 5000, 300)
    # A lost reader is reopened after retry_initial_s, then after doubling waits
    # up to retry_max_s: kept short, so a reader plugged back in polls again
    # within about a second (an attempt on an absent port costs next to nothing).
    retry_initial_s: float = within(0.1, 60, 0.2)
    retry_max_s: float = within(0.1, 3600, 1.0)


@dataclass(frozen=True)
class GpioSettings:
    pin_factory: str = one_of(PIN_FACTORIES, "lgpio")
    relay_pin: int = within(0, 27, 17)
    relay_active_high: bool = True
    relay_pulse_ms: int = within(50, 30000, 1500)
    green_led_pin: int = within(0, 27, 24)
    red_led_pin: int = within(0, 27, 22)
    buzzer_pin: int = within(0, 27, 23)
    # 0 means no passage sensor is fitted.
    passage_sensor_pin: int = within(0, 27, 0)
    passage_timeout_s: float = within(1, 600, 10.0)


@dataclass(frozen=True)
class ListsSettings:
    # The root public key pinned at provisioning: it certifies the list signers.
    root_key: Path | None = None
    # Demonstration keys are refused unless this is set (simulation only).
    allow_demo_keys: bool = False
    max_list_mb: int = within(1, 4096, 256)
    # Past the list's signed expiry the gate keeps admitting passes it knows
    # to be valid and warns staff; this many hours later it refuses with
    # list_expired unless staff force the entry.
    refuse_after_expiry_hours: int = within(0, 8760, 168)
    # A list file installed at every start (simulation and demos).
    install_at_start: Path | None = None


@dataclass(frozen=True)
class DisplaySettings:
    # The touch screen. Off, the gate admits with LEDs and buzzer alone.
    enabled: bool = False
    width: int = within(320, 3840, 800)
    height: int = within(240, 2160, 480)
    fullscreen: bool = True
    # SDL video driver: "auto" lets SDL choose (kmsdrm on a Pi without X, x11 or
    # wayland on a desktop); $SDL_VIDEODRIVER, when set, wins over this.
    video_driver: str = one_of(("auto", "kmsdrm", "x11", "wayland", "dummy"), "auto")
    # The children prompt confirms the number shown after this long untouched.
    children_prompt_timeout_s: float = within(3, 120, 15.0)
    # How long an admitted or refused screen stays before the idle screen returns.
    result_shown_s: float = within(1, 60, 6.0)
    # Staff are logged out after this long without a touch.
    idle_logout_s: float = within(10, 3600, 120.0)
    # Staff see a large warning when the pass list is older than this.


@dataclass(frozen=True)
class SyncSettings:
    """The MQTT link to the museum hub; present only when the ``[sync]`` section is."""

    host: str = "127.0.0.1"
    port: int = within(1, 65535, 1883)
    tls: bool = False
    # The CA that signed the broker's certificate; None trusts the system's CAs.
    ca_file: Path | None = None
    username: str | None = None  # per-gate broker account, "<museum>/<gate>" by convention
    password_file: Path | None = None  # kept out of this file so it can be readable by root only
    # Client-certificate mode: this gate's certificate (CN "<museum>/<gate>") and key,
    # instead of a password (provisioning/mosquitto/portique.conf, listener 8884).
    cert_file: Path | None = None
    key_file: Path | None = None
    # The central office's root public key: hub messages are verified against it.
    # Without it every hub message (acknowledgements too) is refused and records stay queued.
    root_key: Path | None = None
    keepalive_s: int = within(5, 3600, 30)
    batch_records: int = within(1, 5000, 200)
    # 2: a signed header and compact records (docs/protocol.md, Throughput), which a hub
    # of this release reads; 1: the earlier format, for a hub not yet upgraded.
    batch_format: int = within(1, 2, 2)
    max_in_flight: int = within(1, 64, 4)
    ack_timeout_s: float = within(1, 3600, 30.0)
    status_interval_s: float = within(1, 3600, 60.0)
    # Acknowledged records older than this are pruned; unacknowledged ones never are.
    # Today's records decide re-entries and billing: they are never pruned (hence 2 days).
    retention_days: int = within(2, 3650, 90)
    max_message_bytes: int = within(64 * 1024, 256 * 1024 * 1024, 4 * 1024 * 1024)
    list_max_bytes: int = within(1024, 1024 * 1024 * 1024, 64 * 1024 * 1024)
    list_timeout_s: float = within(10, 86400, 900.0)


@dataclass(frozen=True)
class StatusSettings:
    # Where status.json is rewritten (on every health change and every 10 s): in
    # RAM, so it never wears the SD card; systemd creates it (RuntimeDirectory=).
    runtime_dir: Path = Path("/run/portique")
    # A Prometheus text file for node_exporter's textfile collector, e.g.
    # /run/portique/portique.prom (node_exporter --collector.textfile.directory
    # pointed there); unset: none. Keep it in RAM too.
    textfile: Path | None = None


@dataclass(frozen=True)
class Settings:
    source: str = "<defaults>"
    gate: GateSettings = field(default_factory=GateSettings)
    reader: ReaderSettings = field(default_factory=ReaderSettings)
    gpio: GpioSettings = field(default_factory=GpioSettings)
    rules: Rules = field(default_factory=Rules)  # [rules] is the decision's own Rules
    lists: ListsSettings = field(default_factory=ListsSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    status: StatusSettings = field(default_factory=StatusSettings)
    sync: SyncSettings | None = None  # no [sync] section: the gate runs alone and keeps its journal

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.gate.timezone)


# Museum and gate ids become MQTT topic levels and broker user names.
_TOPIC_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# The topic level that addresses every gate (portique/v1/all/...), so no museum may be called so.
BROADCAST_ID = "all"

_SECTION_CLASSES = {
    "gate": GateSettings,
    "reader": ReaderSettings,
    "gpio": GpioSettings,
    "rules": Rules,
    "lists": ListsSettings,
    "display": DisplaySettings,
    "status": StatusSettings,
    "sync": SyncSettings,
}


def load(path: Path) -> Settings:
    """Read and check the file at ``path``; raise ConfigError saying what is wrong."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return from_dict(data, source=str(path), base=path.parent)


def from_dict(data: dict[str, Any], source: str = "<dict>", base: Path | None = None) -> Settings:
    """Build settings from parsed TOML; relative paths are taken from ``base``."""
    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in _SECTION_CLASSES:
            raise ConfigError(_unknown(source, f"section [{name}]", name, _SECTION_CLASSES))
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [{name}] must be a table of keys")
        sections[name] = _section(source, name, table, base)
    settings = Settings(source=source, **sections)
    _check_zone(source, settings.gate.timezone)
    _check_pins(source, settings.gpio)
    if settings.sync is not None:
        _check_topic_ids(source, settings.gate)
    return settings


def _section(source: str, name: str, table: dict[str, Any], base: Path | None) -> Any:
    cls = _SECTION_CLASSES[name]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(_unknown(source, f"key '{key}' in [{name}]", key, fields))
        values[key] = _convert(source, name, fields[key], value, base)
    return cls(**values)


def _convert(source: str, section: str, spec: dataclasses.Field, value: Any,
             base: Path | None) -> Any:  # fmt: skip
    where = f"{source}: [{section}] {spec.name}"
    kind = (
        spec.type if isinstance(spec.type, str) else getattr(spec.type, "__name__", str(spec.type))
    )
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} = {value!r}: must be true or false")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} = {value!r}: must be a number")
        if kind == "int" and not isinstance(value, int):
            raise ConfigError(f"{where} = {value!r}: must be a whole number")
        limits = spec.metadata.get("range")
        if limits and not (limits[0] <= value <= limits[1]):
            raise ConfigError(f"{where} = {value!r}: must be from {limits[0]} to {limits[1]}")
        return int(value) if kind == "int" else float(value)
    if kind in ("str", "str | None"):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} = {value!r}: must be a non-empty string")
        choices = spec.metadata.get("choices")
        if choices and value not in choices:
            raise ConfigError(f"{where} = {value!r}: must be one of {', '.join(choices)}")
        return value
    if kind in ("Path", "Path | None"):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} = {value!r}: must be a path")
        path = Path(value)
        return path if path.is_absolute() or base is None else (base / path).resolve()
    if kind == "date":
        # A TOML date-time is a datetime, itself a date subclass: refuse it too.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ConfigError(f"{where} = {value!r}: must be a date such as 2023-03-31")
        return value
    raise AssertionError(f"no converter for {kind}")  # a programming error, not a config one


def _check_zone(source: str, zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{source}: [gate] timezone = {zone!r}: not a known time zone "
            "(use a name such as Europe/Paris, Europe/Berlin or Europe/Zurich)"
        ) from None


def _check_pins(source: str, gpio: GpioSettings) -> None:
    pins = {
        "relay_pin": gpio.relay_pin,
        "green_led_pin": gpio.green_led_pin,
        "red_led_pin": gpio.red_led_pin,
        "buzzer_pin": gpio.buzzer_pin,
    }
    if gpio.passage_sensor_pin:
        pins["passage_sensor_pin"] = gpio.passage_sensor_pin
    seen: dict[int, str] = {}
    for key, pin in pins.items():
        if pin in seen:
            raise ConfigError(
                f"{source}: [gpio] {key} = {pin}: GPIO{pin} is already used by {seen[pin]}; "
                "each device needs its own pin"
            )
        seen[pin] = key


def _check_topic_ids(source: str, gate: GateSettings) -> None:
    for key, value in (("museum", gate.museum), ("gate", gate.gate)):
        if not _TOPIC_ID.fullmatch(value):
            raise ConfigError(
                f"{source}: [gate] {key} = {value!r}: with [sync] it names MQTT topics, so it "
                "may use only letters, digits, '_', '.' and '-' (at most 64)"
            )
    if gate.museum == BROADCAST_ID:
        raise ConfigError(
            f"{source}: [gate] museum = {BROADCAST_ID!r} is reserved for messages to every gate"
        )


def _unknown(source: str, what: str, name: str, allowed: Any) -> str:
    allowed = sorted(allowed)
    hint = difflib.get_close_matches(name, allowed, n=1)
    guess = f" (did you mean '{hint[0]}'?)" if hint else ""
    return f"{source}: unknown {what}{guess}; allowed: {', '.join(allowed)}"
