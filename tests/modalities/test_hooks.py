"""Every hook of the specification module is called, with the arguments it specifies."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Any

from goalpath.core.values import GoalDefinition
from goalpath.modalities import (
    Intervention,
    MeasureRegistry,
    Template,
    TemplateRegistry,
    hookimpl,
    hookspecs,
    load_plugins,
    measures,
)

from .strategies import counting_template


class Spy:
    """A plugin implementing every hook, recording the arguments of each call."""

    def __init__(self) -> None:
        self.calls: dict[str, list[dict[str, Any]]] = {}

    def _record(self, hook: str, **arguments: Any) -> None:
        self.calls.setdefault(hook, []).append(arguments)

    @hookimpl
    def goalpath_register_measures(self, registry: MeasureRegistry) -> None:
        self._record("goalpath_register_measures", registry=registry)

    @hookimpl
    def goalpath_register_templates(self, registry: TemplateRegistry) -> None:
        self._record("goalpath_register_templates", registry=registry)
        registry.add(counting_template("spy.walks"))

    @hookimpl
    def goalpath_suggest_interventions(
        self, definition: GoalDefinition, template: Template | None
    ) -> list[Intervention]:
        self._record("goalpath_suggest_interventions", definition=definition, template=template)
        return [Intervention("Walk with a friend", "Company makes walks likelier.")]


def spec_hooks() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(function)
        for name, function in vars(hookspecs).items()
        if name.startswith("goalpath_")
    }


def test_the_spy_implements_exactly_the_specified_hooks() -> None:
    implemented = {name for name in vars(Spy) if name.startswith("goalpath_")}
    assert implemented == set(spec_hooks())


def test_every_specified_hook_is_called_with_its_arguments() -> None:
    spy = Spy()
    plugins = load_plugins(entry_points=[], plugins={"spy": spy, "m": measures}, environ={})
    template = plugins.template("spy.walks")
    definition = template.instantiate({}, date(2026, 1, 5)).definition
    suggestions = plugins.suggest_interventions(definition, template)
    assert [suggestion.plugin for suggestion in suggestions] == ["spy"]
    for hook, signature in spec_hooks().items():
        assert hook in spy.calls, f"{hook} is never called"
        assert set(spy.calls[hook][0]) == set(signature.parameters)
    (measure_call,) = spy.calls["goalpath_register_measures"]
    assert isinstance(measure_call["registry"], MeasureRegistry)
    assert measure_call["registry"].plugin == "spy"
    (template_call,) = spy.calls["goalpath_register_templates"]
    assert template_call["registry"].plugin == "spy"
    assert spy.calls["goalpath_suggest_interventions"] == [
        {"definition": definition, "template": template}
    ]
