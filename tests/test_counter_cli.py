"""The office signs tariffs with `portique tariffs sign`; a technician checks them with verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from counterworld import Office

from firmware.cli import main
from firmware.counter.cli import EXAMPLE


@pytest.fixture
def office_keys(tmp_path: Path) -> Path:
    keys = tmp_path / "keys"
    assert main(["keys", "new-root", "--out", str(keys)]) == 0
    assert main(["keys", "certify", "--root-key", str(keys / "root.key"), "--out", str(keys),
                 "--name", "prices", "--purposes", "tariffs"]) == 0  # fmt: skip
    return keys


def sign(keys: Path, toml: Path, out: Path) -> int:
    return main(["tariffs", "sign", "--tariffs", str(toml), "--version", "4",
                 "--key", str(keys / "prices.key"), "--cert", str(keys / "prices.cert.json"),
                 "--out", str(out)])  # fmt: skip


def test_tariffs_signed_from_toml_verify_against_the_root(
    office_keys: Path, tmp_path: Path, capsys
) -> None:  # noqa: ANN001
    toml = tmp_path / "tariffs.toml"
    toml.write_text(EXAMPLE)
    out = tmp_path / "tariffs.json"
    assert sign(office_keys, toml, out) == 0
    assert json.loads(out.read_text())["tariffs"]["tariffs"]["normal"]["price_cents"] == 11900
    capsys.readouterr()
    assert main(["tariffs", "verify", str(out), "--root", str(office_keys / "root.pub")]) == 0
    printed = capsys.readouterr().out
    assert (
        "version 4" in printed and "reduced: Tarif réduit, single pass, 99.00 for pupil" in printed
    )


def test_verify_refuses_tariffs_of_another_root(office_keys: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "tariffs.json"
    out.write_text(json.dumps(Office().sign()))
    assert main(["tariffs", "verify", str(out), "--root", str(office_keys / "root.pub")]) == 1
    assert "refused (bad_certificate)" in capsys.readouterr().err


def test_a_typo_in_a_price_is_named_and_nothing_is_signed(
    office_keys: Path, tmp_path: Path, capsys
) -> None:  # noqa: ANN001
    toml = tmp_path / "tariffs.toml"
    toml.write_text(EXAMPLE.replace('price = "119.00"', 'price = "119,0O"'))
    out = tmp_path / "tariffs.json"
    assert sign(office_keys, toml, out) == 2
    assert "[tariffs.normal] price" in capsys.readouterr().err and not out.exists()


def test_a_key_certified_for_lists_only_cannot_make_valid_tariffs(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    keys = tmp_path / "keys"
    main(["keys", "new-root", "--out", str(keys)])
    main(["keys", "certify", "--root-key", str(keys / "root.key"), "--out", str(keys),
          "--name", "prices", "--purposes", "list"])  # fmt: skip
    toml, out = tmp_path / "tariffs.toml", tmp_path / "tariffs.json"
    toml.write_text(EXAMPLE)
    assert sign(keys, toml, out) == 0  # signing works; gates refuse it
    capsys.readouterr()
    assert main(["tariffs", "verify", str(out), "--root", str(keys / "root.pub")]) == 1
    assert "wrong_purpose" in capsys.readouterr().err
