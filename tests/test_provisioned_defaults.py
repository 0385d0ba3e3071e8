"""A provisioned gate runs with the defaults that portique.example.toml documents."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from syncworld import Mosquitto, broker  # noqa: F401 - fixture
from test_provision import code_for, office, provision  # noqa: F401 - fixture

from firmware import config

EXAMPLE = Path(__file__).parent.parent / "provisioning" / "portique.example.toml"


def comparable(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def test_every_default_a_provisioned_gate_runs_with_is_the_examples(
    tmp_path: Path,
    office,  # noqa: F811
    broker: Mosquitto,  # noqa: F811
) -> None:
    key, office_pub = office
    address = f"127.0.0.1:{broker.port}"
    done = provision(tmp_path, office_pub, code_for(key), "--broker", address, "--no-tls")
    # 4: set up, and the hub (absent here) has not confirmed the enrolment yet.
    assert done.returncode in (0, 4), done.stderr
    path = tmp_path / "etc" / "portique.toml"
    written = tomllib.loads(path.read_text())
    settings = config.load(path)
    example = tomllib.loads(EXAMPLE.read_text())
    compared = 0
    for section, keys in example.items():
        for key, documented in keys.items():
            if key in written.get(section, {}):
                continue  # provisioning sets it from the technician's answers
            actual = getattr(getattr(settings, section), key)
            assert comparable(actual) == documented, f"[{section}] {key}"
            compared += 1
    assert compared > 30  # the example documents about fifty keys


def test_a_provisioned_gate_has_its_screen_unless_told_otherwise(tmp_path: Path, office) -> None:  # noqa: F811
    key, office_pub = office
    assert provision(tmp_path, office_pub, code_for(key)).returncode == 0
    assert config.load(tmp_path / "etc" / "portique.toml").display.enabled is True


def test_no_display_provisions_a_gate_without_a_screen(tmp_path: Path, office) -> None:  # noqa: F811
    key, office_pub = office
    assert provision(tmp_path, office_pub, code_for(key), "--no-display").returncode == 0
    assert config.load(tmp_path / "etc" / "portique.toml").display.enabled is False


def test_the_example_itself_loads_and_dates_stay_dates() -> None:
    settings = config.load(EXAMPLE)
    assert isinstance(settings.rules.paper_pass_last_day, date)
