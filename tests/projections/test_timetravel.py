"""Time travel: the plan as it stood at a past moment, from the events (not the tables)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import InvalidValueError, NotFoundError
from goalpath.projections import Projections, plan_as_of
from tests.conftest import fixed_today
from tests.strategies import CATALOG, CONCERNS, GOAL_START, OPENED_ON, THERAPIST


def test_plan_as_of_shows_the_definition_before_a_later_refinement() -> None:
    with GoalpathApp(today=fixed_today) as app, Projections(app) as projections:
        episode_id = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            concerns=CONCERNS,
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        panic = CATALOG["panic"].definition
        goal_id = app.create_goal(episode_id, panic, actor=THERAPIST, activate=True)
        stated_at = app.goal_events(goal_id)[0].timestamp
        slower = CATALOG["panic-slower"].definition
        app.refine_goal(
            goal_id,
            reason="a slower pace",
            actor=THERAPIST,
            statement=slower.statement,
            target=slower.target,
        )
        app.record_measurement(goal_id, 2, actor=THERAPIST, observed_on=GOAL_START)
        refined_at = app.goal_events(goal_id)[1].timestamp
        assert refined_at > stated_at  # the known timestamp lies between the two events

        then = projections.plan_for_episode(episode_id, as_of=stated_at)
        now = projections.plan_for_episode(episode_id)
        [goal_then] = then.goals
        [goal_now] = now.goals
        assert goal_then.record.definition == panic
        assert goal_then.latest is None
        assert goal_then.record.version == 1
        assert goal_now.record.definition.statement == slower.statement
        assert goal_now.latest is not None
        assert then.on == stated_at.date()
        # The same plan, rebuilt from the events at the refinement's own time:
        at_refinement = plan_as_of(app, episode_id, refined_at)
        assert at_refinement.goals[0].record.definition.target == slower.target
        assert at_refinement.goals[0].latest is None


def test_plan_for_a_client_as_of_leaves_out_episodes_not_yet_opened() -> None:
    with GoalpathApp(today=fixed_today) as app, Projections(app) as projections:
        first = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        opened_at = app.episode_events(first)[0].timestamp
        second = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        assert app.episode_events(second)[0].timestamp > opened_at
        assert [p.episode.episode_id for p in projections.plan_for_client("client-1")] == [
            first,
            second,
        ]
        past = projections.plan_for_client("client-1", as_of=opened_at)
        assert [p.episode.episode_id for p in past] == [first]
        before = opened_at - timedelta(seconds=1)
        assert projections.plan_for_client("client-1", as_of=before) == []
        with pytest.raises(NotFoundError, match="not yet opened"):
            projections.plan_for_episode(first, as_of=before)
        with pytest.raises(NotFoundError, match="client"):
            projections.plan_for_client("nobody")
        with pytest.raises(InvalidValueError, match="time zone"):
            projections.plan_for_episode(first, as_of=datetime(2026, 1, 1))  # noqa: DTZ001


def test_time_travel_does_not_read_the_tables() -> None:
    with GoalpathApp(today=fixed_today) as app, Projections(app, catch_up_on_read=False) as p:
        episode_id = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        app.create_goal(episode_id, CATALOG["vague"].definition, actor=THERAPIST)
        assert p.status().position == 0
        plan = p.plan_for_episode(episode_id, as_of=datetime.now(UTC))
        assert len(plan.goals) == 1
        assert plan.goals[0].record.status == "proposed"
