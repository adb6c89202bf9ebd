"""Built-in plugin: the standard measures goalpath knows (PHQ-9, GAD-7, SUDS).

Thresholds for PHQ-9 and GAD-7 follow the NHS Talking Therapies
conventions; LOINC codes are those of the total scores. goalpath stores
total scores only and ships no questionnaire item texts.
"""

from __future__ import annotations

from typing import Final

from goalpath.modalities.hookspecs import hookimpl
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.registry import MeasureRegistry

__all__ = ["GAD7", "INSTRUMENTS", "PHQ9", "SUDS", "goalpath_register_measures"]

PHQ9: Final = Instrument(
    id="phq-9",
    name="PHQ-9 total score",
    unit="points",
    direction="decrease",
    minimum=0,
    maximum=27,
    caseness=10,
    reliable_change=6,
    loinc="44261-6",
    description=(
        "Patient Health Questionnaire, nine items on depression over the last two weeks, "
        "total 0-27. A total of 10 or more is a case; a fall of 6 points or more is a "
        "reliable improvement."
    ),
    source="Kroenke, Spitzer & Williams 2001; NHS Talking Therapies manual",
)
"""Depression: PHQ-9 total, 0-27, caseness at 10, reliable change 6 points."""

GAD7: Final = Instrument(
    id="gad-7",
    name="GAD-7 total score",
    unit="points",
    direction="decrease",
    minimum=0,
    maximum=21,
    caseness=8,
    reliable_change=4,
    loinc="70274-6",
    description=(
        "Generalised Anxiety Disorder scale, seven items on anxiety over the last two weeks, "
        "total 0-21. A total of 8 or more is a case; a fall of 4 points or more is a "
        "reliable improvement."
    ),
    source="Spitzer, Kroenke, Williams & Lowe 2006; NHS Talking Therapies manual",
)
"""Anxiety: GAD-7 total, 0-21, caseness at 8, reliable change 4 points."""

SUDS: Final = Instrument(
    id="suds",
    name="Subjective Units of Distress",
    unit="SUDS points",
    direction="decrease",
    minimum=0,
    maximum=100,
    description=(
        "The client's own rating of distress in a situation, from 0 (fully calm) to 100 "
        "(the worst distress imaginable), as used to build and climb an exposure "
        "hierarchy. A personal scale: it has no caseness or reliable-change threshold."
    ),
    source="Wolpe 1969",
)
"""Distress in a situation, 0-100, as rated by the client (exposure work)."""

INSTRUMENTS: Final = (PHQ9, GAD7, SUDS)
"""Every instrument this plugin registers."""


@hookimpl
def goalpath_register_measures(registry: MeasureRegistry) -> None:
    """Register PHQ-9, GAD-7 and SUDS."""
    for instrument in INSTRUMENTS:
        registry.add(instrument)
