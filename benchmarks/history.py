"""Command cost as a goal's history grows: a goal of 10,000 measurements against one of 100.

The long goal has 10,001 events (its creation, then a measurement each),
so it is also the "10,000 prior events" of issue 19. For each operation,
goalpath on a SQLite file with everything it does
(sealing, snapshots at the default interval, read models caught up on read):

- ``record_measurement`` (``goal measure``'s work);
- ``get_goal`` (what ``goal show`` loads);
- the plan read (``Projections.plan_for_episode``, from the read models);
- ``goal show --json`` and ``goal measure`` through the command line, in
  process (click's runner: opening the store, the read or command, the
  document), so a process start does not hide the difference.

The two goals are in one store. The sides alternate operation by
operation; a round's figure is its median operation time, and peak memory
is measured in a second pass under ``tracemalloc`` (which slows Python
down, so not in the timed pass). Targets: at most 1.5x the time and 1.5x
the peak memory (issue 19; issue 17 asks for 2x for ``goal show`` and
``goal measure``). A third row gives a snapshot's stored size on each goal.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Final
from uuid import UUID

from click.testing import CliRunner

from benchmarks import Result
from benchmarks._common import (
    BENCH_KEY,
    DEFINITION,
    START,
    THERAPIST,
    TODAY,
    measurement_rows,
    ratio_stats,
)
from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.goal import Goal
from goalpath.core.storage.keys import KEY_ENV
from goalpath.projections import Projections

__all__ = ["LONG", "NAME", "SHORT", "run"]

NAME: Final = "history"
SHORT: Final = 100
LONG: Final = 10_000
TARGET: Final = 1.5
Operation = Callable[[UUID, UUID], object]


def _sizes(quick: bool) -> tuple[int, int]:
    """(rounds, operations per round and side)."""
    return (3, 5) if quick else (7, 15)


def _goal_with(app: GoalpathApp, measurements: int, client: str) -> tuple[UUID, UUID]:
    """An episode and an active goal of ``measurements`` measurements (one event more)."""
    episode_id = app.open_episode(
        client_id=client,
        therapist_ids=("therapist-1",),
        actor=THERAPIST,
        concerns=("panic attacks",),
        opened_on=START,
    )
    goal_id = app.create_goal(episode_id, DEFINITION, actor=THERAPIST, activate=True)
    rows = measurement_rows(measurements)
    for first in range(0, len(rows), 2_000):
        app.import_measurements(goal_id, rows[first : first + 2_000], actor=THERAPIST)
    return episode_id, goal_id


def _cli(path: Path, *args: str) -> Callable[[UUID, UUID], object]:
    runner = CliRunner()

    def invoke(_episode_id: UUID, goal_id: UUID) -> object:
        result = runner.invoke(
            cli,
            ["--db", str(path), *(arg.replace("GOAL", str(goal_id)) for arg in args)],
            env={KEY_ENV: BENCH_KEY.to_text(), "GOALPATH_ACTOR": "therapist-1"},
        )
        if result.exit_code != 0:
            raise RuntimeError(f"goalpath {' '.join(args)} failed: {result.output}")
        return result.output

    return invoke


def _measure(
    operation: Operation, short: tuple[UUID, UUID], long: tuple[UUID, UUID], count: int
) -> tuple[list[float], list[float]]:
    """``count`` timed operations on each goal, alternating: (short times, long times)."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for index in range(count):
        for is_long in (False, True) if index % 2 else (True, False):
            started = time.perf_counter()
            operation(*(long if is_long else short))
            times[is_long].append(time.perf_counter() - started)
    return times[False], times[True]


def _peak(operation: Operation, ids: tuple[UUID, UUID]) -> int:
    """The peak memory Python allocated during one operation, in bytes."""
    operation(*ids)  # warm: caches and imports are not the operation's
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        operation(*ids)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _row(
    case: str, medians: tuple[list[float], list[float]], peaks: tuple[int, int], target: float
) -> Result:
    short, long = medians
    ratio, spread = ratio_stats([b / a for a, b in zip(short, long, strict=True)])
    memory = peaks[1] / peaks[0]
    long_ms, short_ms = statistics.median(long) * 1000, statistics.median(short) * 1000
    return Result(
        NAME,
        f"{case}: {LONG:,} measurements vs {SHORT}",
        len(long),
        sum(long),
        {"peak_bytes_long": peaks[1], "peak_bytes_short": peaks[0], "memory_ratio": memory},
        goalpath=f"{long_ms:.2f} ms, peak {peaks[1] / 1024:.0f} KiB",
        baseline=f"{short_ms:.2f} ms, peak {peaks[0] / 1024:.0f} KiB ({SHORT} measurements)",
        ratio=ratio,
        spread=f"{spread}; memory {memory:.2f}x",
        target=f"<= {target}x time and memory",
        holds=ratio <= target and memory <= target,
    )


def run(*, quick: bool = False) -> list[Result]:
    """Each operation on the long goal against the short one, in alternation."""
    rounds, per_round = _sizes(quick)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-") as folder:
        path = Path(folder) / "gp.db"
        with GoalpathApp(path, today=lambda: TODAY, master_key=BENCH_KEY) as app:
            short = _goal_with(app, SHORT, "client-short")
            long = _goal_with(app, LONG, "client-long")
            assert app.get_goal(long[1]).version == LONG + 1  # its creation, then each
            read_side = Projections(app)
            read_side.catch_up()
            operations: list[tuple[str, Operation, float]] = [
                (
                    "record 1 measurement",
                    lambda _e, g: app.record_measurement(g, 3.0, actor=THERAPIST),
                    TARGET,
                ),
                ("get_goal", lambda _e, g: app.get_goal(g), TARGET),
                ("plan read", lambda e, _g: read_side.plan_for_episode(e), TARGET),
                ("goal show --json (CLI)", _cli(path, "goal", "show", "GOAL", "--json"), TARGET),
                ("goal measure (CLI)", _cli(path, "goal", "measure", "GOAL", "2"), TARGET),
            ]
            try:
                for case, operation, target in operations:
                    operation(*short), operation(*long)  # warm
                    medians: tuple[list[float], list[float]] = ([], [])
                    for _round in range(rounds):
                        short_times, long_times = _measure(operation, short, long, per_round)
                        medians[0].append(statistics.median(short_times))
                        medians[1].append(statistics.median(long_times))
                    peaks = (_peak(operation, short), _peak(operation, long))
                    results.append(_row(case, medians, peaks, target))
                sizes = [_snapshot_size(app, goal_id) for _episode, goal_id in (short, long)]
            finally:
                read_side.close()
    results.append(
        Result(
            NAME,
            f"snapshot size: {LONG:,} measurements vs {SHORT}",
            1,
            0.0,
            {"bytes_long": sizes[1], "bytes_short": sizes[0]},
            goalpath=f"{sizes[1]:,} bytes",
            baseline=f"{sizes[0]:,} bytes",
            ratio=sizes[1] / sizes[0],
            target=f"<= {TARGET}x",
            holds=sizes[1] / sizes[0] <= TARGET,
        )
    )
    return results


def _snapshot_size(app: GoalpathApp, goal_id: UUID) -> int:
    """The encoded size of the goal's snapshot state (before encryption), in bytes."""
    snapshot = Goal.Snapshot.take(app.get_goal(goal_id))
    return len(engine_of(app).mapper.transcoder.encode(snapshot.state))


if __name__ == "__main__":
    for result in run(quick=True):
        print(json.dumps({"case": result.case, "ratio": result.ratio, "holds": result.holds}))
