"""Built-in plugin: mindfulness-based goal templates (MBSR, MBCT) and interventions."""

from __future__ import annotations

from typing import Final

from goalpath.core.values import GoalDefinition, Measure
from goalpath.modalities.hookspecs import hookimpl
from goalpath.modalities.interventions import Intervention, TopicSuggestions
from goalpath.modalities.measures import GAD7
from goalpath.modalities.registry import TemplateRegistry
from goalpath.modalities.templates import Template, TemplateParameter

__all__ = [
    "MODALITY",
    "TEMPLATES",
    "goalpath_register_templates",
    "goalpath_suggest_interventions",
]

MODALITY: Final = "mindfulness"

DAILY_PRACTICE: Final = Template(
    id="mindfulness.daily-practice",
    version="1.0.0",
    modality=MODALITY,
    title="Daily formal practice",
    area="behavioural-change",
    focus="strength-building",
    statement=(
        "I will practise {practice} for {target} minutes a day, up from {baseline}, within "
        "{weeks} weeks, at the same time each {time_of_day}"
    ),
    measure=Measure(
        "minutes of formal mindfulness practice",
        "minutes per day",
        "increase",
        minimum=0,
        maximum=120,
    ),
    parameters=(
        TemplateParameter(
            "baseline",
            "Average minutes a day of formal practice now.",
            0,
            5,
            minimum=0,
            maximum=119,
        ),
        TemplateParameter(
            "target", "Minutes a day the client aims for.", 10, 15, minimum=1, maximum=120
        ),
        TemplateParameter(
            "practice",
            "The formal practice.",
            "sitting meditation",
            "mindful breathing with a guided recording",
            kind="text",
        ),
        TemplateParameter(
            "time_of_day",
            "When the client practises.",
            "morning",
            "evening after work",
            kind="text",
        ),
    ),
    description=(
        "Builds a regular formal practice, the backbone of MBSR and MBCT. Start short and "
        "regular rather than long and occasional; the client logs minutes daily and averages "
        "them over the week. Ten to fifteen minutes a day is a realistic first aim."
    ),
    duration_weeks=6,
    review_every_days=14,
)

RUMINATION: Final = Template(
    id="mindfulness.rumination",
    version="1.0.0",
    modality=MODALITY,
    title="Fewer rumination episodes",
    area="symptom-relief",
    focus="symptom-reduction",
    statement=(
        "I will reduce episodes of rumination from {baseline} to {target} per day within "
        "{weeks} weeks by noticing when I am caught in repetitive thinking and returning my "
        "attention to the breath"
    ),
    measure=Measure("rumination episodes", "per day", "decrease", minimum=0, maximum=50),
    parameters=(
        TemplateParameter(
            "baseline",
            "Rumination episodes on a typical recent day.",
            6,
            5,
            minimum=1,
            maximum=50,
        ),
        TemplateParameter(
            "target", "Episodes per day the client aims for.", 3, 2, minimum=0, maximum=49
        ),
    ),
    description=(
        "For repetitive negative thinking in depression and worry (MBCT). An episode is a "
        "stretch of dwelling on the same concern that the client notices afterwards; a tally "
        "counter or phone note keeps the count honest. Noticing more episodes early on often "
        "reflects better awareness, not worsening: say so at the first review."
    ),
    duration_weeks=8,
    review_every_days=14,
    practices=("practising the three-step breathing space three times a day",),
)

BODY_SCAN: Final = Template(
    id="mindfulness.body-scan",
    version="1.0.0",
    modality=MODALITY,
    title="Regular body scan",
    area="behavioural-change",
    focus="strength-building",
    statement=(
        "I will do a body scan on {target} days per week, up from {baseline}, within {weeks} "
        "weeks, using a guided recording {when}"
    ),
    measure=Measure("days with a body scan", "days per week", "increase", minimum=0, maximum=7),
    parameters=(
        TemplateParameter(
            "baseline",
            "Days with a body scan in a typical recent week.",
            2,
            0,
            kind="integer",
            minimum=0,
            maximum=6,
        ),
        TemplateParameter(
            "target",
            "Days per week the client aims for.",
            5,
            4,
            kind="integer",
            minimum=1,
            maximum=7,
        ),
        TemplateParameter(
            "when", "When the body scan is done.", "before sleep", "after lunch", kind="text"
        ),
    ),
    description=(
        "The body scan trains sustained, kind attention to bodily sensation and is often the "
        "first practice in MBSR and MBCT. Count a day when a full scan (about 20-45 minutes "
        "with a recording) was completed."
    ),
    duration_weeks=6,
    review_every_days=14,
)

