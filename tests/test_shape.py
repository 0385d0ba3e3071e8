"""The code's shape holds: no import circles, the hub speaks to firmware through the protocol
package only, and every module's status reaches every place that renders it."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from conftest import EXPIRED, World

from firmware import status
from firmware.display.screens import Context, layout
from firmware.display.ui import Screen, UiState
from firmware.events import DisplayFailed, PersonPassed, ReaderHealth
from firmware.gate.views import StatusView, SyncStatus
from firmware.sync.protocol import validate

ROOT = Path(__file__).parent.parent
PACKAGES = ("firmware", "hub")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    """Every project module ``path`` imports, at the top or inside a function."""

    def project_module(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if (module := project_module(name)) is not None:
                yield module


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imports(path, known)) - {name} for name, path in known.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    # The test above could pass by finding nothing at all: show it sees one.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_the_hub_imports_nothing_from_firmware_but_the_protocol_package() -> None:
    graph = import_graph()
    hub_imports = {
        (module, target)
        for module, targets in graph.items()
        if module.split(".")[0] == "hub"
        for target in targets
        if target.split(".")[0] == "firmware"
    }
    assert hub_imports, "the walk found no hub import of firmware at all"
    outside = sorted(
        (module, target)
        for module, target in hub_imports
        if not target.startswith("firmware.protocol")
    )
    assert outside == []


# -- one status snapshot, rendered everywhere -----------------------------------------------


def module_keys(world: World) -> set[str]:
    """Every key some module of the gate reports in its status()."""
    keys: set[str] = set()
    for module in world.gate.status.modules:
        keys |= module.status(world.clock.monotonic()).keys()
    return keys


def busy(world: World) -> None:
    """A gate with something in every status field: taps, a refusal, a stray passage."""
    world.loop.handle(ReaderHealth(True, "reader udp:x ready", world.clock.monotonic()))
    world.loop.handle(DisplayFailed("no screen"))
    world.tap(EXPIRED)
    world.loop.handle(PersonPassed(world.clock.monotonic()))


def test_every_module_reports_and_no_key_twice(world: World) -> None:
    keys = module_keys(world)
    for expected in ("reader_up", "display_up", "journal_ok", "list_freshness", "taps",
                     "unexpected_passages", "clock_trusted", "backlog"):  # fmt: skip
        assert expected in keys
    assert keys <= world.gate.status.health().keys()


def test_every_status_key_is_in_the_status_file(world: World, tmp_path: Path) -> None:
    busy(world)
    world.gate.status.on_status = lambda document: status.write(tmp_path, document, None)
    world.gate.status.report()
    written = json.loads((tmp_path / status.STATUS_FILE).read_text())
    assert module_keys(world) <= written.keys()


def test_every_status_key_is_in_the_prometheus_text(world: World) -> None:
    busy(world)
    text = status.prometheus(world.gate.status.snapshot())
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP")}
    for key in sorted(module_keys(world)):
        shown = status.EXPLAINS.get(key, key)  # words stand beside the figure they explain
        metric = status.METRICS.get(shown)
        name = metric.name if metric else shown
        suffix = "_total" if metric and metric.kind == "counter" else ""  # the library's rule
        assert f"portique_{name}{suffix}" in families, f"status key {key} missing from Prometheus"


def test_a_new_status_key_reaches_prometheus_without_a_table_line(world: World) -> None:
    document = {**world.gate.status.snapshot(), "doors_jammed": 2}
    assert 'portique_doors_jammed{gate="G1",museum="M1"} 2.0' in status.prometheus(document)


def test_every_status_key_is_in_the_mqtt_status_message(make_world) -> None:
    world = make_world(sync={"host": "127.0.0.1", "port": 9})  # never connects: not needed
    busy(world)
    link = world.gate.sync
    assert link is not None
    body = link.status_message(online=True)
    assert module_keys(world) <= body["health"].keys()
    # And the message is what the schema accepts, as the hub checks it.
    envelope = {"type": "status", "museum": "M1", "gate": "G1", "sent_at": 1.0,
                "session": "0" * 32, "n": 1, **body}  # fmt: skip
    validate("status", envelope)


class Reads(dict):
    """A mapping that remembers which keys were read."""

    def __init__(self, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def test_every_status_key_is_in_the_staff_status_view(world: World) -> None:
    busy(world)
    health = Reads(world.gate.status.health())
    view = StatusView.from_health(health, world.clock.wall())
    assert module_keys(world) <= health.read
    assert (view.taps, view.refused, view.unexpected_passages) == (1, 1, 1)
    assert (view.display_failures, view.reader_reconnects) == (1, 0)


def test_the_status_screen_draws_the_counts(world: World) -> None:
    view = StatusView(wall=0.0, list_version=1, list_issued_at=0.0, list_freshness="fresh",
                      journal_last_seq=5, journal_ok=True, reader_up=True, reader_detail="",
                      time_trusted=True, sync=SyncStatus(), taps=31, admitted=27, refused=4,
                      unexpected_passages=3, display_failures=2, reader_reconnects=5)  # fmt: skip
    state = UiState(screen=Screen.STATUS, language="en", status=view)
    texts = [
        str(getattr(item, "text", ""))
        for item in layout(state, Context(800, 480, world.gate.settings.zone))
    ]
    assert "31 decided, 27 admitted, 4 refused" in texts
    assert "screen 2, reader 5" in texts
    assert "3" in texts


def test_every_definition_of_the_record_has_the_protocols_fields() -> None:
    # The record is stored by the gate, sent in a batch and stored by the hub;
    # each place lists the fields for its own tool (peewee, JSON Schema), and
    # each must match the one definition both ends hash by.
    from firmware.journal.models import Record
    from firmware.protocol.record import COLUMNS
    from firmware.sync.protocol import schema
    from hub.models import Entry

    fields = set(COLUMNS)
    assert set(Record._meta.sorted_field_names) == fields
    # The hub's own columns: its row id, when it received the record, and which
    # journal of the gate it came from (the batch's epoch).
    assert set(Entry._meta.sorted_field_names) - {"id", "received_at", "epoch"} == fields
    batch_record = schema("batch")["properties"]["records"]["items"]
    assert set(batch_record["properties"]) == fields
    assert set(batch_record.get("required", ())) <= fields
