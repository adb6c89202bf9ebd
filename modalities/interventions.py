"""Interventions a plugin suggests for a goal, and the suggestion that names its plugin."""

from __future__ import annotations

import attrs

from goalpath.core.values import text

__all__ = ["Intervention", "Suggestion"]


@attrs.frozen
class Intervention:
    """A therapeutic intervention that could help reach a goal.

    ``name`` is short (``interoceptive exposure``); ``rationale`` says in a
    sentence or two why it fits the goal, for the clinician.
    """

    name: str = attrs.field(validator=text("intervention name", 200))
    rationale: str = attrs.field(validator=text("intervention rationale", 2000))


@attrs.frozen
class Suggestion:
    """An intervention together with the plugin that suggested it."""

    plugin: str
    intervention: Intervention
