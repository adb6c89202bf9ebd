"""Interventions a plugin suggests for a goal, and the suggestion that names its plugin."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from goalpath.core.values import GoalDefinition, text

__all__ = ["Intervention", "Suggestion", "TopicSuggestions"]


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


@attrs.frozen
class TopicSuggestions:
    """Interventions by topic, chosen by a template's topic or by keywords in a free goal.

    How the built-in plugins answer ``goalpath_suggest_interventions``: a goal
    from one of the plugin's templates gets that template's topic; a goal
    stated freely gets every topic whose keyword its statement contains.
    """

    interventions: Mapping[str, Sequence[Intervention]]
    template_topics: Mapping[str, str]
    keyword_topics: Sequence[tuple[str, str]]

    def suggest(self, definition: GoalDefinition, template_id: str | None) -> list[Intervention]:
        """The interventions for a goal from template ``template_id``, or for a free goal."""
        if template_id is not None:
            topic = self.template_topics.get(template_id)
            return list(self.interventions[topic]) if topic else []
        statement = definition.statement.lower()
        topics = dict.fromkeys(
            topic for keyword, topic in self.keyword_topics if keyword in statement
        )
        return [intervention for topic in topics for intervention in self.interventions[topic]]
