"""Goal Attainment Scaling in the plan: by review date, unscored goals shown, weighted goals.

Each case is recorded through the application and read through the plan
(``Projections.plan_for_episode``, from the read models, and with ``as_of``, from
the events), so the read-model projector and the replayed records agree.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import InvalidValueError
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.exports.documents import plan_document
from goalpath.projections import Projections
from goalpath.projections.plan import Plan
from goalpath.projections.records import latest_attainment_by_review_date
from tests.projections.stores import ProjectionStore

TODAY = date(2026, 6, 1)
OPENED_ON = date(2026, 3, 2)
THERAPIST = Actor("therapist-1", "therapist")
LATER = datetime(2100, 1, 1, tzinfo=UTC)
"""A moment after everything recorded: the plan ``as_of`` it is rebuilt from the events."""


@pytest.fixture
def app(projection_store: ProjectionStore) -> Iterator[GoalpathApp]:
    """An application on a SQLite file, then on a PostgreSQL tenant (read models beside it)."""
    application = projection_store.app(today=lambda: TODAY)
    yield application
    application.close()


def smart_goal(
    app: GoalpathApp,
    episode_id: UUID,
    what: str,
    *,
    importance: int | None = None,
    difficulty: int | None = None,
) -> UUID:
    """An active SMART goal, rated for GAS when ``importance`` and ``difficulty`` are given."""
    return app.create_goal(
        episode_id,
        GoalDefinition(
            statement=f"I will reduce my {what} from 3 to 1 per week within 8 weeks by "
            "practising daily breathing exercises",
            start_on=OPENED_ON,
            measure=Measure(name=what, unit="per week", direction="decrease", minimum=0),
            target=Target(baseline=3, value=1, due_on=OPENED_ON + timedelta(weeks=8)),
            practices=("daily breathing exercises",),
            gas_importance=importance,
            gas_difficulty=difficulty,
        ),
        actor=THERAPIST,
        activate=True,
    )


def review(app: GoalpathApp, goal_id: UUID, on: date, attainment: int | None) -> None:
    """Review ``goal_id`` on ``on`` with a GAS ``attainment`` (or none)."""
    app.review_goal(
        goal_id,
        achievement="improving",
        decision="continue",
        actor=THERAPIST,
        reviewed_on=on,
        attainment=attainment,
    )


def plans(app: GoalpathApp, episode_id: UUID) -> list[Plan]:
    """The plan from the read models and the plan rebuilt from the events."""
    with Projections(app) as projections:
        return [
            projections.plan_for_episode(episode_id),
            projections.plan_for_episode(episode_id, as_of=LATER),
        ]


def open_episode(app: GoalpathApp) -> UUID:
    """An open episode of one client."""
    return app.open_episode(
        client_id="client-1", therapist_ids=[THERAPIST.id], opened_on=OPENED_ON, actor=THERAPIST
    )


def test_a_backdated_review_does_not_replace_the_latest_attainment(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    goal_id = smart_goal(app, episode_id, "panic attacks")
    review(app, goal_id, OPENED_ON + timedelta(weeks=6), attainment=1)
    review(app, goal_id, OPENED_ON + timedelta(weeks=7), attainment=None)  # no GAS level
    review(app, goal_id, OPENED_ON + timedelta(weeks=2), attainment=-2)  # entered late
    for plan in plans(app, episode_id):
        [goal] = plan.goals
        assert goal.record.latest_attainment == 1
        assert goal.record.latest_attainment_on == OPENED_ON + timedelta(weeks=6)
        assert plan.gas_t_score == pytest.approx(60.0)  # one goal at +1
    review(app, goal_id, OPENED_ON + timedelta(weeks=6), attainment=0)  # same date, later
    for plan in plans(app, episode_id):
        assert plan.goals[0].record.latest_attainment == 0
        assert plan.gas_t_score == pytest.approx(50.0)


def test_unscored_goals_are_counted_and_shown(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    scored = smart_goal(app, episode_id, "panic attacks")
    smart_goal(app, episode_id, "missed days at work")
    smart_goal(app, episode_id, "nights of broken sleep")
    review(app, scored, OPENED_ON + timedelta(weeks=4), attainment=2)
    for plan in plans(app, episode_id):
        assert (plan.gas.scored, plan.gas.goals, plan.gas.unscored) == (1, 3, 2)
        assert plan.gas.coverage == "1 of 3 goals scored"
        assert plan.gas_t_score == pytest.approx(70.0)
    document = plan_document(plans(app, episode_id)[0])
    assert document["gas"]["coverage"] == "1 of 3 goals scored"
    assert document["gas"]["unscored"] == 2


def test_weights_six_two_one_with_levels_zero_plus_one_minus_one_give_51_37(
    app: GoalpathApp,
) -> None:
    episode_id = open_episode(app)
    ratings = ((3, 2), (2, 1), (1, 1))  # importance x difficulty = 6, 2, 1
    levels = (0, 1, -1)
    for index, ((importance, difficulty), level) in enumerate(zip(ratings, levels, strict=True)):
        goal_id = smart_goal(
            app, episode_id, f"worry episode {index}", importance=importance, difficulty=difficulty
        )
        review(app, goal_id, OPENED_ON + timedelta(weeks=4), attainment=level)
    # Kiresuk & Sherman with weights, rho 0.3, written out here:
    weights = [6, 2, 1]
    expected = 50 + 10 * sum(w * x for w, x in zip(weights, levels, strict=True)) / math.sqrt(
        0.7 * sum(w * w for w in weights) + 0.3 * sum(weights) ** 2
    )
    assert round(expected, 2) == 51.37
    for plan in plans(app, episode_id):
        assert [goal.record.definition.gas_weight for goal in plan.goals] == weights
        assert plan.gas.weighted
        assert plan.gas_t_score == pytest.approx(expected)
        assert round(plan.gas_t_score or 0, 2) == 51.37


def test_without_ratings_the_plan_score_is_unweighted(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    for index, level in enumerate((1, 2, -1)):
        goal_id = smart_goal(app, episode_id, f"panic attack kind {index}")
        review(app, goal_id, OPENED_ON + timedelta(weeks=4), attainment=level)
    for plan in plans(app, episode_id):
        assert not plan.gas.weighted
        assert plan.gas_t_score == pytest.approx(59.13, abs=0.005)


@pytest.mark.parametrize(
    ("importance", "difficulty", "message"),
    [
        (4, 1, "from 0 to 3"),
        (True, 1, "from 0 to 3"),
        (2, None, "needs both ratings"),
    ],
)
def test_gas_ratings_are_refused_outside_zero_to_three_or_alone(
    importance: object, difficulty: object, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message):
        GoalDefinition(
            statement="I will feel calmer",
            start_on=OPENED_ON,
            gas_importance=importance,  # type: ignore[arg-type]  # what a caller may pass
            gas_difficulty=difficulty,  # type: ignore[arg-type]
        )


reviews = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(-2, 2))),
    max_size=6,
    unique_by=lambda review: review[0],
)
"""Reviews as (day after the start, GAS level or none), on distinct days."""


@settings(max_examples=25, deadline=None)
@given(recorded=reviews, order=st.randoms(use_true_random=False))
def test_the_latest_attainment_does_not_depend_on_the_order_reviews_were_recorded(
    recorded: list[tuple[int, int | None]], order: random.Random
) -> None:
    """Law: on distinct review dates, recording the reviews in any order gives the same level.

    The level is that of the latest-dated review with one, in the read models and in the
    records replayed from the events alike.
    """
    shuffled = list(recorded)
    order.shuffle(shuffled)
    scored = [(day, level) for day, level in recorded if level is not None]
    expected = max(scored)[1] if scored else None
    dated = [(OPENED_ON + timedelta(days=day), level) for day, level in shuffled]
    assert latest_attainment_by_review_date(dated)[0] == expected
    with GoalpathApp(today=lambda: TODAY) as app:
        episode_id = open_episode(app)
        goal_id = smart_goal(app, episode_id, "panic attacks")
        for on, level in dated:
            review(app, goal_id, on, level)
        for plan in plans(app, episode_id):
            assert plan.goals[0].record.latest_attainment == expected
