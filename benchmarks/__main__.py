"""Run every benchmark and print a table: ``python -m benchmarks [--quick] [--json FILE]``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
from pathlib import Path
from typing import Any

import attrs

from benchmarks import Result


def _modules() -> list[Any]:
    package_dir = Path(__file__).parent
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(package_dir)])
        if not info.name.startswith("_")
    )
    return [importlib.import_module(f"benchmarks.{name}") for name in names]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", metavar="NAME", help="run only the benchmark of this name")
    options = parser.parse_args(argv)
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "quick": options.quick,
    }
    print(f"machine: {machine['platform']}, {machine['cpus']} CPUs, Python {machine['python']}")
    results: list[Result] = []
    for module in _modules():
        if options.only and options.only != module.NAME:
            continue
        print(f"running {module.NAME}...", flush=True)
        results += module.run(quick=options.quick)
    print()
    print(f"{'benchmark':<22} {'case':<34} {'events':>9} {'seconds':>9} {'events/s':>10}  notes")
    for result in results:
        notes = ", ".join(f"{key} {value}" for key, value in result.extra.items())
        print(
            f"{result.benchmark:<22} {result.case:<34} {result.events:>9} "
            f"{result.seconds:>9.2f} {result.per_second:>10.0f}  {notes}"
        )
    if options.json:
        document = {
            "machine": machine,
            "results": [
                {**attrs.asdict(result), "per_second": result.per_second} for result in results
            ],
        }
        Path(options.json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
