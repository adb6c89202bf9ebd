"""Eight processes, 200 commands each, on the same five goals: on a SQLite file and PostgreSQL.

Every command either lands or is refused with ConflictError; no event is
lost or duplicated; each goal's final state is the replay of exactly the
events that landed.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from goalpath.core import Actor, GoalpathApp, draft_definition
from goalpath.core.errors import ConflictError
from goalpath.core.storage.keys import MasterKey

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from tests.postgres_support import PostgresTenant, postgres_tenant  # noqa: E402

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-7", "therapist")
PROCESSES = 8
COMMANDS = 200
GOALS = 5


def open_app(location: str, tenant: str | None, key: MasterKey) -> GoalpathApp:
    return GoalpathApp(
        location,
        tenant=tenant,
        master_key=key,
        today=lambda: TODAY,
        snapshot_interval=0,
        lock_timeout_seconds=60,
    )


def seed(location: str, tenant: str | None, key: MasterKey) -> list[UUID]:
    with open_app(location, tenant, key) as app:
        episode = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            opened_on=TODAY - timedelta(weeks=4),
            actor=THERAPIST,
        )
        definition = draft_definition(
            "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
            "by practising daily breathing exercises",
            TODAY - timedelta(weeks=4),
        )
        return [
            app.create_goal(episode, definition, actor=THERAPIST, activate=True)
            for _ in range(GOALS)
        ]


def writer(
    location: str, tenant: str | None, key_text: str, goals: list[UUID], number: int
) -> tuple[list[str], int]:
    """Apply COMMANDS random commands; return the tokens of those that landed, and conflicts."""
    rng = random.Random(number)  # noqa: S311  # test data, not security
    landed: list[str] = []
    conflicts = 0
    with open_app(location, tenant, MasterKey.from_text(key_text, "test")) as app:
        for index in range(COMMANDS):
            goal_id = rng.choice(goals)
            token = f"p{number}-c{index}"
            try:
                goal = app.get_goal(goal_id)
                kind = rng.random()
                if kind < 0.7:
                    app.record_measurement(
                        goal_id,
                        rng.choice((0, 1, 2, 3)),
                        observed_on=TODAY,
                        note=token,
                        actor=THERAPIST,
                        expected_version=goal.version,
                    )
                elif kind < 0.85:
                    app.review_goal(
                        goal_id,
                        achievement="improving",
                        decision="continue",
                        note=token,
                        actor=THERAPIST,
                        expected_version=goal.version,
                    )
                else:
                    current = goal.definition.priority
                    app.refine_goal(
                        goal_id,
                        reason=token,
                        priority="high-priority" if current != "high-priority" else "low-priority",
                        actor=THERAPIST,
                        expected_version=goal.version,
                    )
            except ConflictError:
                conflicts += 1
                continue
            landed.append(token)
    return landed, conflicts


def token_of(domain_event: Any) -> str | None:
    token = getattr(domain_event, "note", None) or getattr(domain_event, "reason", None)
    return token if isinstance(token, str) else None


def run_race(location: str, tenant: str | None, key: MasterKey) -> None:
    goals = seed(location, tenant, key)
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(
            writer,
            [(location, tenant, key.to_text(), goals, number) for number in range(PROCESSES)],
        )
    landed = [token for tokens, _conflicts in results for token in tokens]
    conflicts = sum(conflicts for _tokens, conflicts in results)
    assert len(landed) + conflicts == PROCESSES * COMMANDS
    assert conflicts > 0, "the writers should have raced"

    with open_app(location, tenant, key) as app:
        stored_tokens: list[str] = []
        for goal_id in goals:
            events = app.goal_events(goal_id)
            assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
            stored_tokens.extend(t for t in map(token_of, events[1:]) if t is not None)
            replayed: Any = None
            for domain_event in events:
                replayed = domain_event.mutate(replayed)
            loaded = app.get_goal(goal_id)
            assert _state(loaded) == _state(replayed)
        assert sorted(stored_tokens) == sorted(landed), "no event lost or duplicated"
        assert len(set(stored_tokens)) == len(stored_tokens)
        assert app.verify().ok


def _state(goal: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(goal).items() if k != "_pending_events"}


@pytest.fixture
def pg_tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_eight_writers_on_a_sqlite_file(tmp_path: Path) -> None:
    run_race(str(tmp_path / "race.db"), None, MasterKey.generate())


def test_eight_writers_on_postgresql(pg_tenant: PostgresTenant) -> None:
    run_race(pg_tenant.url, pg_tenant.tenant, pg_tenant.master_key)
