"""uv.lock holds exactly what pyproject.toml asks for, and each machine gets only its part."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
GATE_ONLY = {"pygame", "nfcpy", "gpiozero", "lgpio"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def lock() -> dict:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def locked_packages() -> dict[str, dict]:
    return {canonicalize_name(p["name"]): p for p in lock()["package"]}


def declared() -> set[tuple[str, str, tuple[str, ...], str]]:
    """Every requirement of pyproject.toml as (name, specifier, extras, extra it belongs to)."""
    project = pyproject()
    groups = {"": project["dependencies"], **project["optional-dependencies"]}
    found = set()
    for extra, requirements in groups.items():
        for text in requirements:
            req = Requirement(text)
            found.add(
                (canonicalize_name(req.name), str(req.specifier), tuple(sorted(req.extras)), extra)
            )
    return found


def recorded() -> set[tuple[str, str, tuple[str, ...], str]]:
    """What uv.lock says it was resolved from (uv's own staleness check reads the same)."""
    portique = locked_packages()["portique"]
    found = set()
    for req in portique["metadata"]["requires-dist"]:
        marker = req.get("marker", "")
        extra = marker.removeprefix("extra == '").removesuffix("'") if marker else ""
        found.add(
            (
                canonicalize_name(req["name"]),
                str(Requirement(req["name"] + req.get("specifier", "")).specifier),
                tuple(sorted(req.get("extras", []))),
                extra,
            )
        )
    return found


def test_lock_was_resolved_from_this_pyproject() -> None:
    assert recorded() == declared(), "pyproject.toml and uv.lock disagree: run `make lock`"
    extras = set(pyproject()["optional-dependencies"])
    assert set(locked_packages()["portique"]["metadata"]["provides-extras"]) == extras


def test_every_locked_version_satisfies_its_range() -> None:
    packages = locked_packages()
    for name, specifier, _extras, _group in declared():
        version = Version(packages[name]["version"])
        assert version in Requirement(f"{name}{specifier}").specifier, (name, version, specifier)


def test_every_locked_package_is_pinned_with_hashes() -> None:
    for package in lock()["package"]:
        if package["source"].get("editable"):
            continue
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files and all(f["hash"].startswith("sha256:") for f in files), package["name"]


def closure(extra: str) -> set[str]:
    """The packages a `portique[extra]` install pulls from the lock."""
    packages = locked_packages()
    portique = packages["portique"]
    todo = [d["name"] for d in portique["dependencies"]]
    todo += [d["name"] for d in portique.get("optional-dependencies", {}).get(extra, [])]
    seen: set[str] = set()
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        package = packages[name]
        todo += [d["name"] for d in package.get("dependencies", [])]
        for extra_deps in package.get("optional-dependencies", {}).values():
            todo += [d["name"] for d in extra_deps]  # over-approximates: safe for "absent"
    return seen


def test_a_hub_installs_nothing_of_the_gate() -> None:
    assert not closure("hub") & GATE_ONLY
    assert not closure("postgres") & GATE_ONLY
    assert GATE_ONLY - {"lgpio"} <= closure("gate")


def test_the_test_command_runs_locked_tools() -> None:
    test_extra = {
        canonicalize_name(Requirement(r).name) for r in pyproject()["optional-dependencies"]["test"]
    }
    assert {"pytest", "ruff"} <= test_extra
