"""Instruments: standard measures (questionnaires, rating scales) that plugins register.

An instrument says what a total score means: its range, which way is better,
the score from which a client counts as a clinical case, and the smallest
change that is reliable rather than measurement noise.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

import attrs

from goalpath.core.values import (
    DIRECTIONS,
    Direction,
    Measure,
    finite,
    one_of,
    text,
    to_float,
    to_optional_float,
)
from goalpath.modalities.errors import InvalidTemplateError

__all__ = ["ID_PATTERN", "PAIRED_RULE_MEASURES", "Instrument", "ReliableChange"]

ID_PATTERN: Final = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
"""An instrument id or a modality name: lower-case words joined by ``-`` or ``_``."""

_LOINC: Final = re.compile(r"^\d{1,7}-\d$")

PAIRED_RULE_MEASURES: Final = ("phq-9", "gad-7")
"""The depression and the anxiety measure the NHS Talking Therapies paired outcome names.

An anxiety-disorder-specific measure stands in for the second; neither of
these two can be one.
"""

ReliableChange = Literal["improvement", "deterioration", "no reliable change"]


def _check_id(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise InvalidTemplateError(
            f"instrument id must be lower-case words joined by '-' (such as 'phq-9'); got {value!r}"
        )


@attrs.frozen
class Instrument:
    """A standard measure, such as the PHQ-9 total score.

    ``direction`` is the direction of improvement (``decrease`` for symptom
    scales). ``caseness`` is the score from which a client counts as a case
    (at or above it for a ``decrease`` scale, at or below it for an
    ``increase`` scale); ``reliable_change`` the smallest change in points
    that counts as reliable. Both are optional for measures that have none.
    ``loinc`` is the LOINC code of the total score, when there is one.
    ``anxiety_disorder_specific`` marks an anxiety-disorder-specific measure
    (such as one for panic, social anxiety or PTSD) that stands in for GAD-7
    in the NHS Talking Therapies paired outcome; it needs both thresholds.
    """

    id: str = attrs.field(validator=_check_id)
    name: str = attrs.field(validator=text("instrument name", 200))
    unit: str = attrs.field(validator=text("instrument unit", 100))
    direction: Direction = attrs.field(validator=one_of("instrument direction", DIRECTIONS))
    minimum: float = attrs.field(converter=to_float, validator=finite("minimum"))
    maximum: float = attrs.field(converter=to_float, validator=finite("maximum"))
    description: str = attrs.field(validator=text("instrument description", 4000))
    caseness: float | None = attrs.field(
        default=None,
        converter=to_optional_float,
        validator=finite("caseness", required=False),
    )
    reliable_change: float | None = attrs.field(
        default=None,
        converter=to_optional_float,
        validator=finite("reliable change", required=False),
    )
    loinc: str | None = attrs.field(default=None)
    source: str | None = attrs.field(default=None, validator=text("source", 1000, required=False))
    anxiety_disorder_specific: bool = attrs.field(default=False)

    @anxiety_disorder_specific.validator
    def _check_anxiety_disorder_specific(self, _attribute: object, value: object) -> None:
        if not isinstance(value, bool):
            raise InvalidTemplateError(
                f"anxiety_disorder_specific must be True or False; got {value!r}"
            )

    @loinc.validator
    def _check_loinc(self, _attribute: object, value: object) -> None:
        if value is not None and (not isinstance(value, str) or not _LOINC.match(value)):
            raise InvalidTemplateError(
                f"LOINC code must look like 44261-6 (digits, a dash, a check digit); got {value!r}"
            )

    def __attrs_post_init__(self) -> None:
        if self.minimum >= self.maximum:
            raise InvalidTemplateError(
                f"instrument {self.id}: minimum {self.minimum:g} must be below "
                f"maximum {self.maximum:g}"
            )
        if self.caseness is not None and not self.minimum < self.caseness <= self.maximum:
            raise InvalidTemplateError(
                f"instrument {self.id}: caseness {self.caseness:g} must be inside the range "
                f"{self.minimum:g} to {self.maximum:g} (and above its minimum)"
            )
        span = self.maximum - self.minimum
        if self.reliable_change is not None and not 0 < self.reliable_change <= span:
            raise InvalidTemplateError(
                f"instrument {self.id}: reliable change {self.reliable_change:g} must be "
                f"above 0 and at most the range width {span:g}"
            )
        if self.anxiety_disorder_specific and (
            self.caseness is None or self.reliable_change is None
        ):
            raise InvalidTemplateError(
                f"instrument {self.id}: an anxiety-disorder-specific measure stands in for "
                "GAD-7 in paired outcomes, so it needs a caseness and a reliable-change "
                "threshold"
            )

    def measure(self) -> Measure:
        """The goal measure that records this instrument's total score."""
        return Measure(
            name=self.name,
            unit=self.unit,
            direction=self.direction,
            instrument=self.id,
            minimum=self.minimum,
            maximum=self.maximum,
        )

    def is_case(self, score: float) -> bool:
        """Whether ``score`` is in the clinical range (``False`` when there is no cut-off)."""
        if self.caseness is None:
            return False
        if self.direction == "decrease":
            return score >= self.caseness
        return score <= self.caseness

    def reliable_change_between(self, before: float, after: float) -> ReliableChange:
        """Classify the change from ``before`` to ``after`` by the reliable-change threshold."""
        if self.reliable_change is None:
            return "no reliable change"
        improvement = after - before if self.direction == "increase" else before - after
        if improvement >= self.reliable_change:
            return "improvement"
        if -improvement >= self.reliable_change:
            return "deterioration"
        return "no reliable change"
