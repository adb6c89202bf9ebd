"""Loading plugins: discovery, isolation of broken plugins, duplicates, disabling."""

from __future__ import annotations

import sys
from datetime import date
from importlib.metadata import EntryPoint
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.values import Actor, GoalDefinition, Measure
from goalpath.modalities import (
    DuplicateContributionError,
    Intervention,
    InvalidContributionError,
    PluginLoadError,
    Plugins,
    Template,
    TemplateParameter,
    TemplateRegistry,
    UnknownInstrumentError,
    UnknownTemplateError,
    cbt,
    disabled_from_environment,
    hookimpl,
    instantiate_template,
    load_plugins,
    measures,
)
from goalpath.modalities.errors import ModalityClaimedError
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.manager import ENTRY_POINT_GROUP

from .strategies import counting_template, measure_plugin, template_plugin

THERAPIST = Actor("therapist-1", "therapist")
START = date(2026, 3, 2)


def loaded(plugins: Plugins) -> set[str]:
    return {status.name for status in plugins.statuses if status.loaded}


def with_builtins(**extra: object) -> Plugins:
    """Load the built-in plugins plus ``extra``, ignoring installed entry points."""
    given: dict[str, object] = {"measures": measures, "cbt": cbt, **extra}
    return load_plugins(entry_points=[], plugins=given, environ={})


def create_goal_from(plugins: Plugins, template_id: str) -> tuple[GoalpathApp, Any]:
    app = GoalpathApp(today=lambda: START)
    episode_id = app.open_episode(
        client_id="client-1", therapist_ids=["therapist-1"], actor=THERAPIST, opened_on=START
    )
    instance = instantiate_template(template_id, {}, START, plugins)
    goal_id = app.create_goal(
        episode_id,
        instance.definition,
        actor=THERAPIST,
        template_id=instance.template_id,
        template_version=instance.template_version,
    )
    return app, goal_id


# -- discovery -------------------------------------------------------------------------


def test_installed_example_plugin_is_found_through_its_entry_point() -> None:
    plugins = load_plugins(environ={})
    status = plugins.status("act")
    assert status.loaded, (
        "install the example plugin: pip install -e examples/goalpath-example-plugin"
    )
    assert status.distribution == "goalpath-example-plugin"
    assert status.version == "0.1.0"
    assert "act.valued-actions" in status.templates
    assert "valued-living" in status.instruments
    assert [template.id for template in plugins.templates("act")] == [
        "act.living-by-values",
        "act.valued-actions",
    ]


def test_a_goal_created_from_the_example_plugin_records_template_id_and_version() -> None:
    app, goal_id = create_goal_from(load_plugins(environ={}), "act.valued-actions")
    created = app.goal_events(goal_id)[0]
    assert created.template_id == "act.valued-actions"  # type: ignore[attr-defined]
    assert created.template_version == "1.0.0"  # type: ignore[attr-defined]
    goal = app.get_goal(goal_id)
    assert goal.template_id == "act.valued-actions"
    assert "valued actions" in goal.definition.statement or goal.definition.measure is not None


def test_builtin_plugins_report_their_distribution_and_hooks() -> None:
    plugins = load_plugins(environ={})
    status = plugins.status("cbt")
    assert status.distribution == "goalpath"
    assert status.hooks == ("goalpath_register_templates", "goalpath_suggest_interventions")
    assert plugins.status("measures").instruments == ("gad-7", "phq-9", "suds")
    assert plugins.problems == ()


def test_instantiate_template_loads_installed_plugins_when_none_are_given() -> None:
    instance = instantiate_template("cbt.panic-frequency", {"baseline": "3"}, START)
    assert instance.template_id == "cbt.panic-frequency"
    assert instance.smart.passed


# -- a plugin that raises on import -----------------------------------------------------


