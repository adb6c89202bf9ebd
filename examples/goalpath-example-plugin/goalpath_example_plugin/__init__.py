"""Acceptance and commitment therapy (ACT) goal templates: a goalpath plugin."""

from goalpath.modalities import (
    Instrument,
    Measure,
    MeasureRegistry,
    Template,
    TemplateParameter,
    TemplateRegistry,
    hookimpl,
)

VALUED_LIVING = Instrument(
    id="valued-living",
    name="valued living rating",
    unit="rating 0-10",
    direction="increase",
    minimum=0,
    maximum=10,
    description="How closely the client lived by their chosen values this week, 0 to 10.",
)

VALUED_ACTIONS = Template(
    id="act.valued-actions",
    version="1.0.0",
    modality="act",
    title="Act on a chosen value",
    area="personal-growth",
    focus="strength-building",
    statement=(
        "I will complete {target} small actions per week that serve my value of {value}, "
        "up from {baseline}, within {weeks} weeks, even when difficult feelings show up"
    ),
    measure=Measure("valued actions", "per week", "increase", minimum=0, maximum=50),
    parameters=(
        TemplateParameter("baseline", "Valued actions in a recent week.", 1, 0, minimum=0),
        TemplateParameter("target", "Valued actions per week aimed for.", 4, 3, minimum=1),
        TemplateParameter(
            "value",
            "The value, in the client's words.",
            "being a caring friend",
            "learning and curiosity",
            kind="text",
        ),
    ),
    description="Committed action: small, concrete steps towards a value the client chose.",
    duration_weeks=8,
    review_every_days=14,
)

LIVING_BY_VALUES = Template(
    id="act.living-by-values",
    version="1.0.0",
    modality="act",
    title="Live closer to my values",
    area="personal-growth",
    focus="strength-building",
    statement=(
        "I will rate each Sunday how closely I lived by my values, raising the rating "
        "from {baseline} to {target} within {weeks} weeks"
    ),
    measure=VALUED_LIVING.measure(),
    parameters=(
        TemplateParameter("baseline", "This week's rating.", 3, 2, minimum=0, maximum=9),
        TemplateParameter("target", "The rating aimed for.", 6, 5, minimum=1, maximum=10),
    ),
    description="Tracks valued living week by week, alongside a committed-action goal.",
    duration_weeks=10,
    review_every_days=14,
)


@hookimpl
def goalpath_register_measures(registry: MeasureRegistry) -> None:
    """Register the valued living rating."""
    registry.add(VALUED_LIVING)


@hookimpl
def goalpath_register_templates(registry: TemplateRegistry) -> None:
    """Register the ACT templates."""
    registry.add(VALUED_ACTIONS)
    registry.add(LIVING_BY_VALUES)
