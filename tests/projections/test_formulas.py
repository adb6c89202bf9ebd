"""Clinical formulas: GAS T-score, reliable change, caseness and recovery, around thresholds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.errors import InvalidValueError
from goalpath.projections import (
    UnknownInstrumentError,
    classify_change,
    clinical_cutoff,
    combine_outcomes,
    gas_t_score,
    installed_conventions,
    reliable_change_index,
)

# -- GAS --------------------------------------------------------------------------


def test_gas_unweighted_worked_example() -> None:
    assert gas_t_score([1, 2, -1]) == pytest.approx(59.13, abs=0.005)


def test_gas_weighted_worked_example() -> None:
    assert gas_t_score([0, 1, -1], [6, 2, 1]) == pytest.approx(51.37, abs=0.005)


def test_gas_all_goals_met_as_expected_is_fifty() -> None:
    assert gas_t_score([0, 0, 0]) == 50


def test_gas_of_no_goals_is_none() -> None:
    assert gas_t_score([]) is None


@pytest.mark.parametrize(
    ("levels", "weights", "message"),
    [
        ([3], None, "from -2 to"),
        ([True], None, "from -2 to"),
        ([0, 1], [1], "one weight per goal"),
        ([0], [-1], "not negative"),
        ([0], [math.nan], "finite"),
    ],
)
def test_gas_refuses_bad_levels_and_weights(
    levels: list[int], weights: list[float] | None, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message):
        gas_t_score(levels, weights)


@settings(max_examples=50)
@given(st.lists(st.integers(-2, 2), min_size=1, max_size=8))
def test_gas_is_symmetric_around_fifty(levels: list[int]) -> None:
    """Law: mirroring every level mirrors the T-score around 50."""
    score = gas_t_score(levels)
    mirrored = gas_t_score([-level for level in levels])
    assert score is not None
    assert mirrored is not None
    assert score - 50 == pytest.approx(50 - mirrored)


# -- reliable change index and cut-off --------------------------------------------


def test_reliable_change_index_follows_jacobson_and_truax() -> None:
    # SD 5, reliability 0.84: SE = 5 * 0.4 = 2, S_diff = 2 * sqrt(2).
    assert reliable_change_index(20, 14, 5, 0.84) == pytest.approx(-6 / (2 * math.sqrt(2)))
    assert abs(reliable_change_index(20, 14, 5, 0.84)) > 1.96
    assert abs(reliable_change_index(20, 15, 5, 0.84)) < 1.96


def test_clinical_cutoff_weights_the_means_by_the_other_sd() -> None:
    # Clinical SD 6, mean 20; functional SD 4, mean 5.
    assert clinical_cutoff(20, 6, 5, 4) == pytest.approx((6 * 5 + 4 * 20) / 10)
    assert clinical_cutoff(20, 5, 10, 5) == 15


def test_rci_and_cutoff_refuse_impossible_parameters() -> None:
    with pytest.raises(InvalidValueError, match="standard deviation"):
        reliable_change_index(1, 2, 0, 0.8)
    with pytest.raises(InvalidValueError, match="reliability"):
        reliable_change_index(1, 2, 5, 1)
    with pytest.raises(InvalidValueError, match="standard deviations"):
        clinical_cutoff(20, 0, 5, 4)


# -- instrument conventions -----------------------------------------------------------


def test_conventions_table_holds_the_nhs_talking_therapies_thresholds() -> None:
    phq9, gad7 = installed_conventions()["phq-9"], installed_conventions()["gad-7"]
    assert (phq9.caseness, phq9.reliable_change, phq9.maximum, phq9.loinc) == (10, 6, 27, "44261-6")
    assert (gad7.caseness, gad7.reliable_change, gad7.maximum, gad7.loinc) == (8, 4, 21, "70274-6")


@pytest.mark.parametrize(
    ("instrument", "score", "case"),
    [("phq-9", 9, False), ("phq-9", 10, True), ("gad-7", 7, False), ("gad-7", 8, True)],
)
def test_caseness_starts_at_the_cut_off(instrument: str, score: float, case: bool) -> None:
    assert classify_change(instrument, score, score).case_at_start is case
    assert classify_change(instrument, score, score).case_at_end is case


@pytest.mark.parametrize(
    ("instrument", "first", "last", "improved", "deteriorated"),
    [
        ("phq-9", 20, 15, False, False),  # 5 points down: not reliable
        ("phq-9", 20, 14, True, False),  # 6 points down: reliable improvement
        ("phq-9", 14, 19, False, False),  # 5 points up: not reliable
        ("phq-9", 14, 20, False, True),  # 6 points up: reliable deterioration
        ("gad-7", 15, 12, False, False),
        ("gad-7", 15, 11, True, False),
        ("gad-7", 11, 14, False, False),
        ("gad-7", 11, 15, False, True),
    ],
)
def test_reliable_change_at_and_around_the_threshold(
    instrument: str, first: float, last: float, improved: bool, deteriorated: bool
) -> None:
    outcome = classify_change(instrument, first, last)
    assert outcome.reliable_improvement is improved
    assert outcome.reliable_deterioration is deteriorated


@pytest.mark.parametrize(
    ("instrument", "first", "last", "recovery", "reliable_recovery"),
    [
        ("phq-9", 10, 9, True, False),  # case to non-case, 1 point: recovery only
        ("phq-9", 15, 9, True, True),  # 6 points and below caseness: reliable recovery
        ("phq-9", 15, 10, False, False),  # still a case at the end
        ("phq-9", 9, 3, False, False),  # not a case at the start: no recovery
        ("gad-7", 8, 7, True, False),
        ("gad-7", 11, 7, True, True),
        ("gad-7", 11, 8, False, False),
        ("gad-7", 7, 0, False, False),
    ],
)
def test_recovery_needs_a_case_at_the_start_and_none_at_the_end(
    instrument: str, first: float, last: float, recovery: bool, reliable_recovery: bool
) -> None:
    outcome = classify_change(instrument, first, last)
    assert outcome.recovery is recovery
    assert outcome.reliable_recovery is reliable_recovery


def test_unknown_instruments_and_out_of_range_scores_are_refused() -> None:
    with pytest.raises(UnknownInstrumentError, match="gad-7, phq-9"):
        classify_change("beck", 10, 5)
    with pytest.raises(InvalidValueError, match="outside PHQ-9"):
        classify_change("phq-9", 28, 5)
    assert classify_change("PHQ-9", 12, 4).instrument == "phq-9"


def test_episode_outcome_combines_measures_as_in_nhs_talking_therapies() -> None:
    depression = classify_change("phq-9", 16, 8)  # case, recovered, reliable improvement
    anxiety_still_case = classify_change("gad-7", 12, 10)
    anxiety_worse = classify_change("gad-7", 6, 11)
    both_recovered = combine_outcomes([depression, classify_change("gad-7", 12, 6)])
    assert both_recovered is not None
    assert both_recovered.recovery
    assert both_recovered.reliable_recovery
    one_still_case = combine_outcomes([depression, anxiety_still_case])
    assert one_still_case is not None
    assert not one_still_case.recovery
    assert one_still_case.reliable_improvement
    mixed = combine_outcomes([depression, anxiety_worse])
    assert mixed is not None
    assert mixed.reliable_deterioration
    assert not mixed.reliable_improvement  # improvement counts only without a deterioration
    assert combine_outcomes([]) is None


@settings(max_examples=100)
@given(st.integers(0, 27), st.integers(0, 27))
def test_phq9_classification_matches_its_definition(first: int, last: int) -> None:
    """Law: every flag follows from the two thresholds alone."""
    outcome = classify_change("phq-9", first, last)
    assert outcome.reliable_improvement == (first - last >= 6)
    assert outcome.reliable_deterioration == (last - first >= 6)
    assert outcome.recovery == (first >= 10 > last)
    assert outcome.reliable_recovery == (outcome.recovery and outcome.reliable_improvement)
