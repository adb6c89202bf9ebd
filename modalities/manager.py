"""Finding, loading and isolating modality plugins.

Plugins are found through the entry-point group ``goalpath.modalities``;
goalpath's own measures, CBT, mindfulness and psychodynamic plugins are
found the same way. Each plugin is loaded and called on its own, so that
one broken plugin is reported and skipped while the others load:

- a plugin that fails to import, implements an unknown ``goalpath_`` hook,
  or whose hook raises or contributes something invalid is *failed*: none
  of its contributions is used, and its error names it;
- an id (template or instrument) claimed by two plugins is refused for
  both, with an error naming both; their other contributions stay;
- a plugin named in ``disabled`` or in ``GOALPATH_DISABLED_PLUGINS``
  (comma-separated names) is not even imported.

This module is over 500 lines because finding, isolating, arbitrating
(reserved names, modalities, ids) and querying one set of plugins is one
concept (the :class:`Plugins` object and the functions that build it); the
hook specifications, registries and templates are in modules of their own.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import lru_cache
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as installed_entry_points
from pathlib import Path
from typing import Any, Final, Literal

import attrs
import pluggy

import goalpath.core.values as values_module
import goalpath.modalities.errors as errors_module
from goalpath.core.errors import GoalpathError
from goalpath.core.values import GoalDefinition
from goalpath.modalities import hookspecs
from goalpath.modalities.errors import (
    DuplicateContributionError,
    InvalidContributionError,
    ModalityClaimedError,
    PluginLoadError,
    ReservedIdError,
    UnknownInstrumentError,
    UnknownTemplateError,
)
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.interventions import Intervention, Suggestion
from goalpath.modalities.registry import MeasureRegistry, TemplateRegistry
from goalpath.modalities.templates import Template, TemplateInstance

__all__ = [
    "DISABLED_VARIABLE",
    "ENTRY_POINT_GROUP",
    "PluginState",
    "PluginStatus",
    "Plugins",
    "disabled_from_environment",
    "installed_instruments",
    "instantiate_template",
    "load_plugins",
]

ENTRY_POINT_GROUP: Final = "goalpath.modalities"
"""The entry-point group plugins register under."""

DISABLED_VARIABLE: Final = "GOALPATH_DISABLED_PLUGINS"
"""Environment variable naming plugins not to load, separated by commas."""

PluginState = Literal["loaded", "failed", "disabled"]

BUILTIN_PLUGINS: Final[dict[str, str]] = {
    "measures": "goalpath.modalities.measures",
    "cbt": "goalpath.modalities.cbt",
    "mindfulness": "goalpath.modalities.mindfulness",
    "psychodynamic": "goalpath.modalities.psychodynamic",
}
"""goalpath's own plugins by name, and their modules. Their names, modalities and ids are
reserved: a third-party plugin that claims one is refused, never the built-in."""

_MEASURES_HOOK: Final = "goalpath_register_measures"
_TEMPLATES_HOOK: Final = "goalpath_register_templates"
_SUGGEST_HOOK: Final = "goalpath_suggest_interventions"


@attrs.frozen
class PluginStatus:
    """What became of one plugin: where it comes from, its hooks, and whether it loaded.

    ``problems`` holds why a plugin failed, or the warnings of a loaded one
    (such as an id another plugin claims too).
    """

    name: str
    distribution: str | None
    version: str | None
    state: PluginState
    hooks: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def loaded(self) -> bool:
        """Whether the plugin loaded and its contributions are in use."""
        return self.state == "loaded"


@attrs.define
class _Candidate:
    name: str
    distribution: str | None
    version: str | None
    load: Callable[[], object]
    state: PluginState = "loaded"
    plugin: object = None
    hooks: tuple[str, ...] = ()
    errors: list[GoalpathError] = attrs.field(factory=list)
    instruments: tuple[Instrument, ...] = ()
    templates: tuple[Template, ...] = ()
    builtin: bool = False

    def fail(self, error: GoalpathError) -> None:
        self.state = "failed"
        self.errors.append(error)


def disabled_from_environment(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The plugin names listed in ``GOALPATH_DISABLED_PLUGINS`` (comma-separated)."""
    value = (os.environ if environ is None else environ).get(DISABLED_VARIABLE, "")
    return frozenset(name.strip() for name in value.split(",") if name.strip())


