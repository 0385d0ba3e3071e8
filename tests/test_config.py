"""firmware.config: a good file parses into typed settings; every mistake names file, key, fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from firmware.config import ConfigError, Settings, from_dict, load

EXAMPLE = Path(__file__).resolve().parents[1] / "provisioning" / "portique.example.toml"

GOOD = """\
[gate]
museum = "MUS-0042"
gate = "entree-nord"
data_dir = "var/data"
timezone = "Europe/Zurich"
language = "de"

[reader]
path = "tty:USB0:pn532"
poll_interval_ms = 20
removal_ms = 400
retry_initial_s = 2
retry_max_s = 60.5

[gpio]
pin_factory = "mock"
relay_pin = 5
relay_active_high = false
relay_pulse_ms = 2000
green_led_pin = 6
red_led_pin = 13
buzzer_pin = 19
passage_sensor_pin = 26
passage_timeout_s = 15

[rules]
anti_passback_s = 300
renewal_window_months = 2
paper_pass_last_day = 2023-03-31

[lists]
install_at_start = "demo/list.pql"
root_key = "/srv/portique/root.pub"

[display]
enabled = true
width = 1024
height = 600
fullscreen = false
video_driver = "kmsdrm"
children_prompt_timeout_s = 20
result_shown_s = 5
idle_logout_s = 90
"""


def write(tmp_path: Path, text: str, name: str = "portique.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def same_file(actual: Path | None, expected: Path) -> bool:
    """Equal once both are made absolute and normalised (symlinks, "..")."""
    return actual is not None and actual.resolve() == expected.resolve()


def load_error(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    return path, str(caught.value)


# --- a good file -------------------------------------------------------------------------


def test_good_file_is_parsed_into_typed_settings(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    settings = load(path)

    assert settings.source == str(path)
    assert settings.gate.museum == "MUS-0042"
    assert settings.gate.gate == "entree-nord"
    assert same_file(settings.gate.data_dir, tmp_path / "var" / "data")
    assert settings.gate.timezone == "Europe/Zurich"
    assert settings.zone == ZoneInfo("Europe/Zurich")
    assert settings.gate.language == "de"

    assert settings.reader.path == "tty:USB0:pn532"
    assert settings.reader.poll_interval_ms == 20
    assert settings.reader.removal_ms == 400
    assert settings.reader.retry_initial_s == 2.0
    assert type(settings.reader.retry_initial_s) is float  # an integer in TOML, a float here
    assert settings.reader.retry_max_s == 60.5

    assert settings.gpio.pin_factory == "mock"
    assert settings.gpio.relay_pin == 5
    assert type(settings.gpio.relay_pin) is int
    assert settings.gpio.relay_active_high is False
    assert settings.gpio.relay_pulse_ms == 2000
    assert (settings.gpio.green_led_pin, settings.gpio.red_led_pin) == (6, 13)
    assert settings.gpio.buzzer_pin == 19
    assert settings.gpio.passage_sensor_pin == 26
    assert settings.gpio.passage_timeout_s == 15.0
    assert type(settings.gpio.passage_timeout_s) is float

    assert settings.rules.anti_passback_s == 300
    assert settings.rules.renewal_window_months == 2
    assert settings.rules.paper_pass_last_day == date(2023, 3, 31)
    assert type(settings.rules.paper_pass_last_day) is date

    assert same_file(settings.lists.install_at_start, tmp_path / "demo" / "list.pql")
    assert settings.lists.root_key == Path("/srv/portique/root.pub")

    display = settings.display
    assert display.enabled and not display.fullscreen
    assert (display.width, display.height, display.video_driver) == (1024, 600, "kmsdrm")
    assert display.children_prompt_timeout_s == 20.0
    assert (display.result_shown_s, display.idle_logout_s) == (5.0, 90.0)


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load(path)
    assert settings == Settings(source=str(path))
    assert settings.gate.timezone == "Europe/Paris"
    assert settings.rules.anti_passback_s == 120
    assert settings.lists.install_at_start is None


def test_partial_section_keeps_defaults_for_the_other_keys(tmp_path: Path) -> None:
    settings = load(write(tmp_path, '[gate]\nmuseum = "MUS-7"\n'))
    assert settings.gate.museum == "MUS-7"
    assert settings.gate.gate == "gate-1"
    assert settings.reader.path == "tty:AMA0:pn532"


def test_relative_paths_are_resolved_against_the_config_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "portique"
    folder.mkdir(parents=True)
    settings = load(
        write(
            folder,
            '[gate]\ndata_dir = "data"\n'
            '[lists]\ninstall_at_start = "../demo.csv"\nroot_key = "lists/types.csv"\n',
        )
    )
    for path in (settings.gate.data_dir, settings.lists.install_at_start, settings.lists.root_key):
        assert path is not None
        assert path.is_absolute()
    assert same_file(settings.gate.data_dir, folder / "data")
    assert same_file(settings.lists.install_at_start, tmp_path / "etc" / "demo.csv")
    assert same_file(settings.lists.root_key, folder / "lists" / "types.csv")


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    settings = load(write(tmp_path, '[gate]\ndata_dir = "/var/lib/portique-2"\n'))
    assert settings.gate.data_dir == Path("/var/lib/portique-2")


def test_from_dict_without_a_base_keeps_relative_paths() -> None:
    settings = from_dict({"gate": {"data_dir": "data"}})
    assert settings.gate.data_dir == Path("data")
    assert settings.source == "<dict>"


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("reader", "poll_interval_ms", 5),
        ("reader", "poll_interval_ms", 1000),
        ("gpio", "relay_pin", 0),
        ("gpio", "relay_pin", 27),
        ("rules", "anti_passback_s", 0),
        ("rules", "renewal_window_months", 12),
        ("reader", "retry_initial_s", 0.1),
    ],
)
def test_range_limits_are_inclusive(section: str, key: str, value: int | float) -> None:
    settings = from_dict({section: {key: value}})
    assert getattr(getattr(settings, section), key) == value


def test_example_configuration_loads_if_present() -> None:
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} does not exist yet")
    settings = load(EXAMPLE)
    assert settings.source == str(EXAMPLE)
    ZoneInfo(settings.gate.timezone)


# --- unknown sections and keys ----------------------------------------------------------


def test_unknown_section_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[gat]\nmuseum = "X"\n')
    assert str(path) in message
    assert "unknown section [gat]" in message
    assert "did you mean 'gate'?" in message
    assert (
        "allowed: counter, display, gate, gpio, lists, passculture, reader, rules, scanner"
        in message
    )


def test_unknown_key_is_refused_with_did_you_mean(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[reader]\npoll_interval = 50\n")
    assert str(path) in message
    assert "key 'poll_interval' in [reader]" in message
    assert "did you mean 'poll_interval_ms'?" in message
    assert "allowed: path, poll_interval_ms, removal_ms, retry_initial_s, retry_max_s" in message


def test_unknown_key_without_close_match_lists_the_allowed_keys(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, '[gate]\ncolour = "blue"\n')
    assert str(path) in message
    assert "key 'colour' in [gate]" in message
    assert "did you mean" not in message
    assert "allowed: data_dir, gate, language, mode, museum, office_key, timezone" in message


def test_office_key_is_a_path_taken_from_the_files_folder(tmp_path: Path) -> None:
    assert from_dict({}).gate.office_key == Path("/etc/portique/office.pub")
    (tmp_path / "portique.toml").write_text('[gate]\noffice_key = "keys/office.pub"\n')
    assert load(tmp_path / "portique.toml").gate.office_key == tmp_path / "keys" / "office.pub"
    path, message = load_error(tmp_path, "[gate]\noffice_key = 1\n")
    assert f"{path}: [gate] office_key = 1: must be a path" in message


def test_top_level_key_outside_any_section_is_refused(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, 'museum = "X"\n')
    assert str(path) in message
    assert "unknown section [museum]" in message
    assert (
        "allowed: counter, display, gate, gpio, lists, passculture, reader, rules, scanner"
        in message
    )


@pytest.mark.parametrize("text", ["gate = 3\n", '[[gate]]\nmuseum = "X"\n'])
def test_section_that_is_not_a_table_is_refused(tmp_path: Path, text: str) -> None:
    path, message = load_error(tmp_path, text)
    assert str(path) in message
    assert "[gate] must be a table of keys" in message


def test_nested_table_in_a_section_is_an_unknown_key(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[gpio.extra]\npin = 4\n")
    assert str(path) in message
    assert "key 'extra' in [gpio]" in message


# --- ranges and choices ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("reader", "poll_interval_ms", "4", "from 5 to 1000"),
        ("reader", "poll_interval_ms", "1001", "from 5 to 1000"),
        ("reader", "removal_ms", "10", "from 50 to 5000"),
        ("reader", "retry_initial_s", "0.05", "from 0.1 to 60"),
        ("reader", "retry_max_s", "inf", "from 0.1 to 3600"),
        ("reader", "retry_max_s", "nan", "from 0.1 to 3600"),
        ("gpio", "relay_pin", "28", "from 0 to 27"),
        ("gpio", "buzzer_pin", "-1", "from 0 to 27"),
        ("gpio", "relay_pulse_ms", "40000", "from 50 to 30000"),
        ("gpio", "passage_timeout_s", "0.5", "from 1 to 600"),
        ("rules", "anti_passback_s", "-1", "from 0 to 86400"),
        ("rules", "renewal_window_months", "13", "from 0 to 12"),
        ("display", "width", "640", "from 800 to 3840"),
        ("display", "children_prompt_timeout_s", "0", "from 3 to 120"),
        ("display", "idle_logout_s", "5", "from 10 to 3600"),
    ],
)
def test_number_out_of_range_is_refused_with_the_range(
    tmp_path: Path, section: str, key: str, value: str, allowed: str
) -> None:
    path, message = load_error(tmp_path, f"[{section}]\n{key} = {value}\n")
    assert str(path) in message
    assert f"[{section}] {key} = " in message
    assert f"must be {allowed}" in message


@pytest.mark.parametrize(
    ("section", "key", "value", "allowed"),
    [
        ("gate", "language", "es", "fr, de, en"),
        ("gate", "language", "FR", "fr, de, en"),
        ("gpio", "pin_factory", "gpio", "lgpio, rpigpio, pigpio, native, mock"),
        ("display", "video_driver", "fbcon", "auto, kmsdrm, x11, wayland, dummy"),
    ],
)
def test_value_not_among_the_choices_is_refused_with_the_choices(
    tmp_path: Path, section: str, key: str, value: str, allowed: str
) -> None:
    path, message = load_error(tmp_path, f'[{section}]\n{key} = "{value}"\n')
    assert str(path) in message
    assert f"[{section}] {key} = '{value}'" in message
    assert f"must be one of {allowed}" in message


@pytest.mark.parametrize("zone", ["Europe/Pariss", "Paris", "Europe", "../etc/passwd", "zone.tab"])
def test_unknown_time_zone_is_refused_with_examples(tmp_path: Path, zone: str) -> None:
    path, message = load_error(tmp_path, f'[gate]\ntimezone = "{zone}"\n')
    assert str(path) in message
    assert f"[gate] timezone = '{zone}'" in message
    assert "not a known time zone" in message
    assert "Europe/Paris" in message


# --- wrong types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("gpio", "relay_active_high", '"yes"', "must be true or false"),
        ("gpio", "relay_active_high", "1", "must be true or false"),
        ("gpio", "relay_pin", '"17"', "must be a number"),
        ("gpio", "relay_pin", "true", "must be a number"),
        ("gpio", "relay_pin", "17.5", "must be a whole number"),
        ("gpio", "relay_pin", "17.0", "must be a whole number"),
        ("reader", "retry_max_s", '"30"', "must be a number"),
        ("reader", "retry_max_s", "[30]", "must be a number"),
        ("gate", "museum", "42", "must be a non-empty string"),
        ("gate", "museum", '""', "must be a non-empty string"),
        ("gate", "language", "[]", "must be a non-empty string"),
        ("gate", "data_dir", "3", "must be a path"),
        ("gate", "data_dir", '""', "must be a path"),
        ("lists", "install_at_start", "false", "must be a path"),
        ("rules", "paper_pass_last_day", '"2023-03-31"', "must be a date such as 2023-03-31"),
        ("rules", "paper_pass_last_day", "20230331", "must be a date such as 2023-03-31"),
        ("rules", "paper_pass_last_day", "12:00:00", "must be a date such as 2023-03-31"),
    ],
)
def test_value_of_the_wrong_type_is_refused(
    tmp_path: Path, section: str, key: str, value: str, expected: str
) -> None:
    path, message = load_error(tmp_path, f"[{section}]\n{key} = {value}\n")
    assert str(path) in message
    assert f"[{section}] {key} = " in message
    assert expected in message


def test_datetime_for_a_date_key_is_refused(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[rules]\npaper_pass_last_day = 2023-03-31T00:00:00\n")
    assert str(path) in message
    assert "[rules] paper_pass_last_day = " in message
    assert "must be a date such as 2023-03-31" in message


def test_from_dict_errors_name_the_given_source() -> None:
    with pytest.raises(ConfigError, match=r"^bench\.toml: \[gpio\] relay_pin = 99: must be from"):
        from_dict({"gpio": {"relay_pin": 99}}, source="bench.toml")


# --- the file itself ---------------------------------------------------------------------


def test_missing_file_is_refused_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "portique.toml"
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: no such configuration file"


def test_directory_instead_of_a_file_is_refused_as_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path)
    assert str(tmp_path) in str(caught.value)
    assert "cannot be read" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "[gate\nmuseum = 1\n",
        '[gate]\nmuseum = "unterminated\n',
        "[gate]\nmuseum\n",
        '[gate]\nmuseum = "A"\nmuseum = "B"\n',
    ],
)
def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path, message = load_error(tmp_path, text)
    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line" in message  # tomllib's own position, so the technician can find it


def test_non_utf8_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "portique.toml"
    path.write_bytes('[gate]\nmuseum = "Musée"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: is not UTF-8 text"


def test_utf8_text_is_accepted(tmp_path: Path) -> None:
    settings = load(write(tmp_path, '[gate]\nmuseum = "Musée d\'Orsay — Zürich"\n'))
    assert settings.gate.museum == "Musée d'Orsay — Zürich"


def test_two_devices_on_one_pin_are_refused_naming_both(tmp_path: Path) -> None:
    path, message = load_error(tmp_path, "[gpio]\nrelay_pin = 17\nbuzzer_pin = 17\n")
    assert str(path) in message
    assert "[gpio] buzzer_pin = 17: GPIO17 is already used by relay_pin" in message


def test_a_scanner_mode_without_its_device_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"\[scanner\] mode = 'serial' needs a device"):
        from_dict({"scanner": {"mode": "serial"}}, source="gate.toml")


def test_an_unknown_offline_policy_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"\[passculture\] offline = 'accept'.*refuse, queue"):
        from_dict({"passculture": {"offline": "accept"}}, source="gate.toml")
