"""SMART evaluation: one verdict per letter, with a reason and a suggestion when it fails."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goalpath.core.smart import (
    MAX_HORIZON_DAYS,
    MIN_HORIZON_DAYS,
    draft_definition,
    evaluate_smart,
)
from goalpath.core.values import GoalDefinition, Measure, Target
from tests.strategies import (
    CATALOG,
    CONCERNS,
    GOAL_START,
    PANIC_MEASURE,
    PANIC_STATEMENT,
    VAGUE_STATEMENT,
    goal_definitions,
)

START = date(2026, 3, 16)


def test_vague_goal_fails_specific_measurable_time_bound_with_reasons_and_suggestions() -> None:
    report = evaluate_smart(GoalDefinition(statement=VAGUE_STATEMENT, start_on=START))

    assert not report.passed
    for verdict in (report.specific, report.measurable, report.time_bound):
        assert not verdict.passed
        assert verdict.reason.strip()
        assert verdict.suggestion
    assert {"specific", "measurable", "time-bound"} <= set(report.failed_letters)
    assert "anxious" in report.specific.reason
    assert "measure" in report.measurable.reason
    assert "due date" in report.time_bound.reason


def test_panic_goal_drafted_from_its_statement_passes_all_five_letters() -> None:
    definition = draft_definition(PANIC_STATEMENT, START)

    assert definition.measure is not None
    assert definition.measure.name == "panic attacks"
    assert definition.measure.direction == "decrease"
    assert definition.target == Target(baseline=3, value=1, due_on=START + timedelta(weeks=6))
    assert definition.practices == ("practising daily breathing exercises",)
    report = evaluate_smart(definition, CONCERNS)
    assert report.passed, report
    assert report.failed_letters == ()
    assert all(verdict.suggestion is None for verdict in report.verdicts)
    assert report.summary() == "S M A R T"


def test_summary_marks_failed_letters_in_lower_case() -> None:
    report = evaluate_smart(GoalDefinition(statement=VAGUE_STATEMENT, start_on=START))
    letters = report.summary().split()
    assert [letter.isupper() for letter in letters] == [v.passed for v in report.verdicts]


def test_achievable_flags_reducing_a_frequent_symptom_to_zero_within_a_week() -> None:
    definition = draft_definition(
        "I will reduce my panic attacks from 10 to 0 per week within 1 week "
        "by practising daily breathing exercises",
        START,
    )
    report = evaluate_smart(definition, CONCERNS)

    assert not report.achievable.passed
    assert "per week" in report.achievable.reason
    assert report.achievable.suggestion
    assert report.failed_letters == ("achievable",)


def _paced(baseline: float, value: float, days: int) -> GoalDefinition:
    return GoalDefinition(
        statement=PANIC_STATEMENT,
        start_on=START,
        measure=PANIC_MEASURE,
        target=Target(baseline=baseline, value=value, due_on=START + timedelta(days=days)),
    )


def test_achievable_accepts_half_the_baseline_per_week_and_refuses_more() -> None:
    assert evaluate_smart(_paced(4, 2, 7)).achievable.passed
    assert not evaluate_smart(_paced(4, 1.9, 7)).achievable.passed
    # The same step over two weeks is a plausible pace.
    assert evaluate_smart(_paced(4, 1, 14)).achievable.passed


def test_achievable_with_zero_baseline_uses_the_measure_range() -> None:
    measure = Measure(name="walks", unit="per week", direction="increase", minimum=0, maximum=14)
    fast = GoalDefinition(
        statement="I will walk every day in the park with my dog for twenty minutes",
        start_on=START,
        measure=measure,
        target=Target(baseline=0, value=14, due_on=START + timedelta(days=7)),
    )
    slow = GoalDefinition(
        statement=fast.statement,
        start_on=START,
        measure=measure,
        target=Target(baseline=0, value=3, due_on=START + timedelta(days=28)),
    )
    assert not evaluate_smart(fast).achievable.passed
    assert evaluate_smart(slow).achievable.passed


@pytest.mark.parametrize(
    ("days", "passes"),
    [
        (MIN_HORIZON_DAYS - 1, False),
        (MIN_HORIZON_DAYS, True),
        (MAX_HORIZON_DAYS, True),
        (MAX_HORIZON_DAYS + 1, False),
    ],
)
def test_time_bound_horizon_boundaries(days: int, passes: bool) -> None:
    verdict = evaluate_smart(_paced(3, 2.5, days)).time_bound
    assert verdict.passed is passes
    assert str(days) in verdict.reason
    assert (verdict.suggestion is None) is passes


def test_time_bound_horizon_constants_are_a_week_and_a_year() -> None:
    assert MIN_HORIZON_DAYS == 7
    assert MAX_HORIZON_DAYS == 366


def test_measurable_refuses_a_target_that_is_not_an_improvement() -> None:
    worse = _paced(3, 4, 42)
    verdict = evaluate_smart(worse).measurable
    assert not verdict.passed
    assert "not an improvement" in verdict.reason
    assert verdict.suggestion
    assert "below" in verdict.suggestion


def test_relevant_needs_a_goal_area() -> None:
    definition = GoalDefinition(
        statement="I will tidy the garden shed every Saturday morning", start_on=START
    )
    assert not evaluate_smart(definition).relevant.passed
    explicit = GoalDefinition(
        statement=definition.statement, start_on=START, area="behavioural-change"
    )
    assert evaluate_smart(explicit).relevant.passed


def test_relevant_needs_a_link_to_the_presenting_concerns_unless_the_area_is_set() -> None:
    definition = draft_definition(PANIC_STATEMENT, START)
    assert evaluate_smart(definition, ("panic attacks",)).relevant.passed
    unrelated = evaluate_smart(definition, ("low mood after bereavement",)).relevant
    assert not unrelated.passed
    assert "presenting concern" in unrelated.reason
    explicit = draft_definition(PANIC_STATEMENT, START, area="symptom-relief")
    assert evaluate_smart(explicit, ("low mood after bereavement",)).relevant.passed


def test_draft_definition_lets_explicit_values_win_over_the_text() -> None:
    target = Target(baseline=3, value=2, due_on=START + timedelta(weeks=10))
    definition = draft_definition(PANIC_STATEMENT, START, measure=PANIC_MEASURE, target=target)
    assert definition.measure == PANIC_MEASURE
    assert definition.target == target


def test_draft_definition_of_a_vague_statement_has_no_measure_or_target() -> None:
    definition = draft_definition(VAGUE_STATEMENT, START)
    assert definition.measure is None
    assert definition.target is None


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_catalog_smartness_is_what_the_evaluation_says(key: str) -> None:
    """The stateful model trusts the catalog; this keeps the catalog honest."""
    entry = CATALOG[key]
    assert evaluate_smart(entry.definition, CONCERNS).passed is entry.smart


@given(goal_definitions(GOAL_START), st.lists(st.text(min_size=1, max_size=30), max_size=3))
def test_evaluation_is_a_total_pure_function(
    definition: GoalDefinition, concerns: list[str]
) -> None:
    """Law: any valid definition gets five verdicts, the same ones twice, each explained.

    A failed letter always carries a suggestion a clinician can act on.
    """
    first = evaluate_smart(definition, concerns)
    assert first == evaluate_smart(definition, tuple(concerns))
    assert [v.letter for v in first.verdicts] == [
        "specific",
        "measurable",
        "achievable",
        "relevant",
        "time-bound",
    ]
    assert first.passed is all(v.passed for v in first.verdicts)
    for verdict in first.verdicts:
        assert verdict.reason.strip()
        if not verdict.passed:
            assert verdict.suggestion
            assert verdict.suggestion.strip()


@given(goal_definitions(GOAL_START, measured=False))
def test_a_goal_without_a_measure_is_never_smart(definition: GoalDefinition) -> None:
    """Law: without a measure and a target, given or read, no goal is Measurable or SMART.

    Achievable and Time-bound are judged on their own parts (issue 14): a goal
    with nothing unrealistic in it is not made unachievable by a missing measure.
    """
    report = evaluate_smart(definition)
    assert not report.measurable.passed
    assert not report.passed
