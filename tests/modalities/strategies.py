"""Hypothesis strategies and small plugin builders shared by the modality tests."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from hypothesis import strategies as st

from goalpath.core.values import Measure
from goalpath.modalities import (
    MeasureRegistry,
    Template,
    TemplateParameter,
    TemplateRegistry,
    hookimpl,
)
from goalpath.modalities.instruments import Instrument

start_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def counting_template(template_id: str = "test.walks", **changes: Any) -> Template:
    """A valid template counting walks per week; ``changes`` override its fields."""
    fields: dict[str, Any] = {
        "id": template_id,
        "version": "1.0.0",
        "modality": template_id.partition(".")[0],
        "title": "More walks",
        "area": "behavioural-change",
        "focus": "strength-building",
        "statement": (
            "I will walk for twenty minutes on {target} days per week, up from {baseline}, "
            "within {weeks} weeks"
        ),
        "measure": Measure("days with a walk", "days per week", "increase", minimum=0, maximum=7),
        "parameters": (
            TemplateParameter("baseline", "Days now.", 2, 2, kind="integer", minimum=0, maximum=6),
            TemplateParameter(
                "target", "Days aimed for.", 4, 5, kind="integer", minimum=1, maximum=7
            ),
        ),
        "description": "A walking goal used by the tests.",
        "duration_weeks": 6,
    }
    fields.update(changes)
    return Template(**fields)


def template_plugin(*templates: Template) -> SimpleNamespace:
    """A plugin object whose register-templates hook adds ``templates``."""

    @hookimpl
    def goalpath_register_templates(registry: TemplateRegistry) -> None:
        for template in templates:
            registry.add(template)

    return SimpleNamespace(goalpath_register_templates=goalpath_register_templates)


def measure_plugin(*instruments: Instrument) -> SimpleNamespace:
    """A plugin object whose register-measures hook adds ``instruments``."""

    @hookimpl
    def goalpath_register_measures(registry: MeasureRegistry) -> None:
        for instrument in instruments:
            registry.add(instrument)

    return SimpleNamespace(goalpath_register_measures=goalpath_register_measures)
