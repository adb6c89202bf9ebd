"""Built-in plugin: cognitive behavioural therapy (CBT) goal templates and interventions."""

from __future__ import annotations

from typing import Final

from goalpath.core.values import GoalDefinition, Measure
from goalpath.modalities.hookspecs import hookimpl
from goalpath.modalities.interventions import Intervention, TopicSuggestions
from goalpath.modalities.measures import PHQ9
from goalpath.modalities.registry import TemplateRegistry
from goalpath.modalities.templates import Template, TemplateParameter

__all__ = [
    "MODALITY",
    "TEMPLATES",
    "goalpath_register_templates",
    "goalpath_suggest_interventions",
]

MODALITY: Final = "cbt"

PANIC_FREQUENCY: Final = Template(
    id="cbt.panic-frequency",
    version="1.0.0",
    modality=MODALITY,
    title="Fewer panic attacks",
    area="symptom-relief",
    focus="symptom-reduction",
    statement=(
        "I will reduce my panic attacks from {baseline} to {target} per week within "
        "{weeks} weeks by practising {coping_skill} when I notice the first signs of panic"
    ),
    measure=Measure("panic attacks", "per week", "decrease", minimum=0),
    parameters=(
        TemplateParameter(
            "baseline", "Panic attacks in a typical recent week.", 4, 3, minimum=1, maximum=70
        ),
        TemplateParameter(
            "target", "Panic attacks per week the client aims for.", 1, 1, minimum=0, maximum=70
        ),
        TemplateParameter(
            "coping_skill",
            "The skill practised at the first signs of panic.",
            "slow breathing",
            "paced breathing and re-reading my panic flashcard",
            kind="text",
        ),
    ),
    description=(
        "Panic disorder work in the cognitive model: the client keeps a panic diary, learns "
        "that bodily sensations are not dangerous, and stops safety behaviours. Count every "
        "attack, full or limited, in the diary and total it weekly. Keep the first target "
        "modest: halving the frequency over six to eight weeks is a reasonable first step."
    ),
    duration_weeks=8,
    review_every_days=14,
    practices=("practising {coping_skill} daily, not only during panic",),
)

GRADED_EXPOSURE: Final = Template(
    id="cbt.graded-exposure",
    version="1.0.0",
    modality=MODALITY,
    title="Climb an exposure hierarchy",
    area="behavioural-change",
    focus="symptom-reduction",
    statement=(
        "I will complete {target} steps of my exposure hierarchy for {situation}, up from "
        "{baseline} now, within {weeks} weeks, staying in each situation until my distress "
        "falls by about half"
    ),
    measure=Measure(
        "exposure steps completed", "steps of the hierarchy", "increase", minimum=0, maximum=20
    ),
    parameters=(
        TemplateParameter(
            "baseline", "Steps already completed.", 0, 1, kind="integer", minimum=0, maximum=19
        ),
        TemplateParameter(
            "target",
            "Steps to complete by the due date.",
            6,
            5,
            kind="integer",
            minimum=1,
            maximum=20,
        ),
        TemplateParameter(
            "situation",
            "The feared situation the hierarchy climbs towards.",
            "leaving the house alone",
            "travelling by bus to the town centre",
            kind="text",
        ),
    ),
    description=(
        "Graded exposure for avoidance (agoraphobia, specific phobias, social anxiety). Build "
        "a hierarchy of ten or so steps rated in SUDS, and climb it from the bottom; a step "
        "counts as completed once it has been repeated until it no longer causes marked "
        "distress. Review safety behaviours at each step."
    ),
    duration_weeks=10,
    review_every_days=14,
    practices=("practising the current step at least three times a week",),
)

THOUGHT_RECORDS: Final = Template(
    id="cbt.thought-records",
    version="1.0.0",
    modality=MODALITY,
    title="Complete thought records",
    area="behavioural-change",
    focus="strength-building",
    statement=(
        "I will write {target} thought records per week, up from {baseline}, within {weeks} "
        "weeks, each time I notice a sharp drop in my mood"
    ),
    measure=Measure("thought records completed", "per week", "increase", minimum=0, maximum=21),
    parameters=(
        TemplateParameter(
            "baseline",
            "Thought records written in a typical recent week.",
            0,
            1,
            kind="integer",
            minimum=0,
            maximum=20,
        ),
        TemplateParameter(
            "target",
            "Thought records per week the client aims for.",
            4,
            4,
            kind="integer",
            minimum=1,
            maximum=21,
        ),
    ),
    description=(
        "Builds the skill of catching automatic thoughts, weighing the evidence and writing a "
        "balanced alternative. Count a record when at least the situation, the thought, the "
        "feeling and an alternative thought are written down. Bring records to each session."
    ),
    duration_weeks=6,
    review_every_days=14,
)