class Plugins:
    """The plugins found, and the templates and instruments of those that loaded.

    Build one with :func:`load_plugins`.
    """

    def __init__(
        self,
        manager: pluggy.PluginManager,
        candidates: list[_Candidate],
        problems: list[GoalpathError],
    ) -> None:
        self.manager = manager
        self._candidates = candidates
        self._problems = problems
        self.unknown_disabled: tuple[str, ...] = ()
        """Names asked to be disabled that no plugin found has (a typo, or an uninstalled one)."""
        self._templates: dict[str, tuple[str, Template]] = {}
        self._instruments: dict[str, tuple[str, Instrument]] = {}
        self._conflicts: dict[tuple[str, str], DuplicateContributionError] = {}
        self._merge()

    def _merge(self) -> None:
        loaded = [candidate for candidate in self._candidates if candidate.state == "loaded"]
        builtins = {candidate.name for candidate in loaded if candidate.builtin}
        owners = self._modality_owners(loaded)
        template_claims: dict[str, list[tuple[str, Template]]] = {}
        instrument_claims: dict[str, list[tuple[str, Instrument]]] = {}
        for candidate in loaded:
            for template in candidate.templates:
                owner = owners[template.modality]
                if owner != (candidate.name,):
                    refusal = ModalityClaimedError(
                        template.id, template.modality, candidate.name, owner
                    )
                    self._refuse(candidate.name, refusal)
                    continue
                template_claims.setdefault(template.id, []).append((candidate.name, template))
            for instrument in candidate.instruments:
                instrument_claims.setdefault(instrument.id, []).append((candidate.name, instrument))
        for kind, claims, kept in (
            ("template", template_claims, self._templates),
            ("instrument", instrument_claims, self._instruments),
        ):
            for item_id, claimants in claims.items():
                held = [claim for claim in claimants if claim[0] in builtins]
                if len(claimants) == 1 or len(held) == 1:
                    kept[item_id] = (held or claimants)[0]  # type: ignore[assignment]  # same item type
                    for name, _ in claimants if held else ():
                        if name not in builtins:
                            self._refuse(name, ReservedIdError(kind, item_id, name, held[0][0]))
                    continue
                error = DuplicateContributionError(kind, item_id, [name for name, _ in claimants])
                self._conflicts[(kind, item_id)] = error
                self._problems.append(error)
                for name, _ in claimants:
                    self._candidate(name).errors.append(error)

    @staticmethod
    def _modality_owners(loaded: list[_Candidate]) -> dict[str, tuple[str, ...]]:
        """Which plugin each modality belongs to (several names: contested, no one's).

        The built-in names and the built-ins' modalities are the built-ins'; a
        modality named like a plugin is that plugin's; any other modality is
        its only claimant's, and no one's when two plugins claim it.
        """
        owners: dict[str, tuple[str, ...]] = {name: (name,) for name in BUILTIN_PLUGINS}
        for candidate in loaded:
            if candidate.builtin:
                for template in candidate.templates:
                    owners[template.modality] = (candidate.name,)
        for candidate in loaded:
            owners.setdefault(candidate.name, (candidate.name,))
        claimants: dict[str, list[str]] = {}
        for candidate in loaded:
            for modality in sorted({template.modality for template in candidate.templates}):
                if modality not in owners:
                    claimants.setdefault(modality, []).append(candidate.name)
        owners.update({modality: tuple(names) for modality, names in claimants.items()})
        return owners

    def _refuse(self, name: str, error: GoalpathError) -> None:
        """A contribution of plugin ``name`` refused; its other contributions stay."""
        self._problems.append(error)
        self._candidate(name).errors.append(error)

    def _candidate(self, name: str) -> _Candidate:
        for candidate in self._candidates:
            if candidate.name == name:
                return candidate
        raise LookupError(name)  # pragma: no cover  # names come from the candidates

    # -- what loaded ------------------------------------------------------------

    @property
    def statuses(self) -> tuple[PluginStatus, ...]:
        """One status per plugin found, in the order they were found."""
        return tuple(self._status_of(candidate) for candidate in self._candidates)

    def status(self, name: str) -> PluginStatus:
        """The status of the plugin called ``name``.

        Raises:
            LookupError: no plugin of that name was found.
        """
        return self._status_of(self._candidate(name))

    def _status_of(self, candidate: _Candidate) -> PluginStatus:
        name = candidate.name
        loaded = candidate.state == "loaded"
        return PluginStatus(
            name=candidate.name,
            distribution=candidate.distribution,
            version=candidate.version,
            state=candidate.state,
            hooks=candidate.hooks,
            templates=tuple(
                item_id
                for item_id, (owner, _) in sorted(self._templates.items())
                if loaded and owner == name
            ),
            instruments=tuple(
                item_id
                for item_id, (owner, _) in sorted(self._instruments.items())
                if loaded and owner == name
            ),
            problems=tuple(str(error) for error in candidate.errors),
        )

    @property
    def problems(self) -> tuple[GoalpathError, ...]:
        """Every error met while loading: failed plugins and ids claimed twice."""
        return tuple(self._problems)

    # -- templates ----------------------------------------------------------------

    def templates(self, modality: str | None = None) -> tuple[Template, ...]:
        """The usable templates, sorted by id, of one modality or of all."""
        return tuple(
            template
            for _, (_, template) in sorted(self._templates.items())
            if modality is None or template.modality == modality
        )

    def modalities(self) -> tuple[str, ...]:
        """The modalities that have at least one usable template, sorted."""
        return tuple(sorted({template.modality for _, template in self._templates.values()}))

    def template(self, template_id: str) -> Template:
        """The template with id ``template_id``.

        Raises:
            DuplicateContributionError: two plugins claim that id, so neither is used.
            UnknownTemplateError: no loaded plugin has that template.
        """
        conflict = self._conflicts.get(("template", template_id))
        if conflict is not None:
            raise conflict
        try:
            return self._templates[template_id][1]
        except KeyError:
            raise UnknownTemplateError(template_id, self._templates) from None

    def template_plugin(self, template_id: str) -> str:
        """The name of the plugin that contributed the template ``template_id``."""
        self.template(template_id)
        return self._templates[template_id][0]

    def instantiate(
        self, template_id: str, params: Mapping[str, object], start_on: date
    ) -> TemplateInstance:
        """Make a SMART goal definition from a template; see :meth:`Template.instantiate`."""
        return self.template(template_id).instantiate(params, start_on)

    # -- instruments --------------------------------------------------------------

    def instruments(self) -> tuple[Instrument, ...]:
        """The usable instruments, sorted by id."""
        return tuple(instrument for _, (_, instrument) in sorted(self._instruments.items()))

    def instrument(self, instrument_id: str) -> Instrument:
        """The instrument with id ``instrument_id`` (such as ``phq-9``).

        Raises:
            DuplicateContributionError: two plugins claim that id, so neither is used.
            UnknownInstrumentError: no loaded plugin has that instrument.
        """
        conflict = self._conflicts.get(("instrument", instrument_id))
        if conflict is not None:
            raise conflict
        try:
            return self._instruments[instrument_id][1]
        except KeyError:
            raise UnknownInstrumentError(instrument_id, self._instruments) from None

    # -- suggestions --------------------------------------------------------------

    def suggest_interventions(
        self, definition: GoalDefinition, template: Template | None = None
    ) -> tuple[Suggestion, ...]:
        """Ask every loaded plugin for interventions that fit a goal.

        A plugin that raises or answers with something other than a list of
        :class:`Intervention` is skipped; its error is added to
        :attr:`problems` and to its status.
        """
        suggestions: list[Suggestion] = []
        arguments = {"definition": definition, "template": template}
        for candidate in self._candidates:
            if candidate.state != "loaded":
                continue
            try:
                for answer in _call(self.manager, _SUGGEST_HOOK, candidate.name, arguments):
                    suggestions.extend(_suggestions(candidate.name, answer))
            except Exception as error:  # a plugin's bug must not stop the others
                problem = _as_plugin_error(candidate.name, _SUGGEST_HOOK, error)
                candidate.errors.append(problem)
                self._problems.append(problem)
        return tuple(suggestions)


