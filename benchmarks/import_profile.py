"""Where a batch import's time goes: ``python -m benchmarks.import_profile [--single]``.

Not a benchmark with a target (it is not in the runner's list): it wraps
each stage of ``GoalpathApp.import_measurements_of_goals`` (or, with
``--single``, of ``import_measurements`` goal by goal) in a timer, imports
``--rounds`` rounds of 10 goals x 1,000 rows, and prints each stage's wall
time per event, its share, and its cost in rows of raw sqlite3
``executemany`` inserted in the same process, round by round (the unit that
machine load moves least). Each stage is entered a few times per import, so
the timers cost nothing measurable; a stage's time excludes the stages
timed inside it.
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import eventsourcing.sqlite
from eventsourcing.domain import CanSnapshotAggregate

from benchmarks._common import BENCH_KEY, THERAPIST, TODAY, measurement_rows, new_episode_and_goal
from benchmarks.batch_import import RAW_SCHEMA, _raw_round
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.application.sealed import SealedApplication
from goalpath.core.goal import Goal
from goalpath.core.storage import fast_paths
from goalpath.core.storage.mapper import GoalpathMapper
from goalpath.core.storage.sealed_recorders import SealedSQLiteApplicationRecorder

__all__ = ["main"]

GOALS = 10
ROWS = 1000


class _Stages:
    """Wall time per stage, each stage's own (the stages timed inside it left out)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._open: list[str] = []

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timing(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            self._open.append(name)
            try:
                return function(*args, **kwargs)
            finally:
                self._open.pop()
                spent = time.perf_counter() - started
                self.seconds[name] += spent
                if self._open:
                    self.seconds[self._open[-1]] -= spent

        return timing

    def install(self, patch: Callable[[Any, str, Any], None] = setattr) -> None:
        """Wrap every stage, through ``patch`` (a test's ``monkeypatch.setattr``; else for good)."""
        seal_events = self.timed("seal: encode, encrypt, chain", GoalpathMapper.seal_rows)
        seal_snapshots = self.timed("snapshot: take, encode, seal", GoalpathMapper.seal_rows)

        def seal(mapper: GoalpathMapper, domain_events: Any) -> Any:
            if domain_events and isinstance(domain_events[0], CanSnapshotAggregate):
                return seal_snapshots(mapper, domain_events)
            return seal_events(mapper, domain_events)

        patches: list[tuple[Any, str, Callable[..., Any]]] = [
            (GoalpathMapper, "seal_rows", seal),
            (Goal, "measure_many", self.timed("check the rows", Goal.measure_many)),
            (
                fast_paths,
                "append_fast_events",
                self.timed("apply: build events, update the goal", fast_paths.append_fast_events),
            ),
            (
                SealedSQLiteApplicationRecorder,
                "insert_sealed_rows",
                self.timed(
                    "insert: executemany, heads, store seal",
                    SealedSQLiteApplicationRecorder.insert_sealed_rows,
                ),
            ),
            (
                eventsourcing.sqlite.SQLiteAggregateRecorder,
                "_insert_events",
                self.timed(
                    "snapshot: insert",
                    eventsourcing.sqlite.SQLiteAggregateRecorder._insert_events,
                ),
            ),
            (
                eventsourcing.sqlite.SQLiteConnection,
                "commit",
                self.timed(
                    "commit (fsync, WAL checkpoint)", eventsourcing.sqlite.SQLiteConnection.commit
                ),
            ),
            (
                SealedApplication,
                "_load",
                self.timed("load goals and episodes", SealedApplication._load),
            ),
        ]
        for owner, name, replacement in patches:
            patch(owner, name, replacement)


def main(argv: list[str] | None = None, patch: Callable[[Any, str, Any], None] = setattr) -> None:
    """Import the rounds and print the table (``patch`` installs the timers)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_profile")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows per goal")
    parser.add_argument("--single", action="store_true", help="one goal per transaction")
    options = parser.parse_args(argv)
    stages = _Stages()
    stages.install(patch)
    rows = measurement_rows(options.rows)
    total = raw_total = 0.0
    with tempfile.TemporaryDirectory(prefix="goalpath-profile-") as folder:
        app = GoalpathApp(Path(folder) / "gp.db", today=lambda: TODAY, master_key=BENCH_KEY)
        raw = sqlite3.connect(Path(folder) / "raw.db")
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(RAW_SCHEMA)
        try:
            rounds: list[list[UUID]] = []
            for number in range(options.rounds + 1):  # the first round warms up, uncounted
                rounds.append([])
                for index in range(GOALS):
                    episode, goal = new_episode_and_goal(f"client-{number}-{index}")
                    engine_of(app).save(episode, goal)
                    rounds[-1].append(goal.id)
            for number, goal_ids in enumerate(rounds):
                if number == 1:
                    stages.seconds.clear()  # the warm-up round's stages are not counted
                raw_seconds = _raw_round(raw, GOALS, options.rows, 340)
                started = time.perf_counter()
                if options.single:
                    for goal_id in goal_ids:
                        app.import_measurements(goal_id, rows, actor=THERAPIST)
                else:
                    app.import_measurements_of_goals(dict.fromkeys(goal_ids, rows), actor=THERAPIST)
                if number:
                    total += time.perf_counter() - started
                    raw_total += raw_seconds
        finally:
            app.close()
            raw.close()
    events = options.rounds * GOALS * options.rows
    print(
        f"{events / total:,.0f} events/s, {total / events * 1e6:.2f} us per event; raw sqlite3 "
        f"executemany {raw_total / events * 1e6:.2f} us per row (fraction {raw_total / total:.2f})"
    )
    rest = total - sum(stages.seconds.values())
    for name, seconds in [
        *sorted(stages.seconds.items(), key=lambda item: -item[1]),
        ("the rest", rest),
    ]:
        print(
            f"  {name:40s} {seconds / events * 1e6:6.2f} us/event  {seconds / total:6.1%}  "
            f"{seconds / raw_total:5.2f} raw rows"
        )


if __name__ == "__main__":
    main()
