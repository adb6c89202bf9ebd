"""A new modality plugin project, ready to install and test: ``goalpath plugin new NAME``.

The project holds a ``pyproject.toml`` declaring the entry point, a package
with one goal template of the plugin's own modality and a suggestion hook
that answers only for its own templates, and a test that runs goalpath's
conformance kit (:class:`goalpath.modalities.testing.PluginContract`) on it.
Installed with ``pip install -e``, its tests pass as generated, and
``goalpath plugins --strict`` lists it as loaded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from goalpath.modalities.errors import ModalityError
from goalpath.modalities.manager import BUILTIN_PLUGINS

__all__ = ["PLUGIN_NAME", "ScaffoldError", "write_plugin_project"]

PLUGIN_NAME: Final = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
"""A plugin (and modality) name: lower-case words joined by hyphens, such as ``dbt-skills``."""


class ScaffoldError(ModalityError):
    """A plugin project cannot be made with that name or in that place."""


_PYPROJECT: Final = """\
[build-system]
requires = ["setuptools>=69"]
build-backend = "setuptools.build_meta"

[project]
name = "goalpath-{name}-plugin"
version = "0.1.0"
description = "{title} goal templates for goalpath."
requires-python = ">=3.11"
dependencies = ["goalpath"]

[project.optional-dependencies]
test = ["pytest>=8.0"]

[project.entry-points."goalpath.modalities"]
{name} = "{package}"

[tool.setuptools]
packages = ["{package}"]
"""

_PACKAGE: Final = '''\
"""{title} goal templates: a goalpath modality plugin."""

from goalpath.core.values import GoalDefinition
from goalpath.modalities import (
    Intervention,
    Measure,
    Template,
    TemplateParameter,
    TemplateRegistry,
    TopicSuggestions,
    hookimpl,
)

PRACTICE = Template(
    id="{name}.weekly-practice",
    version="1.0.0",
    modality="{name}",
    title="Practise a new skill each week",
    area="behavioural-change",
    focus="strength-building",
    statement=(
        "I will practise my new skill {{target}} times per week, up from {{baseline}}, "
        "within {{weeks}} weeks, whenever I notice stress rising at home"
    ),
    measure=Measure("skill practice", "per week", "increase", minimum=0, maximum=21),
    parameters=(
        TemplateParameter("baseline", "Practices in a recent week.", 0, 1, minimum=0),
        TemplateParameter("target", "Practices per week aimed for.", 3, 4, minimum=1),
    ),
    description="A first template: replace it with your modality's own goals.",
    duration_weeks=6,
    review_every_days=14,
)

_SUGGESTIONS = TopicSuggestions(
    interventions={{
        "practice": (
            Intervention(
                "Plan the practice",
                "Agree when and where the skill will be practised each week.",
            ),
        ),
    }},
    template_topics={{PRACTICE.id: "practice"}},
    keyword_topics=(),
)


@hookimpl
def goalpath_register_templates(registry: TemplateRegistry) -> None:
    """Register the {title} templates."""
    registry.add(PRACTICE)


@hookimpl
def goalpath_suggest_interventions(
    definition: GoalDefinition, template: Template | None
) -> list[Intervention]:
    """Suggest interventions for this plugin's own templates only."""
    return _SUGGESTIONS.suggest(definition, None if template is None else template.id)
'''

_TEST: Final = '''\
"""The plugin passes goalpath's conformance kit, and is installed under its entry point."""

import {package}

from goalpath.modalities.testing import PluginContract


class TestPlugin(PluginContract):
    """Every check of the kit, run on this plugin."""

    plugin = {package}
    plugin_name = "{name}"
'''

_README: Final = """\
# goalpath-{name}-plugin

{title} goal templates for goalpath.

    pip install -e ".[test]"
    python -m pytest
    goalpath plugins --strict
    goalpath templates list --modality {name}
"""


def write_plugin_project(name: str, directory: Path) -> Path:
    """Write a plugin project called ``name`` into a new folder under ``directory``; return it.

    Raises:
        ScaffoldError: the name is not a plugin name, is reserved by a
            built-in plugin, or its folder already exists (nothing is written).
    """
    if not PLUGIN_NAME.fullmatch(name):
        raise ScaffoldError(
            f"{name!r} is not a plugin name: use lower-case letters, digits and hyphens, "
            "starting with a letter (such as dbt-skills)"
        )
    if name in BUILTIN_PLUGINS:
        raise ScaffoldError(f"{name!r} is the name of goalpath's built-in plugin; choose another")
    project = directory / f"goalpath-{name}-plugin"
    if project.exists():
        raise ScaffoldError(f"{project} already exists; nothing was written")
    package = f"goalpath_{name.replace('-', '_')}_plugin"
    title = name.replace("-", " ").capitalize()
    values = {"name": name, "package": package, "title": title}
    files = {
        project / "pyproject.toml": _PYPROJECT,
        project / "README.md": _README,
        project / package / "__init__.py": _PACKAGE,
        project / "tests" / "test_conformance.py": _TEST,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(**values), encoding="utf-8")
    return project
