"""The conformance kit passes on every built-in plugin and catches a broken one."""

from __future__ import annotations

from types import ModuleType, SimpleNamespace

import pytest

from goalpath.core.values import GoalDefinition
from goalpath.modalities import Intervention, cbt, hookimpl, measures, mindfulness, psychodynamic
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

from .strategies import counting_template, measure_plugin, template_plugin

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


def _chatty_plugin() -> SimpleNamespace:
    """A plugin with a template of its own that suggests for every goal, whatever its modality."""

    @hookimpl
    def goalpath_suggest_interventions(
        definition: GoalDefinition, template: Template | None
    ) -> list[Intervention]:
        del definition, template
        return [Intervention("Chatty walks", "Suggested for every goal, wanted or not.")]

    plugin = template_plugin(counting_template("chatty.walks"))
    plugin.goalpath_suggest_interventions = goalpath_suggest_interventions
    return plugin


def test_the_kit_fails_on_a_plugin_that_suggests_for_other_modalities() -> None:
    report = check_plugin(_chatty_plugin(), "chatty")
    silence = [problem for problem in report.problems if "another modality" in problem]
    assert silence
    assert any("'cbt." in problem for problem in silence)

    class Chatty(PluginContract):
        plugin = _chatty_plugin()
        plugin_name = "chatty"
        entry_point_installed = False

    with pytest.raises(AssertionError, match="a template of another modality"):
        Chatty().test_suggestions_stay_silent_for_other_modalities()


def test_every_contract_test_fails_when_the_plugin_does_not_load() -> None:
    class Unloadable(PluginContract):
        plugin = SimpleNamespace()  # implements no hook
        plugin_name = "unloadable"
        entry_point_installed = False

    contract = Unloadable()
    for test in (
        contract.test_plugin_loads_without_problems,
        contract.test_templates_instantiate_and_refuse_bad_parameters,
        contract.test_instruments_are_consistent,
        contract.test_suggestions_stay_silent_for_other_modalities,
    ):
        with pytest.raises(AssertionError, match="did not load"):
            test()


def test_the_kit_reports_a_clash_with_the_installed_plugins() -> None:
    rival = Instrument(
        id="gad-7",
        name="another GAD-7",
        unit="points",
        direction="decrease",
        minimum=0,
        maximum=21,
        description="A rival registration.",
    )
    report = check_plugin(measure_plugin(rival), "rival")
    assert any(
        "beside the installed plugins" in problem and "'gad-7'" in problem
        for problem in report.problems
    )


def test_the_entry_point_is_checked_by_default() -> None:
    class Misnamed(PluginContract):
        plugin = cbt
        plugin_name = "cbt-misnamed"

    with pytest.raises(AssertionError, match="no entry point 'cbt-misnamed'"):
        Misnamed().test_entry_point()
