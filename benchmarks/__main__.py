"""Run every benchmark and print a table: ``python -m benchmarks [--quick] [--json FILE]``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import attrs

from benchmarks import Result

BENCHMARKS: list[str] = [
    "benchmarks.write_path",
    "benchmarks.batch_import",
    "benchmarks.reconstruct",
    "benchmarks.history",
    "benchmarks.projection_catchup",
    "benchmarks.scaling",
    "benchmarks.postgres",
    "benchmarks.smart",
    "benchmarks.serve",
]
"""Benchmark modules, in the order they run (add a module here to register it)."""


def modules(names: list[str] | None = None) -> list[Any]:
    """Import the registered benchmark modules (or those of ``names``)."""
    return [importlib.import_module(name) for name in (names or BENCHMARKS)]


def format_table(results: list[Result]) -> str:
    """The results as a plain-text table, one row per result."""
    header = ("benchmark", "case", "goalpath", "baseline", "ratio", "spread", "target", "holds")
    rows = [header] + [
        (
            result.benchmark,
            result.case,
            result.goalpath or f"{result.per_second:,.0f} events/s",
            result.baseline,
            "" if result.ratio is None else f"{result.ratio:.2f}x",
            result.spread,
            result.target,
            {True: "yes", False: "NO", None: ""}[result.holds],
        )
        for result in results
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    for result in results:
        if result.extra:
            notes = ", ".join(f"{key}: {value}" for key, value in result.extra.items())
            lines.append(f"  {result.benchmark} / {result.case}: {notes}")
    return "\n".join(line.rstrip() for line in lines)


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
        "eventsourcing": version("eventsourcing"),
        "quick": options.quick,
    }
    print(
        f"machine: {machine['platform']}, {machine['cpus']} CPUs, Python {machine['python']}, "
        f"eventsourcing {machine['eventsourcing']}"
    )
    results: list[Result] = []
    started = time.perf_counter()
    for module in modules():
        if options.only and options.only != module.NAME:
            continue
        print(f"running {module.NAME}...", flush=True)
        results += module.run(quick=options.quick)
    elapsed = time.perf_counter() - started
    print()
    print(format_table(results))
    print(f"\n{len(results)} rows in {elapsed:.0f} s")
    if options.json:
        document = {
            "machine": machine,
            "seconds": elapsed,
            "results": [
                {**attrs.asdict(result), "per_second": result.per_second} for result in results
            ],
        }
        Path(options.json).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