def _suggestions(plugin: str, answer: object) -> list[Suggestion]:
    if answer is None:
        return []
    if not isinstance(answer, list | tuple) or not all(
        isinstance(item, Intervention) for item in answer
    ):
        raise InvalidContributionError(
            plugin,
            f"{_SUGGEST_HOOK} returned {answer!r}; return a list of "
            "goalpath.modalities.Intervention (or None)",
        )
    return [Suggestion(plugin, item) for item in answer]


def _call(
    manager: pluggy.PluginManager, hook_name: str, plugin_name: str, arguments: Mapping[str, Any]
) -> list[object]:
    """Call one plugin's implementations of one hook, so a failure is that plugin's alone."""
    caller = getattr(manager.hook, hook_name)
    results = []
    for implementation in caller.get_hookimpls():
        if implementation.plugin_name != plugin_name:
            continue
        results.append(
            implementation.function(*(arguments[name] for name in implementation.argnames))
        )
    return results


def _as_plugin_error(plugin: str, hook: str, error: Exception) -> PluginLoadError:
    if isinstance(error, PluginLoadError) and error.plugin == plugin:
        return error
    if isinstance(error, GoalpathError):
        return InvalidContributionError(plugin, f"{hook}: {error}{_where(error)}")
    return PluginLoadError(plugin, f"{hook} raised {type(error).__name__}: {error}{_where(error)}")


