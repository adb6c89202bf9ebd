"""The conformance kit passes on every built-in plugin and catches a broken one."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace

import pytest

from goalpath.modalities import cbt, measures, mindfulness, psychodynamic
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.templates import Template
from goalpath.modalities.testing import (
    PluginContract,
    assert_conforms,
    check_entry_point,
    check_instrument,
    check_plugin,
    check_template,
)

from .strategies import counting_template, template_plugin

BUILTINS: dict[str, ModuleType] = {
    "measures": measures,
    "cbt": cbt,
    "mindfulness": mindfulness,
    "psychodynamic": psychodynamic,
}


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_the_kit_passes_on_every_builtin_plugin(name: str) -> None:
    report = assert_conforms(BUILTINS[name], name)
    assert report.passed
    assert report.templates or report.instruments
    assert check_entry_point(name, BUILTINS[name]) == []


class TestCbtContract(PluginContract):
    plugin = cbt
    plugin_name = "cbt"
    entry_point_installed = True


class TestMeasuresContract(PluginContract):
    plugin = measures
    plugin_name = "measures"
    entry_point_installed = True


def test_the_kit_reports_a_plugin_that_fails_to_load() -> None:
    report = check_plugin(SimpleNamespace(), "empty")
    assert not report.passed
    assert "implements no goalpath hook" in report.problems[0]
    with pytest.raises(AssertionError, match="plugin 'empty' does not conform"):
        assert_conforms(SimpleNamespace(), "empty")


def test_the_contract_fails_for_a_broken_plugin() -> None:
    class Broken(PluginContract):
        plugin = template_plugin(counting_template("broken.walks", duration_weeks=1))
        plugin_name = "broken"

    with pytest.raises(AssertionError, match="not SMART"):
        Broken().test_plugin_loads_without_problems()


def test_check_template_reports_parameters_accepted_outside_their_range() -> None:
    class Lenient(Template):
        def instantiate(self, params: object, start_on: object) -> object:  # type: ignore[override]  # noqa: ARG002
            return super().instantiate({}, start_on)  # type: ignore[arg-type]

    lenient = Lenient(**{field: getattr(cbt.PANIC_FREQUENCY, field) for field in _fields()})
    problems = check_template(lenient)
    assert any("an unknown parameter was accepted" in problem for problem in problems)
    assert any("baseline below its minimum was accepted" in problem for problem in problems)


def _fields() -> list[str]:
    import attrs  # noqa: PLC0415

    return [field.name for field in attrs.fields(Template)]


def test_check_instrument_catches_inverted_thresholds() -> None:
    assert check_instrument(measures.PHQ9) == []
    upside_down = Instrument(
        id="wellbeing",
        name="wellbeing",
        unit="points",
        direction="increase",
        minimum=0,
        maximum=20,
        caseness=20,
        description="Higher is better, yet the best possible score is marked as a case.",
    )
    problems = check_instrument(upside_down)
    assert any("the best score 20 counts as a case" in problem for problem in problems)


def test_check_entry_point_explains_a_missing_one() -> None:
    (problem,) = check_entry_point("no-such-plugin")
    assert '[project.entry-points."goalpath.modalities"]' in problem
