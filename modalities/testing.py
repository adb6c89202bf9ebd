"""The conformance kit: checks a modality plugin author's test suite runs.

Call :func:`assert_conforms` from a test, or subclass
:class:`PluginContract` (as eventsourcing's reusable test cases are used)::

    from goalpath.modalities.testing import PluginContract
    import my_plugin

    class TestMyPlugin(PluginContract):
        plugin = my_plugin
        plugin_name = "my-plugin"       # the entry-point name
        entry_point_installed = True    # also check the installed entry point

Every template the plugin contributes is instantiated with its defaults and
its example parameters (each must give a SMART goal), fed an unknown
parameter, a non-number and values just outside each range (each must be
refused with :class:`~goalpath.modalities.errors.TemplateParameterError`);
every instrument's thresholds are checked against its range; the
suggestion hook's answers must be lists of
:class:`~goalpath.modalities.interventions.Intervention`, and it must stay
silent for the templates of other modalities. The plugin is also loaded
beside the installed plugins, so that a clash with one of them (a built-in
name, modality or id) is reported. Every check reports every problem it
finds; a plugin that does not load fails every test.
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import entry_points
from typing import Final

import attrs

from goalpath.core.errors import GoalpathError
from goalpath.modalities import cbt as builtin_cbt
from goalpath.modalities import measures as builtin_measures
from goalpath.modalities import mindfulness as builtin_mindfulness
from goalpath.modalities import psychodynamic as builtin_psychodynamic
from goalpath.modalities.errors import TemplateParameterError
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.manager import ENTRY_POINT_GROUP, Plugins, load_plugins
from goalpath.modalities.templates import Template

__all__ = [
    "ConformanceReport",
    "PluginContract",
    "assert_conforms",
    "check_entry_point",
    "check_instrument",
    "check_plugin",
    "check_template",
]

START: Final = date(2024, 1, 1)
"""The start date templates are instantiated on; SMART does not depend on it."""


@attrs.frozen
class ConformanceReport:
    """What the kit found about one plugin: its contributions and every problem."""

    plugin: str
    templates: tuple[str, ...]
    instruments: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def _refused(template: Template, params: dict[str, object], what: str) -> list[str]:
    try:
        template.instantiate(params, START)
    except TemplateParameterError:
        return []
    except GoalpathError as error:
        return [
            (
                f"{template.id}: {what} raised {type(error).__name__} ({error}); a "
                "TemplateParameterError was expected"
            )
        ]
    return [f"{template.id}: {what} was accepted; it should be refused"]


def check_template(template: Template) -> list[str]:
    """Return the problems of one template (an empty list when it conforms)."""
    problems: list[str] = []
    for role, params in (
        ("defaults", template.default_parameters()),
        ("example parameters", template.example_parameters()),
    ):
        try:
            instance = template.instantiate(params, START)
        except GoalpathError as error:
            problems.append(f"{template.id}: its {role} do not give a SMART goal: {error}")
            continue
        statement = instance.definition.statement
        if "{" in statement or "}" in statement:
            problems.append(f"{template.id}: statement keeps a brace: {statement!r}")
        if (instance.template_id, instance.template_version) != (template.id, template.version):
            problems.append(f"{template.id}: the instance does not carry the template's id")
    problems += _refused(template, {"no_such_parameter": "1"}, "an unknown parameter")
    for parameter in template.all_parameters:
        if parameter.kind == "text":
            problems += _refused(template, {parameter.name: "  "}, f"an empty {parameter.name}")
            continue
        problems += _refused(
            template, {parameter.name: "not a number"}, f"a non-number for {parameter.name}"
        )
        if parameter.minimum is not None:
            problems += _refused(
                template,
                {parameter.name: str(parameter.minimum - 1)},
                f"{parameter.name} below its minimum",
            )
        if parameter.maximum is not None:
            problems += _refused(
                template,
                {parameter.name: str(parameter.maximum + 1)},
                f"{parameter.name} above its maximum",
            )
    baseline = template.parameter("baseline").default
    problems += _refused(
        template, {"baseline": str(baseline), "target": str(baseline)}, "a target equal to baseline"
    )
    return problems


def check_instrument(instrument: Instrument) -> list[str]:
    """Return the problems of one instrument (an empty list when it conforms)."""
    problems: list[str] = []
    worst, best = (
        (instrument.maximum, instrument.minimum)
        if instrument.direction == "decrease"
        else (instrument.minimum, instrument.maximum)
    )
    if instrument.caseness is not None and not instrument.is_case(worst):
        problems.append(f"{instrument.id}: the worst score {worst:g} is not a case")
    if instrument.caseness is not None and instrument.is_case(best):
        problems.append(f"{instrument.id}: the best score {best:g} counts as a case")
    if (
        instrument.reliable_change is not None
        and instrument.reliable_change_between(worst, best) != "improvement"
    ):
        problems.append(f"{instrument.id}: going from worst to best is not a reliable improvement")
    measure = instrument.measure()
    if measure.instrument != instrument.id:
        problems.append(f"{instrument.id}: its measure does not name the instrument")
    return problems


_BUILTINS: Final[dict[str, object]] = {
    "measures": builtin_measures,
    "cbt": builtin_cbt,
    "mindfulness": builtin_mindfulness,
    "psychodynamic": builtin_psychodynamic,
}


def _beside_builtins(plugin: object, name: str) -> dict[str, object]:
    """The plugin under test with goalpath's built-in plugins (itself only once)."""
    return {
        **{key: builtin for key, builtin in _BUILTINS.items() if builtin is not plugin},
        name: plugin,
    }