def _where(error: BaseException) -> str:
    """`` (at FILE:LINE)``: the deepest line of the traceback outside goalpath and pluggy.

    That is the plugin's own line: where it raised, or where it called
    goalpath with something goalpath refused.
    """
    inside = tuple(
        f"{Path(module_file).resolve().parent}{os.sep}"
        for module_file in (
            __file__,
            errors_module.__file__,
            values_module.__file__,
            pluggy.__file__,
        )
    )
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not str(Path(frame.filename).resolve()).startswith(inside)
    ]
    return f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""


def _candidates_from_entry_points(entry_points: Iterable[EntryPoint]) -> list[_Candidate]:
    candidates = []
    for entry_point in entry_points:
        dist = getattr(entry_point, "dist", None)
        candidates.append(
            _Candidate(
                name=entry_point.name,
                distribution=dist.name if dist is not None else None,
                version=dist.version if dist is not None else None,
                load=entry_point.load,
                builtin=entry_point.value.partition(":")[0]
                == BUILTIN_PLUGINS.get(entry_point.name),
            )
        )
    return candidates


def _register(manager: pluggy.PluginManager, candidate: _Candidate) -> None:
    try:
        plugin = candidate.load()
    except Exception as error:  # any import failure is the plugin's, reported
        candidate.fail(
            PluginLoadError(
                candidate.name, f"could not be imported: {type(error).__name__}: {error}"
            )
        )
        return
    try:
        manager.register(plugin, name=candidate.name)
    except (ValueError, pluggy.PluginValidationError) as error:
        candidate.fail(PluginLoadError(candidate.name, f"could not be registered: {error}"))
        return
    callers = manager.get_hookcallers(plugin) or []
    candidate.hooks = tuple(sorted(caller.name for caller in callers))
    unknown = [caller.name for caller in callers if caller.spec is None]
    wrappers = [
        implementation.function.__name__
        for caller in callers
        for implementation in caller.get_hookimpls()
        if implementation.plugin is plugin
        and (implementation.hookwrapper or implementation.wrapper)
    ]
    message = None
    if unknown:
        message = (
            f"implements {', '.join(unknown)}, which goalpath does not define; "
            f"goalpath hooks are {', '.join(_hook_names())}"
        )
    elif wrappers:
        message = f"{', '.join(wrappers)} is a hook wrapper; goalpath hooks take plain functions"
    elif not callers:
        message = (
            "implements no goalpath hook; decorate functions named like "
            f"{', '.join(_hook_names())} with @goalpath.modalities.hookimpl"
        )
    if message is not None:
        manager.unregister(plugin, name=candidate.name)
        candidate.fail(PluginLoadError(candidate.name, message))
        return
    candidate.plugin = plugin


def _given(plugin: object) -> Callable[[], object]:
    def load() -> object:
        return plugin

    return load


def _hook_names() -> list[str]:
    return sorted(name for name in vars(hookspecs) if name.startswith("goalpath_"))


