"""Target 2: batch import of measurements against bare eventsourcing at 100 events per save.

goalpath imports a round's rows two ways, each into goals of its own:
``GoalpathApp.import_measurements_of_goals`` (10 goals in one transaction)
and ``GoalpathApp.import_measurements`` goal by goal (one transaction per
goal); both check, seal and chain every row, with snapshots as configured by
default. The baseline holds the same goals in a bare eventsourcing
application and records the same rows through the same command method
(``Goal.measure``), saving every 100 events. Raw sqlite3 ``executemany``
inserts rows of goalpath's size into a table of the same shape, a round's
rows in one transaction (the transaction of the 10-goal import; the import
of one goal per transaction commits ten times a round against its one), for
the fraction reached.

All four run interleaved, a round at a time, on their own SQLite files.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Final
from uuid import UUID, uuid4

from benchmarks import Result
from benchmarks._common import (
    BENCH_KEY,
    THERAPIST,
    TODAY,
    BareApp,
    measurement_rows,
    new_episode_and_goal,
    ratio_stats,
)
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.goal import Goal

__all__ = ["NAME", "run"]

NAME: Final = "batch_import"
TARGET: Final = 1.5
EVENTS_PER_SAVE: Final = 100

RAW_SCHEMA: Final = (
    "CREATE TABLE raw_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)


Row = tuple[float, date, str | None]
SIDES: Final = ("goalpath", "goalpath, one goal per transaction", "bare", "raw")


def _sizes(quick: bool) -> tuple[int, int, int]:
    """(rounds, goals per round, rows per goal)."""
    return (5, 4, 500) if quick else (10, 10, 1000)


def _raw_round(connection: sqlite3.Connection, goals: int, rows: int, state_bytes: int) -> float:
    """Insert a round's rows in one transaction, as goalpath's multi-goal import does."""
    topic = "goalpath.core.goal:Goal.Measured"
    state = bytes(state_bytes)
    started = time.perf_counter()
    with connection:
        for _ in range(goals):
            stream = uuid4().hex
            connection.executemany(
                "INSERT INTO raw_events VALUES (?, ?, ?, ?)",
                [(stream, version, topic, state) for version in range(2, rows + 2)],
            )
    return time.perf_counter() - started


def _state_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        row = connection.execute(
            "SELECT AVG(LENGTH(state)) FROM stored_events WHERE topic LIKE '%Goal.Measured'"
        ).fetchone()
    return int(row[0])


def _bare_round(bare: BareApp, goals: list[Goal], rows: list[Row]) -> float:
    started = time.perf_counter()
    for goal in goals:
        for start in range(0, len(rows), EVENTS_PER_SAVE):
            for value, observed_on, note in rows[start : start + EVENTS_PER_SAVE]:
                goal.measure(
                    value, observed_on=observed_on, actor=THERAPIST, today=TODAY, note=note
                )
            bare.save(goal)
    return time.perf_counter() - started


def _set_up(
    app: GoalpathApp, bare: BareApp, rounds: int, goals_per_round: int
) -> tuple[list[list[UUID]], list[list[UUID]], list[list[Goal]]]:
    """Goals to import into: two goalpath sets (one per import API) and the baseline's."""
    many, single, baseline = [], [], []
    for number in range(rounds):
        ids_many: list[UUID] = []
        ids_single: list[UUID] = []
        goals: list[Goal] = []
        for index in range(goals_per_round):
            for ids in (ids_many, ids_single):
                episode, goal = new_episode_and_goal(f"client-{number}-{index}")
                engine_of(app).save(episode, goal)
                ids.append(goal.id)
            episode, goal = new_episode_and_goal(f"client-{number}-{index}")
            bare.save(episode, goal)
            goals.append(goal)
        many.append(ids_many)
        single.append(ids_single)
        baseline.append(goals)
    return many, single, baseline


def run(*, quick: bool = False) -> list[Result]:
    """Import the same measurements four ways, interleaved; return goalpath's rows."""
    rounds, goals_per_round, rows_per_goal = _sizes(quick)
    rows = measurement_rows(rows_per_goal)
    per_round = goals_per_round * rows_per_goal
    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-") as folder:
        gp_path, bare_path, raw_path = (Path(folder) / f"{n}.db" for n in ("gp", "bare", "raw"))
        app = GoalpathApp(gp_path, today=lambda: TODAY, master_key=BENCH_KEY)
        bare = BareApp(bare_path)
        raw = sqlite3.connect(raw_path)  # `with raw:` commits a transaction
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(RAW_SCHEMA)
        try:
            many, single, baseline = _set_up(app, bare, rounds, goals_per_round)
            state_bytes = 0
            for number in range(rounds):
                shift = number % len(SIDES)
                for side in SIDES[shift:] + SIDES[:shift]:
                    started = time.perf_counter()
                    if side == "goalpath":
                        app.import_measurements_of_goals(
                            dict.fromkeys(many[number], rows), actor=THERAPIST
                        )
                    elif side == "goalpath, one goal per transaction":
                        for goal_id in single[number]:
                            app.import_measurements(goal_id, rows, actor=THERAPIST)
                    elif side == "bare":
                        _bare_round(bare, baseline[number], rows)
                    else:
                        _raw_round(raw, goals_per_round, rows_per_goal, state_bytes or 340)
                    seconds[side].append(time.perf_counter() - started)
                    state_bytes = state_bytes or _state_bytes(gp_path)
        finally:
            app.close()
            bare.close()
            raw.close()
    total = rounds * per_round

    def rate(side: str) -> str:
        return f"{per_round / statistics.median(seconds[side]):,.0f} events/s"

    results = []
    for side, case in (
        ("goalpath", f"{goals_per_round} goals per transaction"),
        ("goalpath, one goal per transaction", "one goal per transaction"),
    ):
        ratios = [b / g for g, b in zip(seconds[side], seconds["bare"], strict=True)]
        fractions = [r / g for g, r in zip(seconds[side], seconds["raw"], strict=True)]
        ratio, spread = ratio_stats(ratios)
        fraction, fraction_spread = ratio_stats(fractions)
        results.append(
            Result(
                NAME,
                f"import {total:,} measurements, {rows_per_goal} per goal, {case}",
                total,
                sum(seconds[side]),
                {
                    "raw sqlite3 executemany": rate("raw"),
                    "fraction of raw": f"{fraction:.2f} ({fraction_spread})",
                    "ratio by round": " ".join(f"{value:.2f}" for value in ratios),
                    "fraction by round": " ".join(f"{value:.2f}" for value in fractions),
                },
                goalpath=rate(side),
                baseline=f"{rate('bare')} (bare, {EVENTS_PER_SAVE} per save)",
                ratio=ratio,
                spread=spread,
                target=f">= {TARGET}x the event rate",
                holds=ratio >= TARGET,
            )
        )
    return results
