"""The hook specifications of goalpath's modality plugins.

A plugin is a module (or any object) with functions named like these,
decorated with :data:`goalpath.modalities.hookimpl`, registered under the
entry-point group ``goalpath.modalities``. A plugin implements only the
hooks it needs, and may take only some of a hook's arguments.
"""

from __future__ import annotations

from typing import Final

import pluggy

from goalpath.core.values import GoalDefinition
from goalpath.modalities.interventions import Intervention
from goalpath.modalities.registry import MeasureRegistry, TemplateRegistry
from goalpath.modalities.templates import Template

__all__ = [
    "PROJECT_NAME",
    "goalpath_register_measures",
    "goalpath_register_templates",
    "goalpath_suggest_interventions",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME: Final = "goalpath"
"""The pluggy project name; hook names start with ``goalpath_``."""

hookspec: Final = pluggy.HookspecMarker(PROJECT_NAME)
"""Marks a hook specification (used in this module only)."""

hookimpl: Final = pluggy.HookimplMarker(PROJECT_NAME)
"""Marks a plugin's hook implementation: ``@hookimpl`` above ``def goalpath_...``."""


@hookspec
def goalpath_register_measures(registry: MeasureRegistry) -> None:
    """Add the plugin's instruments (standard measures) with ``registry.add(Instrument(...))``.

    Called once per plugin when plugins load, before any template is
    registered, so templates of every plugin can measure these instruments.
    Returns nothing. An invalid instrument raises
    :class:`~goalpath.modalities.errors.InvalidContributionError` naming the
    plugin; the plugin is then reported as failed and none of its
    contributions is used.
    """


@hookspec
def goalpath_register_templates(registry: TemplateRegistry) -> None:
    """Add the plugin's goal templates with ``registry.add(Template(...))``.

    Called once per plugin when plugins load, after every plugin's measures.
    Returns nothing. ``add`` checks that the template's defaults and example
    parameters give SMART goals and that a named instrument is registered;
    a refusal names the plugin, which is then reported as failed.
    """


@hookspec
def goalpath_suggest_interventions(
    definition: GoalDefinition, template: Template | None
) -> list[Intervention] | None:
    """Suggest interventions that could help reach a goal.

    Called by ``Plugins.suggest_interventions`` for a goal definition and the
    template it was made from (``None`` for a goal written freely). Return a
    list of :class:`~goalpath.modalities.interventions.Intervention` (an empty
    list or ``None`` when the plugin has nothing to suggest). A plugin that
    raises or returns something else is reported and its answer skipped.
    """