def _run_registration_hooks(manager: pluggy.PluginManager, candidates: list[_Candidate]) -> None:
    for candidate in candidates:
        if candidate.state != "loaded":
            continue
        registry = MeasureRegistry(candidate.name)
        try:
            _call(manager, _MEASURES_HOOK, candidate.name, {"registry": registry})
        except Exception as error:  # a plugin's bug must not stop the others
            candidate.fail(_as_plugin_error(candidate.name, _MEASURES_HOOK, error))
            continue
        candidate.instruments = registry.instruments
    instruments: dict[str, Instrument] = {}
    for candidate in candidates:
        for instrument in candidate.instruments if candidate.state == "loaded" else ():
            instruments.setdefault(instrument.id, instrument)
    for candidate in candidates:
        if candidate.state != "loaded":
            continue
        templates = TemplateRegistry(candidate.name, instruments)
        try:
            _call(manager, _TEMPLATES_HOOK, candidate.name, {"registry": templates})
        except Exception as error:  # a plugin's bug must not stop the others
            candidate.fail(_as_plugin_error(candidate.name, _TEMPLATES_HOOK, error))
            continue
        candidate.templates = templates.templates
    for candidate in candidates:
        if candidate.state == "failed" and candidate.plugin is not None:
            manager.unregister(candidate.plugin, name=candidate.name)


def load_plugins(
    disabled: Iterable[str] = (),
    *,
    entry_points: Iterable[EntryPoint] | None = None,
    plugins: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plugins:
    """Find, load and check the modality plugins; never raises for a plugin's fault.

    ``disabled`` names plugins not to load, added to those in
    ``GOALPATH_DISABLED_PLUGINS`` (read from ``environ``, by default the
    process environment). ``entry_points`` replaces discovery in the
    ``goalpath.modalities`` group (tests pass their own); ``plugins`` adds
    plugin objects by name without an entry point.
    """
    skip = set(disabled) | disabled_from_environment(environ)
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    found = (
        installed_entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
    )
    candidates = _candidates_from_entry_points(found)
    for name, plugin in (plugins or {}).items():
        builtin = getattr(plugin, "__name__", None) in BUILTIN_PLUGINS.values()
        candidates.append(_Candidate(name, None, None, load=_given(plugin), builtin=builtin))
    # goalpath's own plugins first: a name, modality or id they hold is never taken from them.
    candidates.sort(key=lambda candidate: not candidate.builtin)
    seen: dict[str, _Candidate] = {}
    for candidate in candidates:
        if candidate.name in skip:
            candidate.state = "disabled"
            continue
        if candidate.name in BUILTIN_PLUGINS and not candidate.builtin:
            candidate.fail(
                PluginLoadError(
                    candidate.name,
                    f"the name is reserved for goalpath's built-in {candidate.name} plugin; "
                    "give the entry point another name",
                )
            )
            continue
        first = seen.setdefault(candidate.name, candidate)
        if first is not candidate:
            candidate.fail(
                PluginLoadError(
                    candidate.name,
                    f"the name is already used by the plugin from "
                    f"{first.distribution or 'the host program'}; plugin names must be unique",
                )
            )
            continue
        _register(manager, candidate)
    _run_registration_hooks(manager, candidates)
    problems: list[GoalpathError] = [
        error for candidate in candidates for error in candidate.errors
    ]
    result = Plugins(manager, candidates, problems)
    result.unknown_disabled = tuple(sorted(skip - {candidate.name for candidate in candidates}))
    return result


def instantiate_template(
    template_id: str,
    params: Mapping[str, object],
    start_on: date,
    plugins: Plugins | None = None,
) -> TemplateInstance:
    """Make a SMART goal definition from the template ``template_id``.

    ``params`` maps parameter names to values; texts (as given on the
    command line, ``--param baseline=3``) are converted to the parameter's
    type. Without ``plugins``, the installed plugins are loaded (honouring
    ``GOALPATH_DISABLED_PLUGINS``).

    Raises:
        UnknownTemplateError: no loaded plugin has that template.
        DuplicateContributionError: two plugins claim that template id.
        TemplateParameterError: a parameter is unknown, of the wrong type or out of range.
        TemplateNotSmartError: the parameters give a goal that is not SMART.
    """
    return (plugins or load_plugins()).instantiate(template_id, params, start_on)


def installed_instruments() -> dict[str, Instrument]:
    """The instruments of the installed, enabled plugins, by id.

    Loaded once per value of ``GOALPATH_DISABLED_PLUGINS``, so that the read
    side and exporters ask the registry without loading every plugin on every call.
    """
    return dict(_instruments_with_disabled(os.environ.get(DISABLED_VARIABLE, "")))


@lru_cache(maxsize=8)
def _instruments_with_disabled(_disabled: str) -> tuple[tuple[str, Instrument], ...]:
    return tuple((instrument.id, instrument) for instrument in load_plugins().instruments())
