"""One ``GoalpathApp`` and one ``Projections`` shared by threads; processes sharing one store.

Issue 12, done-when 1, on a SQLite file and on PostgreSQL: eight threads
share one application and one read side, each thread making 200 writes
(measurements, sessions, reviews, on a goal of its own and on one goal every
thread measures) and 200 reads (plans, progress, reviews due, the audit log,
the status), writes and reads interleaved: 1,600 of each per store.
Every read succeeds or raises a typed
:class:`~goalpath.core.errors.GoalpathError`; every acknowledged write is
stored exactly once; afterwards the read models equal a rebuild from zero.
Then four processes share the 200 writes and 200 reads against one
store, each with its own application and read side.

The threads start together at a barrier and stop after their counts; no
test waits on a clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from goalpath.core.application import GoalpathApp
from goalpath.core.episode import Episode
from goalpath.core.goal import Goal
from goalpath.projections import Projections, SQLiteReadModelStore
from tests.projections.shared_workload import Workload, shared_goal
from tests.projections.stores import ProjectionStore
from tests.strategies import TODAY

WRITES: Final = 200
READS: Final = 200
"""Writes and reads on each store, in all, spread evenly over the threads (or processes)."""
THREADS: Final = 8
PROCESSES: Final = 4
WRITES_PER_THREAD: Final = WRITES
READS_PER_THREAD: Final = READS
WRITES_PER_PROCESS: Final = WRITES // PROCESSES
READS_PER_PROCESS: Final = READS // PROCESSES


def _rebuilt(app: GoalpathApp) -> dict[str, list[tuple[Any, ...]]]:
    with Projections(app, store=SQLiteReadModelStore(":memory:")) as fresh:
        fresh.catch_up()
        return fresh.dump()


def _check_stored_exactly_once(app: GoalpathApp, reports: list[dict[str, Any]]) -> None:
    """Every acknowledged write is stored once, and nothing else was stored."""
    acknowledged: Counter[tuple[str, str]] = Counter(
        (goal, note) for report in reports for goal, note in report["measured"]
    )
    goals = {report["own_goal"] for report in reports} | {
        goal for report in reports for goal, _note in report["measured"]
    }
    stored: Counter[tuple[str, str]] = Counter()
    for goal in goals:
        events = app.goal_events(UUID(goal))
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        stored.update((goal, e.note) for e in events if isinstance(e, Goal.Measured) and e.note)
    assert stored == acknowledged
    assert max(acknowledged.values()) == 1  # every note names one write
    for report in reports:
        episode_events = app.episode_events(UUID(report["episode"]))
        sessions = [e for e in episode_events if isinstance(e, Episode.SessionRecorded)]
        assert len(sessions) == report["sessions"]
        reviews = [
            e for e in app.goal_events(UUID(report["own_goal"])) if isinstance(e, Goal.Reviewed)
        ]
        assert len(reviews) == report["reviews"]


def _check_reads(reports: list[dict[str, Any]], expected_reads: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    for report in reports:
        assert report["untyped"] == [], report["untyped"][0]
        outcomes.update(report["reads"])
    assert sum(outcomes.values()) == expected_reads
    return outcomes


def test_eight_threads_share_one_app_and_one_read_side(
    projection_store: ProjectionStore,
) -> None:
    with projection_store.app(today=lambda: TODAY) as app, Projections(app) as projections:
        goal_of_all = shared_goal(app)
        workloads = [
            Workload(app, projections, f"thread-{index}", goal_of_all) for index in range(THREADS)
        ]
        start = threading.Barrier(THREADS, timeout=60)

        def work(workload: Workload) -> None:
            start.wait()
            workload.run(WRITES_PER_THREAD, READS_PER_THREAD)

        threads = [threading.Thread(target=work, args=(workload,)) for workload in workloads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        reports = [workload.report() for workload in workloads]
        outcomes = _check_reads(reports, THREADS * READS_PER_THREAD)
        # Threads of one application never conflict, and nothing here breaks a rule.
        assert [report["refused"] for report in reports] == [{}] * THREADS
        assert outcomes["ok"] == THREADS * READS_PER_THREAD, outcomes
        _check_stored_exactly_once(app, reports)
        projections.catch_up()
        assert projections.dump() == _rebuilt(app)


WORKER: Final = """
import json, sys
from pathlib import Path
from uuid import UUID

sys.path.append(sys.argv[1])
from goalpath.core.application import GoalpathApp
from goalpath.projections import Projections
from tests.projections.shared_workload import Workload
from tests.strategies import TODAY

root, location, tenant, name, shared_goal, writes, reads = sys.argv[1:8]
with GoalpathApp(
    location, tenant=None if tenant == "-" else tenant, today=lambda: TODAY
) as app, Projections(app) as projections:
    workload = Workload(app, projections, name, UUID(shared_goal))
    print("ready", flush=True)
    sys.stdin.readline()  # every worker starts when the test says go
    workload.run(int(writes), int(reads))
    print(json.dumps(workload.report()), flush=True)
"""


def test_four_processes_share_one_store(projection_store: ProjectionStore) -> None:
    root = str(Path(__file__).resolve().parents[2])
    with projection_store.app(today=lambda: TODAY) as app:
        goal_of_all = shared_goal(app)  # also creates the key file of a SQLite store
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    root,
                    projection_store.location,
                    projection_store.tenant or "-",
                    f"process-{index}",
                    str(goal_of_all),
                    str(WRITES_PER_PROCESS),
                    str(READS_PER_PROCESS),
                ],
                env=projection_store.process_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for index in range(PROCESSES)
        ]
        try:
            for worker in workers:
                assert worker.stdout is not None
                line = worker.stdout.readline()
                assert line == "ready\n", (line, worker.stderr and worker.stderr.read())
            for worker in workers:  # every worker is ready: all start at once
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            reports = []
            for worker in workers:
                out, err = worker.communicate(timeout=120)
                assert worker.returncode == 0, err
                reports.append(json.loads(out))
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()

        _check_reads(reports, PROCESSES * READS_PER_PROCESS)
        refused = Counter[str]()
        for report in reports:
            refused.update(report["refused"])
        # Between processes a conflict is retried (measurements, sessions, reviews), a bounded
        # number of times: a command whose attempts all ran into another's write is refused as
        # a conflict, and nothing of it is stored; no other refusal may happen here.
        assert set(refused) <= {"ConflictError"}, refused
        _check_stored_exactly_once(app, reports)
        with Projections(app) as projections:
            projections.catch_up()
            assert projections.dump() == _rebuilt(app)
