"""Modality plugins: goal templates and standard measures contributed through pluggy hooks.

A plugin decorates functions named after the hooks in
:mod:`goalpath.modalities.hookspecs` with :data:`hookimpl` and registers
under the entry-point group ``goalpath.modalities``. goalpath's own
measures, CBT, mindfulness and psychodynamic plugins are found the same way.

Typical use::

    plugins = load_plugins()
    instance = instantiate_template(
        "cbt.panic-frequency", {"baseline": "4", "target": "1"}, date(2026, 5, 4), plugins
    )
    app.create_goal(episode_id, instance.definition, actor=actor,
                    template_id=instance.template_id,
                    template_version=instance.template_version)
"""

from goalpath.core.values import Measure
from goalpath.modalities.errors import (
    DuplicateContributionError,
    InvalidContributionError,
    InvalidTemplateError,
    ModalityError,
    PluginLoadError,
    TemplateNotSmartError,
    TemplateParameterError,
    UnknownInstrumentError,
    UnknownTemplateError,
)
from goalpath.modalities.hookspecs import PROJECT_NAME, hookimpl, hookspec
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.interventions import Intervention, Suggestion, TopicSuggestions
from goalpath.modalities.manager import (
    DISABLED_VARIABLE,
    ENTRY_POINT_GROUP,
    Plugins,
    PluginStatus,
    disabled_from_environment,
    instantiate_template,
    load_plugins,
)
from goalpath.modalities.registry import MeasureRegistry, TemplateRegistry
from goalpath.modalities.templates import Template, TemplateInstance, TemplateParameter

__all__ = [
    "DISABLED_VARIABLE",
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "DuplicateContributionError",
    "Instrument",
    "Intervention",
    "InvalidContributionError",
    "InvalidTemplateError",
    "Measure",
    "MeasureRegistry",
    "ModalityError",
    "PluginLoadError",
    "PluginStatus",
    "Plugins",
    "Suggestion",
    "Template",
    "TemplateInstance",
    "TemplateNotSmartError",
    "TemplateParameter",
    "TemplateParameterError",
    "TemplateRegistry",
    "TopicSuggestions",
    "UnknownInstrumentError",
    "UnknownTemplateError",
    "disabled_from_environment",
    "hookimpl",
    "hookspec",
    "instantiate_template",
    "load_plugins",
]
