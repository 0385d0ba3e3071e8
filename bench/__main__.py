"""`make bench`: run every benchmark, print a table, write build/bench.json."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from bench import access, console, counter, lists, reader, sync, tap

BENCHMARKS = (tap, reader, lists, sync, counter, access, console)
OUT = Path("build/bench.json")


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    figures: dict[str, float] = {}
    for module in BENCHMARKS:
        print(f"running {module.__name__} ...", flush=True)
        figures.update(module.run(Path("build/bench-data") / module.__name__.split(".")[-1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    width = max(len(name) for name in figures)
    print()
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:>12.3f}")
    print(f"\nwritten to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
