"""Templates: construction checks, parameter conversion, SMART instantiation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.errors import GoalpathError, InvalidValueError, NotSmartError
from goalpath.core.smart import evaluate_smart
from goalpath.core.values import Measure
from goalpath.modalities import (
    InvalidTemplateError,
    Template,
    TemplateNotSmartError,
    TemplateParameter,
    TemplateParameterError,
    cbt,
    load_plugins,
    mindfulness,
    psychodynamic,
)

from .strategies import counting_template, start_dates

START = date(2026, 3, 2)
BUILTIN = {"cbt": cbt, "mindfulness": mindfulness, "psychodynamic": psychodynamic}
BUILTIN_TEMPLATES = [template for module in BUILTIN.values() for template in module.TEMPLATES]


@pytest.mark.parametrize("template", BUILTIN_TEMPLATES, ids=lambda template: template.id)
def test_builtin_template_with_example_parameters_is_smart(template: Template) -> None:
    instance = template.instantiate(template.example_parameters(), START)
    assert evaluate_smart(instance.definition).passed
    assert instance.template_id == template.id
    assert instance.template_version == template.version
    assert instance.definition.area == template.area
    assert instance.definition.focus == template.focus
    assert "{" not in instance.definition.statement


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_each_modality_has_four_templates_and_a_strength_building_one(name: str) -> None:
    templates = BUILTIN[name].TEMPLATES
    assert len(templates) >= 4
    assert {template.modality for template in templates} == {name}
    assert any(template.focus == "strength-building" for template in templates)
    assert any(template.focus == "symptom-reduction" for template in templates)


def test_builtin_templates_are_found_through_entry_points() -> None:
    plugins = load_plugins(environ={})
    found = {template.id for template in plugins.templates()}
    assert {template.id for template in BUILTIN_TEMPLATES} <= found
    assert plugins.template_plugin("cbt.panic-frequency") == "cbt"


def test_parameters_given_as_text_are_converted() -> None:
    instance = cbt.PANIC_FREQUENCY.instantiate(
        {"baseline": "5", "target": "2", "weeks": "10", "coping_skill": " box breathing "},
        START,
    )
    target = instance.definition.target
    assert target is not None
    assert (target.baseline, target.value) == (5.0, 2.0)
    assert target.due_on == START + timedelta(weeks=10)
    assert "by practising box breathing when" in instance.definition.statement
    assert instance.definition.practices == (
        "practising box breathing daily, not only during panic",
    )
    assert instance.parameter_values["weeks"] == 10


def test_defaults_fill_in_missing_parameters() -> None:
    instance = cbt.PANIC_FREQUENCY.instantiate({}, START)
    assert instance.parameter_values == cbt.PANIC_FREQUENCY.default_parameters()
    assert instance.definition.review_every_days == cbt.PANIC_FREQUENCY.review_every_days


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"basline": "3"}, "no parameter 'basline'; accepted parameters: baseline, target"),
        ({"baseline": "three"}, "baseline must be a number from 1 to 70; got 'three'"),
        ({"baseline": "nan"}, "baseline must be a number"),
        ({"baseline": "0"}, "baseline must be a number from 1 to 70; got 0"),
        ({"target": "-1"}, "target must be a number from 0 to 70; got -1"),
        ({"weeks": "2.5"}, "weeks must be a whole number from 1 to 52; got '2.5'"),
        ({"weeks": "53"}, "weeks must be a whole number from 1 to 52; got 53"),
        ({"coping_skill": "   "}, "coping_skill must be a text"),
        ({"coping_skill": "x" * 201}, "got 201 characters"),
        ({"baseline": True}, "baseline must be a number"),
    ],
)
def test_bad_parameters_are_refused_with_what_is_accepted(
    params: dict[str, Any], expected: str
) -> None:
    with pytest.raises(TemplateParameterError) as raised:
        cbt.PANIC_FREQUENCY.instantiate(params, START)
    assert expected in str(raised.value)
    assert isinstance(raised.value, InvalidValueError)


def test_parameters_that_are_not_smart_are_refused_with_the_report() -> None:
    with pytest.raises(TemplateNotSmartError) as raised:
        cbt.PANIC_FREQUENCY.instantiate({"baseline": "10", "target": "0", "weeks": "1"}, START)
    assert "achievable" in str(raised.value)
    assert isinstance(raised.value, NotSmartError)
    report: Any = raised.value.report
    assert not report.achievable.passed


def test_a_target_that_is_no_improvement_is_refused() -> None:
    with pytest.raises(TemplateNotSmartError, match="measurable"):
        cbt.PANIC_FREQUENCY.instantiate({"baseline": "3", "target": "5"}, START)


def test_a_start_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(TemplateParameterError, match="start date must be a date"):
        cbt.PANIC_FREQUENCY.instantiate({}, "2026-01-01")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    baseline=st.integers(min_value=0, max_value=80),
    target=st.integers(min_value=-2, max_value=80),
    weeks=st.integers(min_value=-1, max_value=60),
    start_on=start_dates,
)
def test_instantiation_either_gives_a_smart_goal_or_a_typed_refusal(
    baseline: int, target: int, weeks: int, start_on: date
) -> None:
    """Law: any parameters give a SMART goal with exactly those numbers, or a typed refusal."""
    params = {"baseline": str(baseline), "target": str(target), "weeks": str(weeks)}
    try:
        instance = cbt.PANIC_FREQUENCY.instantiate(params, start_on)
    except TemplateParameterError:
        return
    definition = instance.definition
    assert evaluate_smart(definition).passed
    assert definition.target is not None
    assert (definition.target.baseline, definition.target.value) == (baseline, target)
    assert definition.target.due_on == start_on + timedelta(weeks=weeks)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"template_id": "walks"}, "modality and a name joined by a dot"),
        ({"template_id": "Test.Walks"}, "lower-case"),
        ({"modality": "other"}, "must start with its modality 'other'"),
        ({"version": "1.0"}, "MAJOR.MINOR.PATCH"),
        ({"area": "happiness"}, "goal area must be one of"),
        ({"focus": "both"}, "focus must be one of"),
        ({"measure": "days"}, "must be a goalpath.core.values.Measure"),
        ({"statement": "I will walk on {days} days"}, "placeholder days is not a parameter"),
        ({"statement": "I will walk {target:.1f} days"}, "is not accepted"),
        ({"statement": "I will walk {target days"}, "not a valid pattern"),
        ({"parameters": ()}, "parameter 'baseline' is required"),
        ({"duration_weeks": 60}, "duration must be a whole number from 1 to 52"),
        ({"review_every_days": 0}, "review cadence in days"),
        ({"parameters": "baseline"}, "must be a list of TemplateParameter"),
    ],
)
def test_malformed_templates_cannot_be_built(changes: dict[str, Any], expected: str) -> None:
    template_id = changes.pop("template_id", "test.walks")
    if "modality" not in changes and "." not in template_id:
        changes["modality"] = "test"
    with pytest.raises(InvalidTemplateError) as raised:
        counting_template(template_id, **changes)
    assert expected in str(raised.value)


def test_parameter_checks_at_construction() -> None:
    base = counting_template()
    weeks = TemplateParameter("weeks", "Weeks.", 4, 4, kind="integer")
    with pytest.raises(InvalidTemplateError, match="given to every template"):
        counting_template(parameters=(*base.parameters, weeks))
    unused = TemplateParameter("place", "Where.", "park", "park", kind="text")
    with pytest.raises(InvalidTemplateError, match="declared but not used"):
        counting_template(parameters=(*base.parameters, unused))
    with pytest.raises(InvalidTemplateError, match="declared twice"):
        counting_template(parameters=(*base.parameters, base.parameters[0]))
    with pytest.raises(InvalidTemplateError, match="the default of parameter baseline"):
        TemplateParameter("baseline", "Days now.", 9, 2, minimum=0, maximum=6)
    with pytest.raises(InvalidTemplateError, match="minimum 5 must be below maximum 1"):
        TemplateParameter("baseline", "Days now.", 2, 2, minimum=5, maximum=1)
    with pytest.raises(InvalidTemplateError, match="text parameter has no minimum"):
        TemplateParameter("place", "Where.", "park", "park", kind="text", minimum=1)
    with pytest.raises(InvalidTemplateError, match="parameter name must start"):
        TemplateParameter("Place", "Where.", "park", "park", kind="text")
    outside = TemplateParameter("baseline", "Days now.", 9, 2, minimum=0)
    with pytest.raises(InvalidTemplateError, match="above the range"):
        counting_template(parameters=(outside, base.parameters[1]))


def test_measure_of_an_instrument_keeps_its_code_and_range() -> None:
    measure = cbt.LOW_MOOD_PHQ9.measure
    assert measure == Measure(
        "PHQ-9 total score", "points", "decrease", instrument="phq-9", minimum=0, maximum=27
    )


def test_every_refusal_is_a_goalpath_error() -> None:
    assert issubclass(TemplateParameterError, GoalpathError)
    assert issubclass(InvalidTemplateError, GoalpathError)