def check_plugin(
    plugin: object, name: str = "plugin-under-test", *, against_installed: bool = True
) -> ConformanceReport:
    """Load ``plugin`` beside goalpath's built-in plugins and check everything.

    With ``against_installed`` it is also loaded beside every installed
    plugin (its own installed entry point left out), so that a name,
    modality or id it shares with one of them is reported; use
    :func:`check_entry_point` for its own installation.
    """
    plugins = load_plugins(entry_points=[], plugins=_beside_builtins(plugin, name), environ={})
    status = plugins.status(name)
    problems = list(status.problems)
    if status.state != "loaded":
        return ConformanceReport(name, (), (), (*problems, f"plugin {name!r} did not load"))
    if against_installed:
        problems += [
            problem for problem in _installed_clashes(plugin, name) if problem not in problems
        ]
    if not status.templates and not status.instruments and not status.hooks:
        problems.append(f"plugin {name!r} contributes nothing")
    for template_id in status.templates:
        template = plugins.template(template_id)
        problems += check_template(template)
        problems += _check_suggestions(plugins, name, template)
    problems += _check_silence(plugins, name)
    for instrument_id in status.instruments:
        problems += check_instrument(plugins.instrument(instrument_id))
    return ConformanceReport(name, status.templates, status.instruments, tuple(problems))


def _installed_clashes(plugin: object, name: str) -> list[str]:
    """The problems of the plugin when it is loaded beside every installed plugin."""
    others = [point for point in entry_points(group=ENTRY_POINT_GROUP) if point.name != name]
    plugins = load_plugins(entry_points=others, plugins={name: plugin}, environ={})
    status = next(s for s in reversed(plugins.statuses) if s.name == name)
    return [f"beside the installed plugins: {problem}" for problem in status.problems]


def _check_silence(plugins: Plugins, name: str) -> list[str]:
    """The plugin suggests nothing for a template of another modality."""
    own = {
        template.modality
        for template in plugins.templates()
        if plugins.template_plugin(template.id) == name
    }
    problems: list[str] = []
    for template in plugins.templates():
        if template.modality in own:
            continue
        definition = template.instantiate(template.default_parameters(), START).definition
        spoken = [
            s for s in plugins.suggest_interventions(definition, template) if s.plugin == name
        ]
        if spoken:
            problems.append(
                f"plugin {name!r} suggests {spoken[0].intervention.name!r} for "
                f"{template.id!r}, a template of another modality; suggest only for your own "
                "templates (and, if you wish, for free goals)"
            )
    return problems


