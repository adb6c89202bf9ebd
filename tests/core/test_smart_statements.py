"""SMART on statements as clinicians write them: the statements quoted in issue 14, the corpus.

Each statement gets the verdict a clinician gives it, and its reasons quote
what was read; the labelled corpus agrees on at least 95% of every letter.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from goalpath.core.smart import SmartReport, evaluate_statement
from goalpath.core.statement_reader import read_statement
from tests.core.smart_corpus import LETTERS, agreement, load_corpus, registry_instruments

START = date(2026, 3, 16)
INSTRUMENTS = registry_instruments()


def smart(statement: str) -> SmartReport:
    return evaluate_statement(statement, START, instruments=INSTRUMENTS)


def flags(report: SmartReport) -> str:
    return "".join("Y" if verdict.passed else "N" for verdict in report.verdicts)


def test_walk_to_the_shop_is_time_bound_and_measurable_with_reasons_quoting_the_text() -> None:
    report = smart("Walk to the shop alone 3 times a week, up from 0, within 6 weeks")
    assert flags(report) == "YYYYY"
    assert "'within 6 weeks'" in report.time_bound.reason
    assert "2026-04-27" in report.time_bound.reason
    assert "up from 0" in report.measurable.reason
    assert "3 times a week" in report.measurable.reason


@pytest.mark.parametrize(
    ("statement", "target", "form", "baseline"),
    [
        ("Go to the gym at least 3 times a week, up from once, within 8 weeks", 3, "at least", 1),
        (
            "Drink no more than 14 units a week, down from 30, within 10 weeks",
            14,
            "no more than",
            30,
        ),
        ("Keep my worry episodes under 10 a day, down from 20, within 8 weeks", 10, "under", 20),
        ("Get my PHQ-9 below 10, from 17, by the end of July", 10, "under", 17),
        ("Go from daily cannabis use to 2 days a week within 12 weeks", 2, "to", 7),
        ("Reduce panic attacks from 20 panic attacks a week to 0 within 16 weeks", 0, "to", 20),
        ("Complete a thought record on eleven days out of fourteen, up from two", 11, "to", 2),
    ],
)
def test_targets_thresholds_and_ceilings_are_read(
    statement: str, target: float, form: str, baseline: float
) -> None:
    reading = read_statement(statement, START, instruments=INSTRUMENTS)
    assert reading.target is not None
    assert reading.target.value == target
    assert reading.target_form == form
    assert reading.baseline is not None
    assert reading.baseline.value == baseline


def test_a_score_below_a_threshold_is_read_with_an_instrument_and_a_ceiling() -> None:
    reading = read_statement("Keep my BDI below 33 for the next 3 months", START)
    assert reading.target is not None
    assert reading.target.value == 33
    assert reading.maintenance
    assert reading.target_form == "keep below"


@pytest.mark.parametrize(
    ("phrase", "due"),
    [
        ("by 15 March", date(2027, 3, 15)),
        ("by March 15th", date(2027, 3, 15)),
        ("by 31/03", date(2026, 3, 31)),
        ("by 31/03/2026", date(2026, 3, 31)),
        ("by 2026-05-15", date(2026, 5, 15)),
        ("by the end of May", date(2026, 5, 31)),
        ("by Christmas", date(2026, 12, 25)),
        ("before Easter", date(2026, 4, 5)),
        ("within a month", date(2026, 4, 15)),
        ("within six weeks", date(2026, 4, 27)),
        ("within an 8-week course", date(2026, 5, 11)),
        ("over the next 8 sessions", date(2026, 5, 11)),
        ("by the end of our 20 sessions", date(2026, 8, 3)),
        ("for the next fortnight", date(2026, 3, 30)),
        ("by next Friday", date(2026, 3, 20)),
    ],
)
def test_time_frames_are_resolved_against_the_start_date(phrase: str, due: date) -> None:
    reading = read_statement(f"Walk to the shop alone 3 times a week {phrase}", START)
    assert reading.time_frame is not None, phrase
    assert reading.time_frame.due_on == due


def test_sessions_are_counted_at_the_session_cadence() -> None:
    fortnightly = read_statement(
        "Go out twice a week over the next 8 sessions", START, session_interval_days=14
    )
    assert fortnightly.time_frame is not None
    assert fortnightly.time_frame.due_on == date(2026, 7, 6)


def test_eleven_and_fourteen_are_numbers() -> None:
    reading = read_statement("Phone a friend eleven times in fourteen weeks, up from none", START)
    assert "11" in reading.text
    assert reading.time_frame is not None
    assert reading.time_frame.due_on == date(2026, 6, 22)


def test_phq9_from_20_to_2_is_the_instrument_and_its_range_is_used() -> None:
    report = smart(
        "Bring my PHQ-9 from 20 to 2 over the next 20 sessions "
        "by doing my activity schedule each day"
    )
    reading = read_statement("Bring my PHQ-9 from 20 to 2", START, instruments=INSTRUMENTS)
    assert reading.instrument is not None
    assert reading.instrument.code == "phq-9"
    assert flags(report) == "YYYYY"
    assert "PHQ-9" in report.measurable.reason


def test_units_per_week_are_kept_and_times_a_week_is_not_a_bare_count() -> None:
    drinking = read_statement("Cut my drinking from 30 to 14 units per week by 15 June", START)
    assert drinking.unit == "units per week"
    drives = read_statement("Increase my drives from 0 to 3 times a week within 8 weeks", START)
    assert drives.unit == "times per week"
    assert drives.measure == "drives"


@pytest.mark.parametrize(
    "statement",
    [
        "Climb the stairs at work at least 4 days a week, up from none, within 8 weeks",
        "Describe one feeling to my partner each evening, up from none, over the next 8 sessions",
        "Socialise with a friend at least twice a week, up from once a month, within 3 months",
        "Check the front door lock no more than once before leaving, down from 10, within 10 weeks",
        "Praise my son for one thing each day after school, up from 0, within 8 weeks",
        "Raise my hand to speak in meetings at least once a week, up from never, by Christmas",
    ],
)
def test_behaviours_the_old_word_lists_missed_are_specific(statement: str) -> None:
    report = smart(statement)
    assert report.specific.passed, report.specific.reason
    assert "read a behaviour" in report.specific.reason


def test_everything_to_be_different_is_not_specific() -> None:
    report = smart("I want everything to be different")
    assert not report.specific.passed
    assert "everything" in report.specific.reason
    assert report.specific.suggestion


@pytest.mark.parametrize(
    "statement",
    [
        "Stop procrastinating on coursework by using a daily planner each evening for 6 weeks",
        "Play with my children for 20 minutes after dinner on 4 evenings a week",
        "Raise my mood rating and happiness by scheduling one enjoyable activity daily",
        "Reduce my nightmares about the trauma from 5 a week to 2 within 12 weeks",
        "Improve my wellbeing by walking every morning",
        "Visit my husband's grave once a week as part of my grief work",
    ],
)
def test_areas_the_old_keyword_list_missed_are_relevant(statement: str) -> None:
    assert smart(statement).relevant.passed


def test_one_to_four_walks_in_four_weeks_is_achievable() -> None:
    report = smart(
        "Increase my walks from 1 to 4 a week within 4 weeks by planning them on Sunday evening"
    )
    assert report.achievable.passed, report.achievable.reason


def test_phq9_27_to_0_in_four_weeks_is_not_achievable_and_says_why() -> None:
    report = smart(
        "Bring my PHQ-9 from 27 to 0 within 4 weeks by doing my activity schedule each day"
    )
    assert not report.achievable.passed
    assert "27 to 0" in report.achievable.reason
    assert "PHQ-9" in report.achievable.reason
    assert flags(report) == "YYNYY"


def test_a_gad7_baseline_above_the_scale_is_not_achievable() -> None:
    report = smart(
        "Reduce my GAD-7 from 24 to 10 within 10 weeks by using worry postponement daily"
    )
    assert not report.achievable.passed
    assert "24" in report.achievable.reason
    assert "21" in report.achievable.reason


def test_stopping_heavy_drinking_abruptly_is_refused_by_a_named_safety_rule() -> None:
    unsafe = smart("Stop drinking completely, down from 30 units a day, within 2 weeks")
    assert not unsafe.achievable.passed
    assert "30 units a day" in unsafe.achievable.reason
    assert "withdrawal" in unsafe.achievable.reason
    assert unsafe.achievable.suggestion
    assert "medically supported" in unsafe.achievable.suggestion
    supported = smart(
        "Reduce my drinking from 30 units a day to 0 within 6 weeks with a medically "
        "supported detox arranged by my GP"
    )
    assert supported.achievable.passed


def test_benzodiazepine_and_weight_safety_rules_say_why() -> None:
    benzo = smart("Stop taking my diazepam, down from 30 mg a day to 0, within 1 week")
    assert not benzo.achievable.passed
    assert "benzodiazepine" in benzo.achievable.reason
    weight = smart("Lose 10 kg within 4 weeks by cutting out snacks between meals")
    assert not weight.achievable.passed
    assert "kg a week" in weight.achievable.reason


def test_missing_parts_are_named_in_reasons_and_suggestions() -> None:
    report = smart(
        "Have one meaningful conversation with my partner each week using active listening"
    )
    assert "missing a baseline" in report.measurable.reason
    assert report.measurable.suggestion
    assert "up from 0" in report.measurable.suggestion
    assert report.time_bound.reason == "read no due date"
    vague = smart("Reduce my panic attacks from 4 to 1 a week eventually by practising breathing")
    assert "'eventually'" in vague.time_bound.reason


def test_the_corpus_agrees_on_at_least_95_percent_of_every_letter() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 200
    result = agreement(corpus, INSTRUMENTS)
    shares = {letter: result.share(letter) for letter in LETTERS}
    assert all(share >= 0.95 for share in shares.values()), shares


def test_the_corpus_loader_refuses_a_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text("YYY | too few letters | rationale\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"corpus\.txt:1"):
        load_corpus(path)
