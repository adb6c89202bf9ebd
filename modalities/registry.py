"""Registries: where a plugin adds its templates and instruments, validated on entry.

Each plugin gets its own registry for each hook call, so every refusal
names the plugin that made the bad contribution. The manager
(:mod:`goalpath.modalities.manager`) merges the registries of the plugins
that loaded, and refuses an id claimed by more than one plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from goalpath.core.errors import GoalpathError
from goalpath.modalities.errors import InvalidContributionError
from goalpath.modalities.instruments import PAIRED_RULE_MEASURES, Instrument
from goalpath.modalities.templates import Template

__all__ = ["CHECK_DATE", "MeasureRegistry", "TemplateRegistry"]

CHECK_DATE: Final = date(2024, 1, 1)
"""The start date used to check that a template instantiates; SMART does not depend on it."""


class MeasureRegistry:
    """The instruments one plugin contributes in ``goalpath_register_measures``."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self._instruments: dict[str, Instrument] = {}

    def add(self, instrument: Instrument) -> None:
        """Add an instrument.

        Raises:
            InvalidContributionError: it is not an :class:`Instrument`, this
                plugin already added one with the same id, or it marks PHQ-9 or
                GAD-7 as an anxiety-disorder-specific measure.
        """
        if not isinstance(instrument, Instrument):
            raise InvalidContributionError(
                self.plugin,
                f"goalpath_register_measures added {instrument!r}, which is not an "
                "Instrument; build one with goalpath.modalities.Instrument(...)",
            )
        if instrument.id in self._instruments:
            raise InvalidContributionError(
                self.plugin, f"instrument {instrument.id!r} is added twice"
            )
        if instrument.anxiety_disorder_specific and instrument.id in PAIRED_RULE_MEASURES:
            raise InvalidContributionError(
                self.plugin,
                f"instrument {instrument.id!r} is marked anxiety_disorder_specific, but "
                f"{instrument.id} is one of the measures the paired outcome names "
                f"({', '.join(PAIRED_RULE_MEASURES)}); only another measure can stand in "
                "for GAD-7",
            )
        self._instruments[instrument.id] = instrument

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        """The instruments added so far, in the order they were added."""
        return tuple(self._instruments.values())


class TemplateRegistry:
    """The templates one plugin contributes in ``goalpath_register_templates``.

    ``instruments`` are the instruments every loaded plugin registered; a
    template whose measure names an instrument must agree with it.
    """

    def __init__(self, plugin: str, instruments: Mapping[str, Instrument] | None = None) -> None:
        self.plugin = plugin
        self._instruments = dict(instruments or {})
        self._templates: dict[str, Template] = {}

    def add(self, template: Template) -> None:
        """Add a template, after checking that its defaults and example give SMART goals.

        Raises:
            InvalidContributionError: it is not a :class:`Template`, this plugin
                already added its id, its measure disagrees with the instrument
                it names, or its defaults or example do not give a SMART goal.
        """
        if not isinstance(template, Template):
            raise InvalidContributionError(
                self.plugin,
                f"goalpath_register_templates added {template!r}, which is not a Template; "
                "build one with goalpath.modalities.Template(...)",
            )
        if template.id in self._templates:
            raise InvalidContributionError(self.plugin, f"template {template.id!r} is added twice")
        self._check_instrument(template)
        for role, params in (
            ("defaults", template.default_parameters()),
            ("example parameters", template.example_parameters()),
        ):
            try:
                template.instantiate(params, CHECK_DATE)
            except GoalpathError as error:
                raise InvalidContributionError(
                    self.plugin, f"template {template.id!r} with its {role}: {error}"
                ) from None
        self._templates[template.id] = template

    def _check_instrument(self, template: Template) -> None:
        code = template.measure.instrument
        if code is None:
            return
        instrument = self._instruments.get(code)
        if instrument is None:
            known = ", ".join(sorted(self._instruments)) or "none"
            raise InvalidContributionError(
                self.plugin,
                f"template {template.id!r} measures instrument {code!r}, which no loaded "
                f"plugin registers (registered: {known}); register it in "
                "goalpath_register_measures or leave the measure's instrument out",
            )
        expected = instrument.measure()
        measure = template.measure
        if (measure.direction, measure.minimum, measure.maximum) != (
            expected.direction,
            expected.minimum,
            expected.maximum,
        ):
            raise InvalidContributionError(
                self.plugin,
                f"template {template.id!r} measures {code} as {measure.direction} from "
                f"{measure.minimum} to {measure.maximum}, but the instrument is "
                f"{expected.direction} from {expected.minimum:g} to {expected.maximum:g}; "
                f"use the measure the instrument gives (its .measure() method)",
            )

    @property
    def templates(self) -> tuple[Template, ...]:
        """The templates added so far, in the order they were added."""
        return tuple(self._templates.values())