def _check_suggestions(plugins: Plugins, name: str, template: Template) -> list[str]:
    before = len(plugins.problems)
    definition = template.instantiate(template.default_parameters(), START).definition
    plugins.suggest_interventions(definition, template)
    plugins.suggest_interventions(definition, None)
    return [
        str(problem)
        for problem in plugins.problems[before:]
        if getattr(problem, "plugin", None) == name
    ]


def check_entry_point(name: str, plugin: object | None = None) -> list[str]:
    """Check that an entry point ``name`` is installed in the group and loads (to ``plugin``)."""
    found = [point for point in entry_points(group=ENTRY_POINT_GROUP) if point.name == name]
    if not found:
        return [
            (
                f"no entry point {name!r} in group {ENTRY_POINT_GROUP!r}; declare it in "
                f'pyproject.toml under [project.entry-points."{ENTRY_POINT_GROUP}"] and install '
                "the package"
            )
        ]
    if len(found) > 1:
        return [f"entry point {name!r} is declared by more than one installed distribution"]
    try:
        loaded = found[0].load()
    except Exception as error:  # the kit reports any import failure
        return [f"entry point {name!r} does not load: {type(error).__name__}: {error}"]
    if plugin is not None and loaded is not plugin:
        return [f"entry point {name!r} loads {loaded!r}, not the plugin under test"]
    return []


def assert_conforms(plugin: object, name: str = "plugin-under-test") -> ConformanceReport:
    """Check a plugin and raise ``AssertionError`` listing every problem found."""
    report = check_plugin(plugin, name)
    if not report.passed:
        raise AssertionError(
            f"plugin {name!r} does not conform:\n- " + "\n- ".join(report.problems)
        )
    return report


def _fail_on(problems: list[str] | tuple[str, ...]) -> None:
    if problems:
        raise AssertionError("\n- ".join(("conformance problems:", *problems)))


class PluginContract:
    """Reusable test case: subclass it as ``TestSomething`` and set ``plugin``.

    ``plugin`` is the plugin object (usually its module), ``plugin_name``
    its entry-point name; with ``entry_point_installed`` the installed entry
    point is checked too.
    """

    plugin: object
    plugin_name: str = "plugin-under-test"
    entry_point_installed: bool = True

    def _report(self) -> ConformanceReport:
        return check_plugin(self.plugin, self.plugin_name)

    def _loaded(self) -> Plugins:
        """The plugin beside the built-ins; a plugin that did not load fails the test."""
        plugins = load_plugins(entry_points=[], plugins=self._with_measures(), environ={})
        status = plugins.status(self.plugin_name)
        if status.state != "loaded":
            _fail_on([*status.problems, f"plugin {self.plugin_name!r} did not load"])
        return plugins

    def test_plugin_loads_without_problems(self) -> None:
        """The plugin loads, and every contribution passes the registry's checks."""
        report = self._report()
        _fail_on(report.problems)
        if not (report.templates or report.instruments):
            raise AssertionError(f"plugin {self.plugin_name!r} contributes no template or measure")

    def test_templates_instantiate_and_refuse_bad_parameters(self) -> None:
        """Every template gives SMART goals and refuses bad parameters with typed errors."""
        plugins = self._loaded()
        problems: list[str] = []
        for template_id in plugins.status(self.plugin_name).templates:
            problems += check_template(plugins.template(template_id))
        _fail_on(problems)

    def test_instruments_are_consistent(self) -> None:
        """Every instrument's caseness and reliable change agree with its range and direction."""
        plugins = self._loaded()
        problems: list[str] = []
        for instrument_id in plugins.status(self.plugin_name).instruments:
            problems += check_instrument(plugins.instrument(instrument_id))
        _fail_on(problems)

    def test_suggestions_stay_silent_for_other_modalities(self) -> None:
        """The suggestion hook suggests nothing for another modality's template."""
        _fail_on(_check_silence(self._loaded(), self.plugin_name))

    def test_entry_point(self) -> None:
        """The installed entry point loads the plugin.

        Set ``entry_point_installed = False`` only for a plugin that is not
        installed, such as one defined inside a test.
        """
        if self.entry_point_installed:
            _fail_on(check_entry_point(self.plugin_name, self.plugin))

    def _with_measures(self) -> dict[str, object]:
        return _beside_builtins(self.plugin, self.plugin_name)