BEHAVIOURAL_ACTIVATION: Final = Template(
    id="cbt.behavioural-activation",
    version="1.0.0",
    modality=MODALITY,
    title="More planned activities",
    area="behavioural-change",
    focus="strength-building",
    statement=(
        "I will complete {target} planned activities per week that give me a sense of "
        "pleasure or achievement, up from {baseline}, within {weeks} weeks, scheduling them "
        "in my activity diary every {planning_day}"
    ),
    measure=Measure("planned activities completed", "per week", "increase", minimum=0, maximum=50),
    parameters=(
        TemplateParameter(
            "baseline",
            "Planned activities completed in a typical recent week.",
            2,
            1,
            kind="integer",
            minimum=0,
            maximum=49,
        ),
        TemplateParameter(
            "target",
            "Planned activities per week the client aims for.",
            5,
            4,
            kind="integer",
            minimum=1,
            maximum=50,
        ),
        TemplateParameter(
            "planning_day",
            "The day of the week the client plans activities.",
            "Sunday",
            "Friday",
            kind="text",
        ),
    ),
    description=(
        "Behavioural activation for low mood: monitor activity and mood for a week, then "
        "schedule small, specific activities that bring pleasure, achievement or closeness, "
        "building up gradually. Count only activities that were planned in advance."
    ),
    duration_weeks=8,
    review_every_days=14,
)

LOW_MOOD_PHQ9: Final = Template(
    id="cbt.low-mood-phq9",
    version="1.0.0",
    modality=MODALITY,
    title="Lower PHQ-9 score",
    area="symptom-relief",
    focus="symptom-reduction",
    statement=(
        "I will reduce my PHQ-9 score from {baseline} to {target} within {weeks} weeks by "
        "practising the skills agreed in each session, completing the PHQ-9 every two weeks"
    ),
    measure=PHQ9.measure(),
    parameters=(
        TemplateParameter(
            "baseline",
            "PHQ-9 total at assessment.",
            15,
            16,
            kind="integer",
            minimum=1,
            maximum=27,
        ),
        TemplateParameter(
            "target",
            "PHQ-9 total the client aims for.",
            9,
            9,
            kind="integer",
            minimum=0,
            maximum=26,
        ),
    ),
    description=(
        "An outcome goal on the PHQ-9 for depression. A fall of 6 points or more is reliable "
        "improvement; ending below 10 after starting at 10 or above is recovery. Pair it with "
        "a behavioural goal (for example behavioural activation) so the plan says what the "
        "client will do, not only which score should change."
    ),
    duration_weeks=12,
    review_every_days=14,
)

TEMPLATES: Final = (
    PANIC_FREQUENCY,
    GRADED_EXPOSURE,
    THOUGHT_RECORDS,
    BEHAVIOURAL_ACTIVATION,
    LOW_MOOD_PHQ9,
)
"""Every template this plugin registers."""

_INTERVENTIONS: Final[dict[str, tuple[Intervention, ...]]] = {
    "panic": (
        Intervention(
            "Interoceptive exposure",
            "Bringing on feared bodily sensations on purpose (spinning, over-breathing) "
            "teaches that they pass without harm.",
        ),
        Intervention(
            "Cognitive restructuring of catastrophic misinterpretations",
            "Testing beliefs such as 'my racing heart means a heart attack' against evidence "
            "and behavioural experiments.",
        ),
    ),
    "exposure": (
        Intervention(
            "Graded in-vivo exposure with SUDS ratings",
            "Climbing a hierarchy of feared situations, step by step, reduces avoidance.",
        ),
        Intervention(
            "Dropping safety behaviours",
            "Safety behaviours keep fear going; testing predictions without them is stronger.",
        ),
    ),
    "thought": (
        Intervention(
            "Seven-column thought record",
            "Structured practice in catching, examining and balancing automatic thoughts.",
        ),
    ),
    "activation": (
        Intervention(
            "Activity monitoring and scheduling",
            "A week of activity and mood monitoring shows what lifts mood; scheduling makes "
            "those activities happen.",
        ),
    ),
}

_TEMPLATE_TOPICS: Final = {
    "cbt.panic-frequency": "panic",
    "cbt.graded-exposure": "exposure",
    "cbt.thought-records": "thought",
    "cbt.behavioural-activation": "activation",
    "cbt.low-mood-phq9": "activation",
}

_KEYWORD_TOPICS: Final = (
    ("panic", "panic"),
    ("avoid", "exposure"),
    ("phobi", "exposure"),
    ("thought", "thought"),
    ("low mood", "activation"),
    ("depress", "activation"),
)


_SUGGESTIONS: Final = TopicSuggestions(_INTERVENTIONS, _TEMPLATE_TOPICS, _KEYWORD_TOPICS)


@hookimpl
def goalpath_register_templates(registry: TemplateRegistry) -> None:
    """Register the CBT templates."""
    for template in TEMPLATES:
        registry.add(template)


@hookimpl
def goalpath_suggest_interventions(
    definition: GoalDefinition, template: Template | None
) -> list[Intervention]:
    """Suggest CBT interventions for a CBT template, or for a free goal by its wording."""
    return _SUGGESTIONS.suggest(definition, None if template is None else template.id)