SELF_COMPASSION: Final = Template(
    id="mindfulness.self-compassion",
    version="1.0.0",
    modality=MODALITY,
    title="Self-compassion when things go wrong",
    area="personal-growth",
    focus="strength-building",
    statement=(
        "I will practise a self-compassion break each time I notice self-criticism, and "
        "rate my kindness towards myself each week, raising it from {baseline} to {target} "
        "out of 10 within {weeks} weeks"
    ),
    measure=Measure(
        "self-compassion when things go wrong", "rating 0-10", "increase", minimum=0, maximum=10
    ),
    parameters=(
        TemplateParameter(
            "baseline",
            "The client's rating this week (0 harsh, 10 kind).",
            3,
            2,
            minimum=0,
            maximum=9,
        ),
        TemplateParameter("target", "The rating the client aims for.", 6, 5, minimum=1, maximum=10),
    ),
    description=(
        "For clients with a harsh inner critic: the self-compassion break (acknowledging "
        "suffering, common humanity, a kind gesture) is practised in the moment. The weekly "
        "rating is the client's own, taken at the same time each week."
    ),
    duration_weeks=10,
    review_every_days=14,
)

WORRY_GAD7: Final = Template(
    id="mindfulness.worry-gad7",
    version="1.0.0",
    modality=MODALITY,
    title="Lower GAD-7 score",
    area="symptom-relief",
    focus="symptom-reduction",
    statement=(
        "I will reduce my GAD-7 score from {baseline} to {target} within {weeks} weeks by "
        "practising mindfulness daily and using the breathing space when I notice worry"
    ),
    measure=GAD7.measure(),
    parameters=(
        TemplateParameter(
            "baseline",
            "GAD-7 total at assessment.",
            12,
            13,
            kind="integer",
            minimum=1,
            maximum=21,
        ),
        TemplateParameter(
            "target",
            "GAD-7 total the client aims for.",
            7,
            7,
            kind="integer",
            minimum=0,
            maximum=20,
        ),
    ),
    description=(
        "An outcome goal on the GAD-7 for generalised anxiety, alongside a practice goal. A "
        "fall of 4 points or more is reliable improvement; ending below 8 after starting at "
        "8 or above is recovery."
    ),
    duration_weeks=8,
    review_every_days=14,
)

TEMPLATES: Final = (DAILY_PRACTICE, RUMINATION, BODY_SCAN, SELF_COMPASSION, WORRY_GAD7)
"""Every template this plugin registers."""

_INTERVENTIONS: Final[dict[str, tuple[Intervention, ...]]] = {
    "practice": (
        Intervention(
            "Implementation intention for practice",
            "Linking practice to a fixed cue ('after my morning coffee') makes it a habit.",
        ),
    ),
    "rumination": (
        Intervention(
            "Three-step breathing space",
            "A three-minute practice that steps out of automatic thinking when it starts.",
        ),
        Intervention(
            "Decentering from thoughts",
            "Seeing thoughts as mental events rather than facts loosens rumination.",
        ),
    ),
    "compassion": (
        Intervention(
            "Self-compassion break",
            "Acknowledging suffering, common humanity and self-kindness softens self-criticism.",
        ),
    ),
}

_TEMPLATE_TOPICS: Final = {
    "mindfulness.daily-practice": "practice",
    "mindfulness.body-scan": "practice",
    "mindfulness.rumination": "rumination",
    "mindfulness.worry-gad7": "rumination",
    "mindfulness.self-compassion": "compassion",
}

_KEYWORD_TOPICS: Final = (
    ("meditat", "practice"),
    ("mindful", "practice"),
    ("ruminat", "rumination"),
    ("worry", "rumination"),
    ("self-critic", "compassion"),
)


_SUGGESTIONS: Final = TopicSuggestions(_INTERVENTIONS, _TEMPLATE_TOPICS, _KEYWORD_TOPICS)


@hookimpl
def goalpath_register_templates(registry: TemplateRegistry) -> None:
    """Register the mindfulness templates."""
    for template in TEMPLATES:
        registry.add(template)


@hookimpl
def goalpath_suggest_interventions(
    definition: GoalDefinition, template: Template | None
) -> list[Intervention]:
    """Suggest mindfulness practices for a mindfulness template, or for a free goal's wording."""
    return _SUGGESTIONS.suggest(definition, None if template is None else template.id)
