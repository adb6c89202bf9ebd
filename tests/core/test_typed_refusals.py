"""A wrongly typed value is a typed refusal naming its field, never a TypeError or attrs' repr."""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import goalpath.cli.main  # every package's error classes, loaded
import goalpath.exports.fhir  # noqa: F401
from goalpath.core import (
    ERROR_CODES,
    Actor,
    GoalDefinition,
    GoalpathError,
    InvalidValueError,
    Measure,
    Target,
)
from goalpath.exports.documents import error_document
from tests.strategies import GOAL_START, PANIC_MEASURE

VALID: dict[type, dict[str, Any]] = {
    Actor: {"id": "therapist-7", "role": "therapist"},
    Measure: {"name": "panic attacks", "unit": "per week", "direction": "decrease"},
    Target: {"baseline": 3, "value": 1, "due_on": date(2026, 9, 1)},
    GoalDefinition: {
        "statement": "Fewer panic attacks",
        "start_on": GOAL_START,
        "measure": PANIC_MEASURE,
        "target": Target(3, 1, date(2026, 9, 1)),
    },
}
OWNER = {Actor: "actor", Measure: "measure", Target: "target", GoalDefinition: "definition"}

WRONGLY_TYPED = st.one_of(
    st.just(object()),
    st.sampled_from([3, 2.5, True, "panic", b"bytes", [], {}, ("a", 1), date(2026, 1, 1)]),
)
"""Values of the wrong type for most attributes (an attribute whose type it is is skipped)."""


CROSS_FIELD_RULES = (
    "needs both ratings",
    "must be after the start",
    "the range of",
    "needs a measure",
)


def _accepts(kind: type, name: str, value: object) -> bool:
    try:
        kind(**{**VALID[kind], name: value})
    except InvalidValueError:
        return False
    return True


@given(
    st.sampled_from([(kind, f.name) for kind in VALID for f in attrs.fields(kind)]),
    WRONGLY_TYPED,
)
def test_a_wrongly_typed_value_names_its_field_and_what_is_accepted(
    attribute: tuple[type, str], value: object
) -> None:
    kind, name = attribute
    if _accepts(kind, name, value):  # e.g. a number where a number belongs
        return
    with pytest.raises(InvalidValueError) as refused:
        kind(**{**VALID[kind], name: value})
    error = refused.value
    assert "Attribute(" not in str(error)
    assert "<class" not in str(error)
    assert error.code == "invalid-value"
    assert error.accepted
    fields = {f"{OWNER[kind]}.{f.name}" for f in attrs.fields(kind)}
    # Its own field; or a rule across fields refused it (a GAS importance without a
    # difficulty, a baseline outside the measure's range): a field of the same value.
    assert error.field in fields | {"definition.target.baseline", "definition.target.value"}
    if error.field != f"{OWNER[kind]}.{name}":
        assert any(rule in str(error) for rule in CROSS_FIELD_RULES), str(error)


def test_goal_definition_with_a_text_measure_is_a_typed_refusal() -> None:
    with pytest.raises(InvalidValueError) as refused:
        GoalDefinition(statement="Fewer panic attacks", start_on=GOAL_START, measure="panic")  # type: ignore[arg-type]
    assert str(refused.value) == "measure must be a Measure (name, unit, direction); got 'panic'"
    assert refused.value.field == "definition.measure"
    assert refused.value.accepted == "a Measure (name, unit, direction)"


def test_a_code_outside_its_set_lists_the_accepted_codes() -> None:
    with pytest.raises(InvalidValueError) as refused:
        Measure(name="walks", unit="per week", direction="up")  # type: ignore[arg-type]
    assert refused.value.field == "measure.direction"
    assert refused.value.accepted == ("increase", "decrease")
    document = error_document(refused.value)["error"]
    assert document == {
        "type": "InvalidValueError",
        "code": "invalid-value",
        "message": "measure direction must be one of increase, decrease; got 'up'",
        "field": "measure.direction",
        "accepted": ["increase", "decrease"],
    }


def _subclasses(kind: type[GoalpathError]) -> list[type[GoalpathError]]:
    found: list[type[GoalpathError]] = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_error_class_has_a_documented_code() -> None:
    classes: list[type[GoalpathError]] = [GoalpathError, *_subclasses(GoalpathError)]
    assert len(classes) > 25
    for kind in classes:
        assert kind.code in ERROR_CODES, kind
