"""SMART laws over many generated statements (issue 14, done-when 3).

Each letter is judged on its own parts: adding a due date changes
Time-bound only, adding a baseline changes Measurable only, and the
spelling of a statement (British or American) changes nothing.
"""

from __future__ import annotations

import os
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.goal_areas import AREA_KEYWORDS, area_words
from goalpath.core.smart import SmartReport, evaluate_statement
from goalpath.core.values import GOAL_AREAS
from tests.core.smart_corpus import registry_instruments
from tests.core.smart_strategies import START, StatementGoal, statement_goals

INSTRUMENTS = registry_instruments()
LAWS = settings(
    max_examples=int(os.environ.get("GOALPATH_SMART_LAW_EXAMPLES", "100")), deadline=None
)
"""A hundred statements per law; set GOALPATH_SMART_LAW_EXAMPLES for a longer search."""


def smart(statement: str) -> SmartReport:
    return evaluate_statement(statement, START, instruments=INSTRUMENTS)


def flags(report: SmartReport) -> str:
    return "".join("Y" if verdict.passed else "N" for verdict in report.verdicts)


def describe(before: str, after: str, first: SmartReport, second: SmartReport) -> str:
    lines = [f"{flags(first)}: {before}", f"{flags(second)}: {after}"]
    for one, other in zip(first.verdicts, second.verdicts, strict=True):
        if one != other:
            lines.append(f"  {one.letter}: {one.reason!r} -> {other.reason!r}")
    return "\n".join(lines)


@LAWS
@given(goal=statement_goals(), spelling=st.sampled_from(["british", "american"]))
def test_adding_a_due_date_passes_time_bound_and_changes_no_other_letter(
    goal: StatementGoal, spelling: str
) -> None:
    """A statement lacking only a due date passes Time-bound once one is added, and only that."""
    without = goal.text(spelling, due=False)  # type: ignore[arg-type]  # sampled from Spelling
    with_due = goal.text(spelling)  # type: ignore[arg-type]
    before, after = smart(without), smart(with_due)
    message = describe(without, with_due, before, after)
    assert flags(before) == "YYYYN", message
    assert after.time_bound.passed, message
    assert flags(before)[:4] == flags(after)[:4], message


@LAWS
@given(goal=statement_goals(), spelling=st.sampled_from(["british", "american"]))
def test_adding_a_baseline_passes_measurable_and_changes_no_other_letter(
    goal: StatementGoal, spelling: str
) -> None:
    """A statement lacking only a baseline passes Measurable once one is added, and only that."""
    without = goal.text(spelling, baseline=False)  # type: ignore[arg-type]
    with_baseline = goal.text(spelling)  # type: ignore[arg-type]
    before, after = smart(without), smart(with_baseline)
    message = describe(without, with_baseline, before, after)
    assert flags(before) == "YNYYY", message
    assert after.measurable.passed, message
    assert flags(before)[0] + flags(before)[2:] == flags(after)[0] + flags(after)[2:], message


@LAWS
@given(goal=statement_goals(), baseline=st.booleans(), due=st.booleans())
def test_british_and_american_spellings_get_identical_verdicts(
    goal: StatementGoal, baseline: bool, due: bool
) -> None:
    """The same goal written in British or American spelling gets the same five verdicts."""
    british = goal.text("british", baseline=baseline, due=due)
    american = goal.text("american", baseline=baseline, due=due)
    first, second = smart(british), smart(american)
    assert first.verdicts == second.verdicts, describe(british, american, first, second)


@LAWS
@given(goal=statement_goals())
def test_a_generated_goal_with_every_part_is_smart(goal: StatementGoal) -> None:
    """A realistic goal with behaviour, situation, target, baseline and due date passes all five."""
    statement = goal.text()
    report = smart(statement)
    assert report.passed, describe(statement, statement, report, report)


@LAWS
@given(
    text=st.lists(
        st.sampled_from(["repaint", "pain", "my", "walk", "sidewalk", "-", "y-bocs", " ", "anx"]),
        max_size=8,
    ).map("".join)
    | st.text(alphabet="abcdefghijklmnopqrstuvwxyz -'", max_size=40)
)
def test_area_keywords_match_only_at_the_start_of_a_word(text: str) -> None:
    """A keyword counts where no letter comes before it, as the pattern (?<![a-z])keyword says."""
    for area in GOAL_AREAS:
        expected = [
            keyword
            for keyword in AREA_KEYWORDS[area]
            if re.search(r"(?<![a-z])" + re.escape(keyword), text)
        ]
        assert area_words(area, text) == expected
