"""Standardised outcomes: reliable change, caseness and recovery.

The thresholds of each instrument (range, direction, caseness, reliable
change) come from the plugin registry: the built-in measures plugin
contributes PHQ-9 and GAD-7 by NHS Talking Therapies conventions, and a
third-party instrument with caseness and reliable-change thresholds is read
the same way. :func:`conventions_of` turns registered instruments into the
table the functions here take; without one, the installed plugins are asked
(:func:`installed_conventions`, honouring ``GOALPATH_DISABLED_PLUGINS``).
The general Reliable Change Index and clinical cut-off of Jacobson & Truax
(1991) are here too.

An episode is classified by the NHS Talking Therapies paired rule
(:data:`PAIRED_RULE`): the first and last score of PHQ-9 and of the anxiety
measure (GAD-7, or an anxiety-disorder-specific measure standing in for it,
:func:`paired_measures`), combined by :func:`combine_outcomes`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Final, Literal

import attrs

from goalpath.core.errors import InvalidValueError
from goalpath.modalities.instruments import PAIRED_RULE_MEASURES, Instrument
from goalpath.modalities.manager import installed_instruments
from goalpath.projections.errors import UnknownInstrumentError

__all__ = [
    "MIN_TREATMENT_SESSIONS",
    "PAIRED_RULE",
    "RELIABLE_RCI",
    "CombinedOutcome",
    "Conventions",
    "Course",
    "InstrumentPair",
    "OutcomeClassification",
    "OutcomeRule",
    "classify_change",
    "clinical_cutoff",
    "combine_outcomes",
    "conventions_for",
    "conventions_of",
    "conventions_or_installed",
    "installed_conventions",
    "paired_measures",
    "reliable_change_index",
]

RELIABLE_RCI: Final = 1.96
"""An absolute Reliable Change Index above this is reliable change (p < 0.05)."""


Conventions = Mapping[str, Instrument]
"""The standardised instruments by id: those with caseness and reliable-change thresholds."""


def conventions_of(instruments: Iterable[Instrument]) -> dict[str, Instrument]:
    """The instruments that have caseness and reliable-change thresholds, by id."""
    return {
        instrument.id: instrument
        for instrument in instruments
        if instrument.caseness is not None and instrument.reliable_change is not None
    }


def installed_conventions() -> Conventions:
    """The standardised instruments of the installed, enabled plugins, by id."""
    return conventions_of(installed_instruments().values())


def conventions_or_installed(conventions: Conventions | None) -> Conventions:
    """``conventions``, or those of the installed plugins when it is ``None``."""
    return installed_conventions() if conventions is None else conventions


def conventions_for(code: str, conventions: Conventions | None = None) -> Instrument:
    """Return the conventions of an instrument, or raise :class:`UnknownInstrumentError`.

    ``conventions`` defaults to :func:`installed_conventions`.
    """
    table = conventions_or_installed(conventions)
    try:
        return table[code.lower()]
    except KeyError:
        raise UnknownInstrumentError(code, tuple(table)) from None


@attrs.frozen
class OutcomeClassification:
    """What a change from a first to a last score means clinically.

    ``case_at_start``/``case_at_end``: at or above caseness. ``recovery``: a
    case at the start and below caseness at the end. ``reliable_recovery``:
    recovery with reliable improvement. ``reliable_deterioration``: the
    score rose by at least the reliable-change threshold.
    """

    instrument: str
    first: float
    last: float
    change: float
    case_at_start: bool
    case_at_end: bool
    reliable_improvement: bool
    reliable_deterioration: bool
    recovery: bool
    reliable_recovery: bool


def classify_change(
    instrument: str, first: float, last: float, conventions: Conventions | None = None
) -> OutcomeClassification:
    """Classify the change from ``first`` to ``last`` on a standardised instrument.

    ``conventions`` defaults to :func:`installed_conventions`.
    """
    scale = conventions_for(instrument, conventions)
    for name, score in (("first score", first), ("last score", last)):
        if not scale.minimum <= score <= scale.maximum:
            raise InvalidValueError(
                f"{name} {score:g} is outside {scale.name} ({scale.minimum:g} to {scale.maximum:g})"
            )
    change = last - first
    case_at_start = scale.is_case(first)
    case_at_end = scale.is_case(last)
    reliable = scale.reliable_change_between(first, last)
    improved = reliable == "improvement"
    deteriorated = reliable == "deterioration"
    recovery = case_at_start and not case_at_end
    return OutcomeClassification(
        instrument=scale.id,
        first=first,
        last=last,
        change=change,
        case_at_start=case_at_start,
        case_at_end=case_at_end,
        reliable_improvement=improved,
        reliable_deterioration=deteriorated,
        recovery=recovery,
        reliable_recovery=recovery and improved,
    )


@attrs.frozen
class CombinedOutcome:
    """The outcome of one episode over all its standardised measures.

    As in NHS Talking Therapies: a case at the start on any measure;
    recovery when a case at the start is below caseness on every measure at
    the end; reliable improvement when at least one measure improved
    reliably and none deteriorated reliably; reliable deterioration when
    any measure deteriorated reliably.
    """

    case_at_start: bool
    recovery: bool
    reliable_improvement: bool
    reliable_deterioration: bool
    reliable_recovery: bool


def combine_outcomes(outcomes: Sequence[OutcomeClassification]) -> CombinedOutcome | None:
    """Combine the per-measure outcomes of one episode; ``None`` when there are none."""
    if not outcomes:
        return None
    case_at_start = any(o.case_at_start for o in outcomes)
    recovery = case_at_start and not any(o.case_at_end for o in outcomes)
    deterioration = any(o.reliable_deterioration for o in outcomes)
    improvement = any(o.reliable_improvement for o in outcomes) and not deterioration
    return CombinedOutcome(
        case_at_start=case_at_start,
        recovery=recovery,
        reliable_improvement=improvement,
        reliable_deterioration=deterioration,
        reliable_recovery=recovery and improvement,
    )


@attrs.frozen
class OutcomeRule:
    """A published rule that classifies episodes, named as a report must cite it."""

    name: str
    version: str
    source: str

    @property
    def title(self) -> str:
        """The rule's name and version, as a report heading shows them."""
        return f"{self.name}, {self.version}"


