"""The goal lifecycle and the episode rules, through the application, on every store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.episode import Episode
from goalpath.core.errors import (
    InvalidCommandError,
    InvalidValueError,
    NotFoundError,
    NotSmartError,
)
from goalpath.core.goal import Goal
from goalpath.core.values import Actor, Measure
from tests.conftest import AppFactory
from tests.strategies import (
    CATALOG,
    GOAL_START,
    OPENED_ON,
    PANIC_MEASURE,
    SUPERVISOR,
    THERAPIST,
    TODAY,
    open_standard_episode,
)

CLIENT = Actor(id="client-1", role="client")


def state(app: GoalpathApp, key: str = "panic", *, activate: bool = True) -> UUID:
    episode_id = open_standard_episode(app)
    return app.create_goal(episode_id, CATALOG[key].definition, actor=THERAPIST, activate=activate)


# -- creation and activation -------------------------------------------------------


def test_a_smart_goal_can_start_active_and_a_vague_one_starts_proposed(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    smart = app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    vague = app.create_goal(episode_id, CATALOG["vague"].definition, actor=CLIENT)

    assert app.get_goal(smart).status == "active"
    goal = app.get_goal(vague)
    assert goal.status == "proposed"
    assert goal.episode_id == episode_id
    assert goal.client_id == "client-1"
    assert goal.created_by == CLIENT
    assert [g.id for g in app.list_goals(episode_id)] == [smart, vague]


def test_activating_a_vague_goal_is_refused_with_the_smart_reasons(app: GoalpathApp) -> None:
    goal_id = state(app, "vague", activate=False)

    with pytest.raises(NotSmartError) as refused:
        app.activate_goal(goal_id, actor=THERAPIST)

    message = str(refused.value)
    assert "specific" in message
    assert "measurable" in message
    assert "time-bound" in message
    assert set(refused.value.report.failed_letters) >= {
        "specific",
        "measurable",
        "time-bound",
    }
    assert app.get_goal(goal_id).status == "proposed"


def test_stating_a_vague_goal_as_active_is_refused_and_nothing_is_stored(
    app: GoalpathApp,
) -> None:
    episode_id = open_standard_episode(app)
    with pytest.raises(NotSmartError):
        app.create_goal(episode_id, CATALOG["vague"].definition, actor=THERAPIST, activate=True)
    assert app.list_goals(episode_id) == []
    assert app.get_episode(episode_id).version == 1


def test_a_refined_vague_goal_can_then_be_activated(app: GoalpathApp) -> None:
    goal_id = state(app, "vague", activate=False)
    panic = CATALOG["panic"].definition
    app.refine_goal(
        goal_id,
        reason="agreed a measure and target in session 2",
        actor=THERAPIST,
        statement=panic.statement,
        measure=panic.measure,
        target=panic.target,
        practices=panic.practices,
    )
    app.activate_goal(goal_id, actor=THERAPIST)

    goal = app.get_goal(goal_id)
    assert goal.status == "active"
    assert goal.definition == panic
    assert [type(e).__name__ for e in app.goal_events(goal_id)] == [
        "Created",
        "Refined",
        "Activated",
    ]
    refined = app.goal_events(goal_id)[1]
    assert isinstance(refined, Goal.Refined)
    assert refined.reason == "agreed a measure and target in session 2"
    assert refined.actor == THERAPIST


def test_an_active_goal_cannot_be_activated_again(app: GoalpathApp) -> None:
    goal_id = state(app)
    with pytest.raises(InvalidCommandError):
        app.activate_goal(goal_id, actor=THERAPIST)


def test_an_active_goal_must_stay_smart_when_refined(app: GoalpathApp) -> None:
    goal_id = state(app)
    rushed = CATALOG["panic-rushed"].definition
    with pytest.raises(NotSmartError):
        app.refine_goal(
            goal_id,
            reason="faster",
            actor=THERAPIST,
            statement=rushed.statement,
            target=rushed.target,
        )
    assert app.get_goal(goal_id).definition == CATALOG["panic"].definition


def test_a_refinement_that_changes_nothing_is_refused(app: GoalpathApp) -> None:
    goal_id = state(app)
    with pytest.raises(InvalidCommandError, match="changes nothing"):
        app.refine_goal(
            goal_id,
            reason="no change",
            actor=THERAPIST,
            statement=CATALOG["panic"].definition.statement,
        )


def test_the_start_date_cannot_be_refined(app: GoalpathApp) -> None:
    goal_id = state(app)
    with pytest.raises(TypeError, match="start_on"):
        app.refine_goal(goal_id, reason="x", actor=THERAPIST, start_on=GOAL_START)  # type: ignore[call-arg]


def test_the_measure_cannot_change_once_set(app: GoalpathApp) -> None:
    goal_id = state(app)
    other = Measure(name="panic attacks", unit="per day", direction="decrease", minimum=0)
    with pytest.raises(InvalidCommandError, match="cannot change"):
        app.refine_goal(goal_id, reason="count daily", actor=THERAPIST, measure=other)
    with pytest.raises(InvalidCommandError, match="cannot change"):
        app.refine_goal(
            goal_id, reason="drop the measure", actor=THERAPIST, measure=None, target=None
        )
    assert app.get_goal(goal_id).definition.measure == PANIC_MEASURE


# -- measurements and corrections -----------------------------------------------


def test_measurements_are_numbered_and_the_latest_is_by_observation_date(
    app: GoalpathApp,
) -> None:
    goal_id = state(app)
    first = app.record_measurement(goal_id, 3, actor=CLIENT, observed_on=date(2026, 4, 6))
    second = app.record_measurement(goal_id, 1, actor=CLIENT, observed_on=date(2026, 4, 20))
    third = app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 13))

    assert (first, second, third) == (1, 2, 3)
    goal = app.get_goal(goal_id)
    series = app.goal_measurements(goal_id)
    assert [m.value for m in series] == [3.0, 1.0, 2.0]
    assert all(isinstance(m.value, float) for m in series)
    assert [m.sequence for m in goal.recent_measurements] == [1, 3, 2]  # by observation
    latest = goal.latest_measurement
    assert latest is not None
    assert latest.sequence == 2
    assert series[0].recorded_by == CLIENT


def test_a_measurement_defaults_to_today(app: GoalpathApp) -> None:
    goal_id = state(app)
    app.record_measurement(goal_id, 2, actor=CLIENT)
    assert app.goal_measurements(goal_id)[0].observed_on == TODAY


def test_measuring_a_goal_without_a_measure_is_refused(app: GoalpathApp) -> None:
    goal_id = state(app, "vague", activate=False)
    with pytest.raises(InvalidCommandError, match="no measure"):
        app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=TODAY)


def test_amending_keeps_the_original_value(app: GoalpathApp) -> None:
    goal_id = state(app)
    app.record_measurement(goal_id, 30, actor=CLIENT, observed_on=date(2026, 4, 6))
    app.correct_measurement(goal_id, 1, reason="typed 30 for 3", actor=THERAPIST, value=3)
    app.correct_measurement(goal_id, 1, reason="it was 4", actor=THERAPIST, value=4)

    measurement = app.goal_measurements(goal_id)[0]
    assert measurement.value == 4.0
    assert measurement.status == "amended"
    assert measurement.original_value == 30.0
    assert measurement.correction_reason == "it was 4"
    measured = app.goal_events(goal_id)[1]
    assert isinstance(measured, Goal.Measured)
    assert measured.value == 30.0  # the recorded value stays in history


def test_voiding_excludes_a_measurement_and_it_cannot_be_corrected_after(
    app: GoalpathApp,
) -> None:
    goal_id = state(app)
    app.record_measurement(goal_id, 3, actor=CLIENT, observed_on=date(2026, 4, 6))
    app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 13))
    app.correct_measurement(goal_id, 2, reason="wrong client", actor=THERAPIST, value=None)

    goal = app.get_goal(goal_id)
    series = app.goal_measurements(goal_id)
    assert [m.sequence for m in goal.recent_measurements] == [1]
    assert (goal.measurement_count, goal.valid_measurement_count) == (2, 1)
    assert series[1].status == "entered-in-error"
    assert series[1].value is None
    assert series[1].original_value == 2.0
    latest = goal.latest_measurement
    assert latest is not None
    assert latest.sequence == 1
    with pytest.raises(InvalidCommandError, match="voided"):
        app.correct_measurement(goal_id, 2, reason="restore", actor=THERAPIST, value=2)
    with pytest.raises(InvalidCommandError, match="voided"):
        app.correct_measurement(goal_id, 2, reason="void again", actor=THERAPIST)


def test_a_correction_to_the_same_value_or_a_missing_measurement_is_refused(
    app: GoalpathApp,
) -> None:
    goal_id = state(app)
    app.record_measurement(goal_id, 3, actor=CLIENT, observed_on=date(2026, 4, 6))
    with pytest.raises(InvalidCommandError, match="nothing to correct"):
        app.correct_measurement(goal_id, 1, reason="same", actor=THERAPIST, value=3)
    for sequence in (0, 2, -1):
        with pytest.raises(InvalidValueError, match="no measurement number"):
            app.correct_measurement(goal_id, sequence, reason="x", actor=THERAPIST, value=1)
    with pytest.raises(InvalidValueError, match="above the range"):
        app.correct_measurement(goal_id, 1, reason="x", actor=THERAPIST, value=51)


# -- reviews ------------------------------------------------------------------------


def test_pause_puts_on_hold_and_resume_reactivates(app: GoalpathApp) -> None:
    goal_id = state(app)
    app.review_goal(
        goal_id,
        achievement="no-change",
        decision="pause",
        actor=THERAPIST,
        reviewed_on=date(2026, 4, 20),
        attainment=-1,
    )
    assert app.get_goal(goal_id).status == "on-hold"
    with pytest.raises(InvalidCommandError, match="only an active goal can be paused"):
        app.review_goal(goal_id, achievement="no-change", decision="pause", actor=THERAPIST)
    # An on-hold goal still takes measurements.
    app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 27))
    app.review_goal(
        goal_id,
        achievement="improving",
        decision="resume",
        actor=THERAPIST,
        reviewed_on=date(2026, 5, 4),
        note="back from leave",
    )
    goal = app.get_goal(goal_id)
    assert goal.status == "active"
    assert len(goal.reviews) == 2
    assert goal.latest_achievement == "improving"
    assert goal.latest_attainment == -1
    assert goal.last_reviewed_on == date(2026, 5, 4)
    assert goal.next_review_due == date(2026, 5, 4) + timedelta(days=28)
    with pytest.raises(InvalidCommandError, match="only an on-hold goal can be resumed"):
        app.review_goal(goal_id, achievement="improving", decision="resume", actor=THERAPIST)


def test_a_proposed_goal_cannot_be_reviewed(app: GoalpathApp) -> None:
    goal_id = state(app, "panic", activate=False)
    with pytest.raises(InvalidCommandError, match="still proposed"):
        app.review_goal(goal_id, achievement="in-progress", decision="continue", actor=THERAPIST)


def test_next_review_is_due_a_cadence_after_the_start_before_any_review(
    app: GoalpathApp,
) -> None:
    goal_id = state(app)
    assert app.get_goal(goal_id).next_review_due == GOAL_START + timedelta(days=28)


# -- retirement ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason_code", "status"),
    [
        ("achieved", "completed"),
        ("entered-in-error", "entered-in-error"),
        ("no-longer-relevant", "cancelled"),
        ("client-discharged", "cancelled"),
    ],
)
def test_retirement_status_follows_the_reason(
    app: GoalpathApp, reason_code: str, status: str
) -> None:
    goal_id = state(app)
    app.retire_goal(
        goal_id,
        reason_code=reason_code,  # type: ignore[arg-type]  # parametrised code
        reason="discussed in session 8",
        actor=THERAPIST,
        retired_on=date(2026, 5, 18),
    )
    goal = app.get_goal(goal_id)
    assert goal.status == status
    assert goal.is_terminal
    assert goal.retirement_reason == reason_code
    assert goal.ended_on == date(2026, 5, 18)
    assert goal.next_review_due is None


def test_a_replaced_goal_names_its_replacement_which_must_exist(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    old = app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    new = app.create_goal(episode_id, CATALOG["panic-slower"].definition, actor=THERAPIST)
    with pytest.raises(InvalidValueError, match="must name the goal"):
        app.retire_goal(old, reason_code="replaced", reason="new measure", actor=THERAPIST)
    with pytest.raises(NotFoundError):
        app.retire_goal(
            old, reason_code="replaced", reason="x", actor=THERAPIST, replaced_by=uuid4()
        )
    with pytest.raises(InvalidValueError, match="by itself"):
        app.retire_goal(old, reason_code="replaced", reason="x", actor=THERAPIST, replaced_by=old)
    with pytest.raises(InvalidValueError, match="only a goal retired as 'replaced'"):
        app.retire_goal(old, reason_code="achieved", reason="x", actor=THERAPIST, replaced_by=new)

    app.retire_goal(
        old, reason_code="replaced", reason="slower pace", actor=THERAPIST, replaced_by=new
    )
    goal = app.get_goal(old)
    assert goal.status == "cancelled"
    assert goal.replaced_by == new


def test_nothing_follows_a_retirement(app: GoalpathApp) -> None:
    goal_id = state(app)
    app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 6))
    app.retire_goal(goal_id, reason_code="achieved", reason="one a week", actor=THERAPIST)
    refusals: list[Callable[[], object]] = [
        lambda: app.record_measurement(goal_id, 1, actor=CLIENT, observed_on=TODAY),
        lambda: app.refine_goal(
            goal_id,
            reason="x",
            actor=THERAPIST,
            statement=CATALOG["panic-slower"].definition.statement,
        ),
        lambda: app.activate_goal(goal_id, actor=THERAPIST),
        lambda: app.correct_measurement(goal_id, 1, reason="x", actor=THERAPIST, value=1),
        lambda: app.review_goal(
            goal_id, achievement="achieved", decision="continue", actor=THERAPIST
        ),
        lambda: app.retire_goal(goal_id, reason_code="achieved", reason="x", actor=THERAPIST),
    ]
    for refusal in refusals:
        with pytest.raises(InvalidCommandError, match="retired"):
            refusal()
    assert app.get_goal(goal_id).version == 3


# -- reads ---------------------------------------------------------------------------


def test_get_goal_at_a_version(app: GoalpathApp) -> None:
    goal_id = state(app)
    app.record_measurement(goal_id, 3, actor=CLIENT, observed_on=date(2026, 4, 6))
    app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 13))

    assert app.goal_measurements(goal_id, version=1) == []
    assert [m.value for m in app.goal_measurements(goal_id, version=2)] == [3.0]
    assert app.get_goal(goal_id, version=3).version == 3
    for bad in (0, 4, -1):
        with pytest.raises(InvalidValueError):
            app.get_goal(goal_id, version=bad)
    with pytest.raises(NotFoundError):
        app.get_goal(uuid4(), version=1)


def test_get_goal_as_of_a_past_time(app: GoalpathApp) -> None:
    before_anything = datetime.now(UTC)
    goal_id = state(app)
    app.record_measurement(goal_id, 3, actor=CLIENT, observed_on=date(2026, 4, 6))
    events = app.goal_events(goal_id)
    between = events[0].timestamp
    app.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 13))
    after = app.goal_events(goal_id)[-1].timestamp

    assert app.get_goal(goal_id, as_of=events[0].timestamp).version == 1
    assert app.get_goal(goal_id, as_of=events[1].timestamp).version == 2
    assert app.goal_measurements(goal_id, as_of=between) == []
    assert len(app.goal_measurements(goal_id, as_of=after)) == 2
    with pytest.raises(NotFoundError, match="not yet stated"):
        app.get_goal(goal_id, as_of=before_anything)
    with pytest.raises(InvalidValueError, match="time zone"):
        app.get_goal(goal_id, as_of=datetime(2026, 4, 1))  # noqa: DTZ001  # the point of the test
    with pytest.raises(InvalidValueError, match="not both"):
        app.get_goal(goal_id, version=1, as_of=after)


def test_list_goals_as_of_shows_the_plan_as_it_stood(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    first = app.create_goal(episode_id, CATALOG["vague"].definition, actor=CLIENT)
    moment = app.episode_events(episode_id)[-1].timestamp
    app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True)

    assert [g.id for g in app.list_goals(episode_id, as_of=moment)] == [first]
    assert app.list_goals(episode_id, as_of=moment)[0].version == 1
    assert len(app.list_goals(episode_id)) == 2


def test_the_plan_as_of_a_goals_creation_time_includes_that_goal(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    goal_id = app.create_goal(episode_id, CATALOG["vague"].definition, actor=CLIENT)
    created_at = app.goal_events(goal_id)[0].timestamp

    assert app.get_goal(goal_id, as_of=created_at).id == goal_id
    assert [g.id for g in app.list_goals(episode_id, as_of=created_at)] == [goal_id]


def test_an_episode_id_is_not_a_goal_id_and_the_reverse(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    goal_id = app.create_goal(episode_id, CATALOG["vague"].definition, actor=CLIENT)
    with pytest.raises(NotFoundError, match="no goal"):
        app.get_goal(episode_id)
    with pytest.raises(NotFoundError, match="no episode"):
        app.get_episode(goal_id)
    with pytest.raises(NotFoundError):
        app.goal_events(episode_id)
    with pytest.raises(NotFoundError):
        app.episode_events(goal_id)


def test_ids_may_be_given_as_text(app: GoalpathApp) -> None:
    goal_id = state(app)
    assert app.get_goal(str(goal_id)).id == goal_id  # type: ignore[arg-type]  # host input
    with pytest.raises(InvalidValueError, match="must be a UUID"):
        app.get_goal("not-a-uuid")  # type: ignore[arg-type]  # host input


# -- episodes --------------------------------------------------------------------------


def test_sessions_are_numbered_in_order_and_dated_sensibly(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    assert app.record_session(episode_id, actor=THERAPIST, held_on=date(2026, 3, 2)) == 1
    assert (
        app.record_session(episode_id, actor=THERAPIST, held_on=date(2026, 3, 9), attended=False)
        == 2
    )
    assert app.record_session(episode_id, actor=THERAPIST, number=3) == 3

    episode = app.get_episode(episode_id)
    assert [s.number for s in episode.sessions] == [1, 2, 3]
    assert episode.sessions[2].held_on == TODAY
    assert episode.sessions_attended == 2
    with pytest.raises(InvalidValueError, match="number 4"):
        app.record_session(episode_id, actor=THERAPIST, number=6)
    with pytest.raises(InvalidValueError, match="before session 3"):
        app.record_session(episode_id, actor=THERAPIST, held_on=date(2026, 5, 1))
    with pytest.raises(InvalidValueError, match="future"):
        app.record_session(episode_id, actor=THERAPIST, held_on=TODAY + timedelta(days=1))
    assert app.get_episode(episode_id).version == 4


def test_a_session_before_the_episode_opened_is_refused(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    with pytest.raises(InvalidValueError, match="before the episode opened"):
        app.record_session(episode_id, actor=THERAPIST, held_on=OPENED_ON - timedelta(days=1))


def test_an_episode_opened_in_the_future_or_without_therapist_is_refused(
    app: GoalpathApp,
) -> None:
    with pytest.raises(InvalidValueError, match="future"):
        app.open_episode(
            client_id="c",
            therapist_ids=["therapist-7"],
            actor=THERAPIST,
            opened_on=TODAY + timedelta(1),
        )
    with pytest.raises(InvalidValueError, match="at least one therapist"):
        app.open_episode(client_id="c", therapist_ids=[], actor=THERAPIST)
    with pytest.raises(InvalidValueError, match="twice"):
        app.open_episode(client_id="c", therapist_ids=["t", "t"], actor=THERAPIST)


def test_a_goal_cannot_start_before_its_episode(app: GoalpathApp) -> None:
    episode_id = app.open_episode(
        client_id="c",
        therapist_ids=["therapist-7"],
        actor=THERAPIST,
        opened_on=GOAL_START + timedelta(1),
    )
    with pytest.raises(InvalidValueError, match="before episode"):
        app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST)


def test_therapists_can_be_assigned_once(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    app.assign_therapist(episode_id, "therapist-9", actor=SUPERVISOR)
    assert app.get_episode(episode_id).therapist_ids == ["therapist-7", "therapist-9"]
    with pytest.raises(InvalidCommandError, match="already assigned"):
        app.assign_therapist(episode_id, "therapist-9", actor=SUPERVISOR)


def test_a_closed_episode_refuses_sessions_goals_therapists_and_closing(
    app: GoalpathApp,
) -> None:
    episode_id = open_standard_episode(app)
    app.record_session(episode_id, actor=THERAPIST, held_on=date(2026, 4, 1))
    with pytest.raises(InvalidValueError, match="before the last recorded activity"):
        app.close_episode(episode_id, reason="x", actor=THERAPIST, closed_on=date(2026, 3, 31))
    with pytest.raises(InvalidValueError, match="reason"):
        app.close_episode(episode_id, reason="  ", actor=THERAPIST)
    app.close_episode(episode_id, reason="discharged", actor=THERAPIST, closed_on=date(2026, 5, 1))

    episode = app.get_episode(episode_id)
    assert episode.is_closed
    assert episode.closed_on == date(2026, 5, 1)
    assert episode.close_reason == "discharged"
    with pytest.raises(InvalidCommandError, match="closed"):
        app.record_session(episode_id, actor=THERAPIST)
    with pytest.raises(InvalidCommandError, match="closed"):
        app.create_goal(episode_id, CATALOG["vague"].definition, actor=CLIENT)
    with pytest.raises(InvalidCommandError, match="closed"):
        app.assign_therapist(episode_id, "therapist-9", actor=SUPERVISOR)
    with pytest.raises(InvalidCommandError, match="closed"):
        app.close_episode(episode_id, reason="again", actor=THERAPIST)
    assert app.get_episode(episode_id).version == 3


def test_episode_events_and_versions(app: GoalpathApp) -> None:
    episode_id = open_standard_episode(app)
    goal_id = app.create_goal(episode_id, CATALOG["vague"].definition, actor=CLIENT)
    app.record_session(episode_id, actor=THERAPIST)
    kinds = [type(e) for e in app.episode_events(episode_id)]
    assert kinds == [Episode.Opened, Episode.GoalAdded, Episode.SessionRecorded]
    assert app.get_episode(episode_id, version=1).goal_ids == []
    assert app.get_episode(episode_id).goal_ids == [goal_id]


def test_a_reopened_application_on_a_shared_store_sees_everything(
    shared_app_factory: AppFactory,
) -> None:
    first = shared_app_factory()
    goal_id = state(first)
    first.record_measurement(goal_id, 2, actor=CLIENT, observed_on=date(2026, 4, 6))
    first.close()
    second = shared_app_factory()
    goal = second.get_goal(goal_id)
    assert goal.version == 2
    assert second.goal_measurements(goal_id)[0].value == 2.0
    assert goal.definition == CATALOG["panic"].definition
