"""Built-in plugin: psychodynamic therapy goal templates and interventions."""

from __future__ import annotations

from typing import Final

from goalpath.core.values import GoalDefinition, Measure
from goalpath.modalities.hookspecs import hookimpl
from goalpath.modalities.interventions import Intervention, TopicSuggestions
from goalpath.modalities.registry import TemplateRegistry
from goalpath.modalities.templates import Template, TemplateParameter

__all__ = [
    "MODALITY",
    "TEMPLATES",
    "goalpath_register_templates",
    "goalpath_suggest_interventions",
]

MODALITY: Final = "psychodynamic"

RELATIONSHIP_PATTERN: Final = Template(
    id="psychodynamic.relationship-pattern",
    version="1.0.0",
    modality=MODALITY,
    title="Recognise a recurring relationship pattern",
    area="personal-growth",
    focus="strength-building",
    statement=(
        "I will recognise my recurring relationship pattern ({pattern}) when it happens with "
        "others and in session, raising our shared rating of how readily I notice it from "
        "{baseline} to {target} out of 10 within {weeks} weeks"
    ),
    measure=Measure(
        "recognition of the recurring relationship pattern",
        "rating 0-10, agreed in session",
        "increase",
        minimum=0,
        maximum=10,
    ),
    parameters=(
        TemplateParameter(
            "baseline",
            "Today's agreed rating (0 never noticed, 10 noticed as it happens).",
            2,
            1,
            minimum=0,
            maximum=9,
        ),
        TemplateParameter(
            "target", "The rating client and therapist aim for.", 5, 4, minimum=1, maximum=10
        ),
        TemplateParameter(
            "pattern",
            "The pattern in the client's words (wish, expected response of others, own response).",
            "expecting to be let down and withdrawing first",
            "pleasing others and then feeling resentful",
            kind="text",
        ),
    ),
    description=(
        "Builds on a formulation of a core conflictual relationship theme: what the client "
        "wishes for, how they expect others to respond, and how they respond in turn. Client "
        "and therapist agree a rating in session, including when the pattern shows in the "
        "therapeutic relationship."
    ),
    duration_weeks=12,
    review_every_days=28,
)

EMOTIONAL_EXPRESSION: Final = Template(
    id="psychodynamic.emotional-expression",
    version="1.0.0",
    modality=MODALITY,
    title="Express feelings to someone close",
    area="relationships",
    focus="strength-building",
    statement=(
        "I will express my feelings directly to {person} at least {target} times per week, "
        "up from {baseline}, within {weeks} weeks, naming the feeling rather than acting it out"
    ),
    measure=Measure(
        "times feelings were expressed directly", "per week", "increase", minimum=0, maximum=50
    ),
    parameters=(
        TemplateParameter(
            "baseline",
            "Times in a typical recent week.",
            1,
            0,
            kind="integer",
            minimum=0,
            maximum=49,
        ),
        TemplateParameter(
            "target",
            "Times per week the client aims for.",
            3,
            2,
            kind="integer",
            minimum=1,
            maximum=50,
        ),
        TemplateParameter(
            "person", "Who the client speaks to.", "my partner", "my sister", kind="text"
        ),
    ),
    description=(
        "For clients who keep feelings out of their closest relationships (anger turned "
        "inwards, withdrawal, sulking). The client notes each time they said how they felt "
        "in words; what happened next is material for sessions."
    ),
    duration_weeks=10,
    review_every_days=28,
)