def test_a_plugin_that_raises_on_import_is_reported_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "goalpath_test_broken.py").write_text("raise RuntimeError('missing licence')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "goalpath_test_broken", raising=False)
    broken = EntryPoint("broken", "goalpath_test_broken", "goalpath.modalities")
    builtin = EntryPoint("cbt", "goalpath.modalities.cbt", "goalpath.modalities")
    plugins = load_plugins(
        entry_points=[broken, builtin], plugins={"measures": measures}, environ={}
    )
    status = plugins.status("broken")
    assert status.state == "failed"
    assert status.distribution is None
    assert "RuntimeError: missing licence" in status.problems[0]
    (problem,) = plugins.problems
    assert isinstance(problem, PluginLoadError)
    assert problem.plugin == "broken"
    assert "plugin 'broken'" in str(problem)
    assert loaded(plugins) == {"cbt", "measures"}
    app, goal_id = create_goal_from(plugins, "cbt.panic-frequency")
    assert app.get_goal(goal_id).template_id == "cbt.panic-frequency"


def test_a_hook_that_raises_fails_only_its_plugin() -> None:
    @hookimpl
    def goalpath_register_templates(registry: TemplateRegistry) -> None:
        registry.add(counting_template("flaky.walks"))
        raise ConnectionError("template server unreachable")

    flaky = SimpleNamespace(goalpath_register_templates=goalpath_register_templates)
    plugins = with_builtins(flaky=flaky)
    status = plugins.status("flaky")
    assert status.state == "failed"
    assert "ConnectionError: template server unreachable" in status.problems[0]
    # all or nothing: the template added before the failure is not used either
    with pytest.raises(UnknownTemplateError):
        plugins.template("flaky.walks")
    assert loaded(plugins) == {"cbt", "measures"}


# -- a plugin that returns an invalid template -----------------------------------------


def test_a_plugin_that_adds_an_invalid_template_is_refused_by_name() -> None:
    @hookimpl
    def goalpath_register_templates(registry: TemplateRegistry) -> None:
        registry.add({"id": "sloppy.walks"})  # type: ignore[arg-type]

    sloppy = SimpleNamespace(goalpath_register_templates=goalpath_register_templates)
    plugins = with_builtins(sloppy=sloppy)
    (problem,) = plugins.problems
    assert isinstance(problem, InvalidContributionError)
    assert problem.plugin == "sloppy"
    assert "not a Template" in str(problem)
    assert plugins.status("sloppy").state == "failed"
    assert loaded(plugins) == {"cbt", "measures"}
    assert plugins.template("cbt.panic-frequency").id == "cbt.panic-frequency"


def test_a_template_whose_defaults_are_not_smart_is_refused_by_name() -> None:
    too_fast = counting_template("hasty.walks", duration_weeks=1)
    plugins = with_builtins(hasty=template_plugin(too_fast))
    (problem,) = plugins.problems
    assert isinstance(problem, InvalidContributionError)
    assert problem.plugin == "hasty"
    assert "with its defaults" in str(problem)
    assert "not SMART" in str(problem)
    assert loaded(plugins) == {"cbt", "measures"}


def test_a_template_built_badly_inside_the_hook_is_reported_by_name() -> None:
    @hookimpl
    def goalpath_register_templates(registry: TemplateRegistry) -> None:
        registry.add(counting_template("typo.walks", version="one"))

    typo = SimpleNamespace(goalpath_register_templates=goalpath_register_templates)
    plugins = with_builtins(typo=typo)
    (problem,) = plugins.problems
    assert isinstance(problem, InvalidContributionError)
    assert problem.plugin == "typo"
    assert "MAJOR.MINOR.PATCH" in str(problem)


def test_a_template_added_twice_by_one_plugin_is_refused() -> None:
    twice = template_plugin(counting_template("twice.walks"), counting_template("twice.walks"))
    plugins = with_builtins(twice=twice)
    assert "added twice" in plugins.status("twice").problems[0]


# -- two plugins with the same template id ----------------------------------------------


def test_two_plugins_claiming_one_modality_are_both_named_and_neither_is_used() -> None:
    first = template_plugin(counting_template("walk.daily"), counting_template("walk.first"))
    second = template_plugin(counting_template("walk.daily"), counting_template("walk.second"))
    plugins = with_builtins(first=first, second=second)
    assert {type(problem) for problem in plugins.problems} == {ModalityClaimedError}
    assert all(problem.owners == ("first", "second") for problem in plugins.problems)  # type: ignore[attr-defined]
    assert "claimed by plugins 'first' and 'second'" in str(plugins.problems[0])
    with pytest.raises(UnknownTemplateError):
        plugins.template("walk.daily")
    with pytest.raises(UnknownTemplateError):
        instantiate_template("walk.first", {}, START, plugins)
    # both plugins still load; the built-ins are untouched
    assert loaded(plugins) == {"cbt", "measures", "first", "second"}
    assert "walk" not in plugins.modalities()
    assert plugins.template("cbt.panic-frequency").modality == "cbt"


def test_a_modality_named_like_a_plugin_is_that_plugins() -> None:
    walk = template_plugin(counting_template("walk.daily"))
    other = template_plugin(counting_template("walk.sneaky"), counting_template("other.fine"))
    plugins = with_builtins(walk=walk, other=other)
    assert plugins.template_plugin("walk.daily") == "walk"
    assert plugins.template_plugin("other.fine") == "other"
    (problem,) = plugins.status("other").problems
    assert "belongs to plugin 'walk'" in problem
    assert plugins.status("walk").problems == ()


def test_a_third_party_cannot_take_a_builtin_name_modality_or_id() -> None:
    sneaky = template_plugin(counting_template("cbt.sneaky-walks"), counting_template("dbt.skills"))
    rival = Instrument(
        id="phq-9",
        name="another PHQ-9",
        unit="points",
        direction="decrease",
        minimum=0,
        maximum=27,
        description="A rival registration.",
    )
    plugins = load_plugins(
        entry_points=[],
        plugins={"measures": measures, "cbt": cbt, "rival": measure_plugin(rival), "dbt": sneaky},
        environ={},
    )
    assert plugins.instrument("phq-9").name != "another PHQ-9"
    (refused,) = plugins.status("rival").problems
    assert "belongs to goalpath's built-in plugin 'measures'" in refused
    assert plugins.status("measures").problems == ()
    (outside,) = plugins.status("dbt").problems
    assert "'cbt.sneaky-walks' is in the modality 'cbt'" in outside
    assert plugins.template_plugin("dbt.skills") == "dbt"
    # every built-in template still works
    for template in plugins.templates("cbt"):
        template.instantiate(template.default_parameters(), START)


def test_an_entry_point_named_like_a_builtin_is_refused_and_the_builtin_loads() -> None:
    impostor = EntryPoint("cbt", "goalpath.modalities.mindfulness", ENTRY_POINT_GROUP)
    builtin = EntryPoint("cbt", "goalpath.modalities.cbt", ENTRY_POINT_GROUP)
    measures_point = EntryPoint("measures", "goalpath.modalities.measures", ENTRY_POINT_GROUP)
    plugins = load_plugins(entry_points=[impostor, builtin, measures_point], environ={})
    states = [(status.name, status.state) for status in plugins.statuses]
    assert ("cbt", "loaded") in states
    assert ("cbt", "failed") in states
    assert plugins.template("cbt.panic-frequency").modality == "cbt"


def test_two_third_party_plugins_claiming_one_instrument_id_are_both_named() -> None:
    def rival(name: str) -> Instrument:
        return Instrument(
            id="wsas",
            name=name,
            unit="points",
            direction="decrease",
            minimum=0,
            maximum=40,
            description="A rival registration.",
        )

    plugins = load_plugins(
        entry_points=[],
        plugins={"one": measure_plugin(rival("one")), "two": measure_plugin(rival("two"))},
        environ={},
    )
    with pytest.raises(DuplicateContributionError, match="'one' and 'two'"):
        plugins.instrument("wsas")


# -- a disabled plugin ---------------------------------------------------------------


def test_a_plugin_disabled_through_the_api_is_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "goalpath_test_disabled.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    point = EntryPoint("noisy", "goalpath_test_disabled", "goalpath.modalities")
    plugins = load_plugins(
        ["noisy"], entry_points=[point], plugins={"measures": measures}, environ={}
    )
    assert plugins.status("noisy").state == "disabled"
    assert plugins.problems == ()
    assert "goalpath_test_disabled" not in sys.modules
    assert loaded(plugins) == {"measures"}


def test_plugins_disabled_through_the_environment_variable() -> None:
    environ = {"GOALPATH_DISABLED_PLUGINS": " cbt , mindfulness,"}
    assert disabled_from_environment(environ) == {"cbt", "mindfulness"}
    plugins = load_plugins(environ=environ)
    assert plugins.status("cbt").state == "disabled"
    assert plugins.status("mindfulness").state == "disabled"
    assert plugins.status("psychodynamic").loaded
    assert plugins.modalities() == ("act", "psychodynamic")
    with pytest.raises(UnknownTemplateError, match=r"known templates: act\.living-by-values"):
        plugins.template("cbt.panic-frequency")
    assert plugins.template("psychodynamic.insight").focus == "strength-building"


def test_disabled_names_from_the_api_and_the_environment_add_up() -> None:
    plugins = load_plugins(["psychodynamic"], environ={"GOALPATH_DISABLED_PLUGINS": "cbt"})
    states = {status.name: status.state for status in plugins.statuses}
    assert states["psychodynamic"] == states["cbt"] == "disabled"
    assert states["mindfulness"] == "loaded"


# -- malformed plugins ------------------------------------------------------------------


def test_a_plugin_implementing_an_unknown_hook_fails() -> None:
    @hookimpl
    def goalpath_register_templtes(registry: object) -> None:  # noqa: ARG001  # the typo is the point
        raise AssertionError("never called")

    typo = SimpleNamespace(goalpath_register_templtes=goalpath_register_templtes)
    plugins = with_builtins(typo=typo)
    status = plugins.status("typo")
    assert status.state == "failed"
    assert "goalpath_register_templtes, which goalpath does not define" in status.problems[0]


def test_a_plugin_with_no_hooks_fails_with_advice() -> None:
    plugins = with_builtins(empty=SimpleNamespace())
    assert "implements no goalpath hook" in plugins.status("empty").problems[0]


def test_a_hook_with_a_wrong_argument_name_fails() -> None:
    @hookimpl
    def goalpath_register_templates(templates: object) -> None:  # noqa: ARG001  # wrong on purpose
        raise AssertionError("never called")

    wrong = SimpleNamespace(goalpath_register_templates=goalpath_register_templates)
    plugins = with_builtins(wrong=wrong)
    assert "could not be registered" in plugins.status("wrong").problems[0]


def test_a_hook_wrapper_is_refused() -> None:
    @hookimpl(wrapper=True)
    def goalpath_register_templates(registry: TemplateRegistry) -> Any:  # noqa: ARG001
        return (yield)

    wrapping = SimpleNamespace(goalpath_register_templates=goalpath_register_templates)
    plugins = with_builtins(wrapping=wrapping)
    assert "hook wrapper" in plugins.status("wrapping").problems[0]


def test_two_entry_points_with_one_name_keep_the_first() -> None:
    first = EntryPoint("cbt", "goalpath.modalities.cbt", "goalpath.modalities")
    second = EntryPoint("cbt", "goalpath.modalities.mindfulness", "goalpath.modalities")
    plugins = load_plugins(entry_points=[first, second], plugins={"m": measures}, environ={})
    states = [status.state for status in plugins.statuses if status.name == "cbt"]
    assert states == ["loaded", "failed"]
    assert plugins.modalities() == ("cbt",)


# -- instruments -----------------------------------------------------------------------


def phq_template(measure: Measure) -> Template:
    return counting_template(
        "mood.phq",
        measure=measure,
        statement=(
            "I will reduce my PHQ-9 score from {baseline} to {target} within {weeks} weeks "
            "by practising the skills of each session"
        ),
        area="symptom-relief",
        focus="symptom-reduction",
        parameters=(
            TemplateParameter("baseline", "Now.", 15, 15),
            TemplateParameter("target", "Aim.", 9, 9),
        ),
        duration_weeks=12,
    )


def test_a_template_measuring_an_unregistered_instrument_is_refused() -> None:
    template = phq_template(measures.PHQ9.measure())
    without = load_plugins(entry_points=[], plugins={"mood": template_plugin(template)}, environ={})
    assert "which no loaded plugin registers" in without.status("mood").problems[0]
    plugins = with_builtins(mood=template_plugin(template))
    assert plugins.status("mood").loaded


def test_a_template_disagreeing_with_its_instrument_is_refused() -> None:
    wrong = Measure("PHQ-9", "points", "decrease", instrument="phq-9", minimum=0, maximum=30)
    plugins = with_builtins(mood=template_plugin(phq_template(wrong)))
    assert "but the instrument is decrease from 0 to 27" in plugins.status("mood").problems[0]


def test_unknown_instrument_lists_the_known_ones() -> None:
    with pytest.raises(UnknownInstrumentError, match="known instruments: gad-7, phq-9, suds"):
        with_builtins().instrument("bdi-ii")


def test_an_invalid_instrument_is_refused_by_name() -> None:
    @hookimpl
    def goalpath_register_measures(registry: Any) -> None:
        registry.add("phq-9")

    plugins = with_builtins(
        bad=SimpleNamespace(goalpath_register_measures=goalpath_register_measures)
    )
    assert "which is not an Instrument" in plugins.status("bad").problems[0]


# -- suggestions -------------------------------------------------------------------------


def test_builtin_plugins_suggest_interventions_for_their_templates_and_free_goals() -> None:
    plugins = load_plugins(environ={})
    template = plugins.template("cbt.panic-frequency")
    definition = template.instantiate({}, START).definition
    suggestions = plugins.suggest_interventions(definition, template)
    assert {suggestion.plugin for suggestion in suggestions} == {"cbt"}
    assert "Interoceptive exposure" in [suggestion.intervention.name for suggestion in suggestions]
    free = GoalDefinition("I will notice when I ruminate and meditate daily", START)
    names = {s.plugin for s in plugins.suggest_interventions(free)}
    assert names == {"mindfulness"}


def suggesting(answer: Any) -> SimpleNamespace:
    """A plugin whose suggestion hook returns ``answer``, or raises it if it is an exception."""

    @hookimpl
    def goalpath_suggest_interventions(definition: GoalDefinition) -> Any:
        assert isinstance(definition, GoalDefinition)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return SimpleNamespace(goalpath_suggest_interventions=goalpath_suggest_interventions)


def test_a_plugin_that_answers_suggestions_badly_is_skipped_and_reported() -> None:
    helpful_answer = [Intervention("Walking with a friend", "Company makes walks likelier.")]
    plugins = with_builtins(
        odd=suggesting(["try harder"]),
        angry=suggesting(KeyError("boom")),
        helpful=suggesting(helpful_answer),
        quiet=suggesting(None),
    )
    suggestions = plugins.suggest_interventions(GoalDefinition("I will walk daily", START))
    assert [(s.plugin, s.intervention) for s in suggestions] == [("helpful", helpful_answer[0])]
    problems = {getattr(problem, "plugin", None): str(problem) for problem in plugins.problems}
    assert set(problems) == {"odd", "angry"}
    assert "return a list of goalpath.modalities.Intervention" in problems["odd"]
    assert "KeyError" in problems["angry"]
    assert plugins.status("odd").loaded
    assert plugins.status("angry").problems == (problems["angry"],)