PAIRED_RULE: Final = OutcomeRule(
    name="NHS Talking Therapies paired outcome",
    version="manual edition unverified",
    source=(
        "NHS England, The NHS Talking Therapies for Anxiety and Depression Manual (edition "
        "and year unverified): recovery, reliable improvement and reliable deterioration on "
        "paired PHQ-9 and anxiety (GAD-7 or anxiety-disorder-specific) scores of finished "
        "courses of treatment; finished course and caseness as the OHID common mental "
        "disorders glossary defines them; docs/projections.md says which parts are verified"
    ),
)
"""The rule goalpath classifies episodes by; docs/projections.md states it in full."""

MIN_TREATMENT_SESSIONS: Final = 2
"""A finished course of treatment: the episode ended after at least this many attended sessions."""

Course = Literal["finished", "interim", "not-finished"]
"""Where an episode stands for the paired rule.

``finished``: ended after :data:`MIN_TREATMENT_SESSIONS` attended sessions or
more, so it counts; ``interim``: still open, so a reading so far that does
not count; ``not-finished``: ended with fewer sessions, left out as the rule
leaves it out.
"""


@attrs.frozen
class InstrumentPair:
    """The first and last score of one instrument in an episode, across all its goals.

    ``scores`` counts the valid scores between them (at least two), and
    ``outcome`` classifies the change from first to last.
    """

    instrument: str
    first: float
    first_on: date
    last: float
    last_on: date
    scores: int
    outcome: OutcomeClassification


def paired_measures(
    pairs: Mapping[str, InstrumentPair], conventions: Conventions
) -> tuple[InstrumentPair | None, InstrumentPair | None]:
    """The depression and the anxiety measure of an episode's pairs, as the paired rule takes them.

    Depression is PHQ-9. Anxiety is an anxiety-disorder-specific measure
    (an instrument of ``conventions`` marked ``anxiety_disorder_specific``)
    when the episode has a pair on one, standing in for GAD-7; of several,
    the one scored first (then by id); otherwise GAD-7. Either is ``None``
    when the episode has no pair on it.
    """
    depression_id, anxiety_id = PAIRED_RULE_MEASURES
    specific = sorted(
        (
            pair
            for code, pair in pairs.items()
            if code in conventions and conventions[code].anxiety_disorder_specific
        ),
        key=lambda pair: (pair.first_on, pair.instrument),
    )
    anxiety = specific[0] if specific else pairs.get(anxiety_id)
    return pairs.get(depression_id), anxiety


def reliable_change_index(
    first: float, last: float, sd_baseline: float, reliability: float
) -> float:
    """Return Jacobson & Truax's RC = (last - first) / S_diff.

    SE = SD1 * sqrt(1 - r); S_diff = sqrt(2) * SE. ``abs(RC) >`` :data:`RELIABLE_RCI`
    is reliable change.
    """
    if not sd_baseline > 0:
        raise InvalidValueError(
            f"the baseline standard deviation must be positive; got {sd_baseline!r}"
        )
    if not 0 <= reliability < 1:
        raise InvalidValueError(
            f"reliability must be from 0 up to (not including) 1; got {reliability!r}"
        )
    standard_error = sd_baseline * math.sqrt(1 - reliability)
    return (last - first) / (math.sqrt(2) * standard_error)


def clinical_cutoff(
    mean_clinical: float, sd_clinical: float, mean_functional: float, sd_functional: float
) -> float:
    """Return Jacobson & Truax's cut-off c between clinical and functional populations.

    c = (SD_clin * M_fun + SD_fun * M_clin) / (SD_clin + SD_fun).
    """
    if not (sd_clinical > 0 and sd_functional > 0):
        raise InvalidValueError("both standard deviations must be positive")
    return (sd_clinical * mean_functional + sd_functional * mean_clinical) / (
        sd_clinical + sd_functional
    )