INSIGHT: Final = Template(
    id="psychodynamic.insight",
    version="1.0.0",
    modality=MODALITY,
    title="Insight into past and present",
    area="personal-growth",
    focus="strength-building",
    statement=(
        "I will rate after each session how well I understand the links between my early "
        "experiences and {difficulty}, raising the rating from {baseline} to {target} out of "
        "10 within {weeks} weeks"
    ),
    measure=Measure(
        "insight into links between past and present",
        "rating 0-10",
        "increase",
        minimum=0,
        maximum=10,
    ),
    parameters=(
        TemplateParameter("baseline", "The client's first rating.", 3, 2, minimum=0, maximum=9),
        TemplateParameter("target", "The rating the client aims for.", 6, 6, minimum=1, maximum=10),
        TemplateParameter(
            "difficulty",
            "The current difficulty, in the client's words.",
            "my current difficulties",
            "how I react to criticism at work",
            kind="text",
        ),
    ),
    description=(
        "Tracks insight over time, rated by the client after each session on the same "
        "question. Insight is expected to move unevenly: look at the trend across sessions "
        "rather than at any single rating."
    ),
    duration_weeks=16,
    review_every_days=28,
)

DEFENSIVE_WITHDRAWAL: Final = Template(
    id="psychodynamic.defensive-withdrawal",
    version="1.0.0",
    modality=MODALITY,
    title="Withdraw less when criticised",
    area="relationships",
    focus="symptom-reduction",
    statement=(
        "I will reduce the times I withdraw from {person} when I feel criticised from "
        "{baseline} to {target} per week within {weeks} weeks by saying what I feel in the "
        "moment"
    ),
    measure=Measure("times withdrawing when criticised", "per week", "decrease", minimum=0),
    parameters=(
        TemplateParameter(
            "baseline",
            "Times in a typical recent week.",
            4,
            3,
            kind="integer",
            minimum=1,
            maximum=50,
        ),
        TemplateParameter(
            "target",
            "Times per week the client aims for.",
            2,
            1,
            kind="integer",
            minimum=0,
            maximum=49,
        ),
        TemplateParameter(
            "person",
            "Who the client withdraws from.",
            "people close to me",
            "my partner",
            kind="text",
        ),
    ),
    description=(
        "Reduces a defensive response (going silent, leaving the room, cutting contact) that "
        "the formulation links to an early experience of criticism. Each withdrawal noticed "
        "is explored in session for the feeling it protected against."
    ),
    duration_weeks=12,
    review_every_days=28,
)

TEMPLATES: Final = (RELATIONSHIP_PATTERN, EMOTIONAL_EXPRESSION, INSIGHT, DEFENSIVE_WITHDRAWAL)
"""Every template this plugin registers."""

_INTERVENTIONS: Final[dict[str, tuple[Intervention, ...]]] = {
    "pattern": (
        Intervention(
            "Core conflictual relationship theme formulation",
            "Naming wish, response of other and response of self makes the pattern visible "
            "across relationships.",
        ),
        Intervention(
            "Work in the transference",
            "Noticing the pattern as it appears with the therapist offers a live chance to "
            "do something different.",
        ),
    ),
    "expression": (
        Intervention(
            "Affect focus",
            "Staying with feelings as they arise in session, and naming them, builds the "
            "capacity to express them outside.",
        ),
    ),
    "insight": (
        Intervention(
            "Linking interpretations",
            "Connecting present reactions with earlier relationships, offered tentatively and "
            "tested together, deepens understanding.",
        ),
    ),
}

_TEMPLATE_TOPICS: Final = {
    "psychodynamic.relationship-pattern": "pattern",
    "psychodynamic.emotional-expression": "expression",
    "psychodynamic.insight": "insight",
    "psychodynamic.defensive-withdrawal": "pattern",
}

_KEYWORD_TOPICS: Final = (
    ("pattern", "pattern"),
    ("partner", "expression"),
    ("express", "expression"),
    ("understand", "insight"),
)


_SUGGESTIONS: Final = TopicSuggestions(_INTERVENTIONS, _TEMPLATE_TOPICS, _KEYWORD_TOPICS)


@hookimpl
def goalpath_register_templates(registry: TemplateRegistry) -> None:
    """Register the psychodynamic templates."""
    for template in TEMPLATES:
        registry.add(template)


@hookimpl
def goalpath_suggest_interventions(
    definition: GoalDefinition, template: Template | None
) -> list[Intervention]:
    """Suggest psychodynamic interventions for its templates, or for a free goal's wording."""
    return _SUGGESTIONS.suggest(definition, None if template is None else template.id)
