"""Goal Attainment Scaling in FHIR, as the HL7 Person-Centered Outcomes (PCO) IG describes it.

A goal's GAS scale (:attr:`GoalDefinition.gas_levels
<goalpath.core.values.GoalDefinition.gas_levels>`) becomes five PCO
``pco-goal-attainment-scaling`` extensions on its Goal, each the level's
LOINC answer code and the client's own description of that level. Each
review that scored GAS becomes a GAS score Observation: the LOINC code of a
practitioner's or a patient's follow-up score, the level's LOINC answer as
its value, the reviewed goal as its ``focus``, the review date as its
effective date.

The PCO profiles themselves are written on FHIR R4 and US Core; goalpath
exports R5 and R4B, so its resources follow the profiles' elements and codes
but do not claim the profiles in ``meta.profile``. Source: HL7 FHIR US
Person-Centered Outcomes IG STU 1 (``GASProfiles.fsh``, ``GASTerminology.fsh``
and ``GASExamples.fsh`` of its published source); docs/fhir.md says so.
"""

from __future__ import annotations

import uuid
from typing import Any, Final
from uuid import UUID

from goalpath.core.values import GAS_LEVELS, Actor, GoalDefinition, Review
from goalpath.exports.fhir_vocabulary import (
    LOINC_SYSTEM,
    OBSERVATION_CATEGORY_SYSTEM,
    fhir_coding,
    fhir_concept,
    fhir_text,
    fhir_urn,
    fhir_uuid_identifier,
)

__all__ = [
    "GAS_LEVEL_CODES",
    "GAS_SCALING_URL",
    "GAS_SCORE_CODES",
    "gas_level_of",
    "gas_observation_id",
    "gas_scaling_extensions",
    "gas_score_code",
    "gas_score_observation",
    "is_gas_score",
]

GAS_SCALING_URL: Final = (
    "http://hl7.org/fhir/us/pco/StructureDefinition/pco-goal-attainment-scaling"
)
"""The PCO extension for one level of a goal's GAS scale (``level``, ``progressText``)."""

GAS_LEVEL_CODES: Final[dict[int, tuple[str, str]]] = {
    -2: ("LA34484-8", "Much less than expected"),
    -1: ("LA34483-0", "Less than expected"),
    0: ("LA34481-4", "Expected outcome"),
    1: ("LA34480-6", "Better than expected"),
    2: ("LA34479-8", "Much better than expected"),
}
"""GAS level -> its LOINC answer (answer list LL6900-6) and LOINC's display."""

GAS_SCORE_CODES: Final[dict[str, tuple[str, str]]] = {
    "practitioner": ("107333-7", "Practitioner follow-up goal attainment scaling score"),
    "patient": ("107334-5", "Patient follow-up goal attainment scaling score"),
}
"""Who scored -> the LOINC code of a follow-up GAS score and LOINC's display."""

_LEVEL_OF_CODE: Final = {code: level for level, (code, _) in GAS_LEVEL_CODES.items()}
_SCORE_CODES: Final = frozenset(
    {code for code, _ in GAS_SCORE_CODES.values()} | {"107331-1", "107332-9", "112296-9"}
)
"""Every code of the PCO GAS score value set: follow-up scores, reported, baseline."""


def gas_scaling_extensions(definition: GoalDefinition) -> list[dict[str, Any]]:
    """The Goal's PCO GAS scaling extensions, +2 first as the IG's example lists them."""
    extensions = []
    for level, description in reversed(list(zip(GAS_LEVELS, definition.gas_levels, strict=True))):
        code, display = GAS_LEVEL_CODES[level]
        extensions.append(
            {
                "url": GAS_SCALING_URL,
                "extension": [
                    {"url": "level", "valueCoding": fhir_coding(LOINC_SYSTEM, code, display)},
                    {"url": "progressText", "valueString": fhir_text(description)},
                ],
            }
        )
    return extensions


def gas_score_code(reviewer: Actor) -> tuple[str, str]:
    """The LOINC score code for a review by ``reviewer``: a client's is the patient's score."""
    return GAS_SCORE_CODES["patient" if reviewer.role == "client" else "practitioner"]


def gas_observation_id(goal_id: UUID, review_number: int) -> UUID:
    """The Observation id of the GAS score of a goal's review number ``review_number``."""
    return uuid.uuid5(goal_id, f"gas-score/{review_number}")


def gas_score_observation(
    goal_id: UUID,
    review_number: int,
    review: Review,
    *,
    subject: dict[str, Any],
    performer: dict[str, Any] | None,
) -> dict[str, Any]:
    """The GAS score Observation of one review that scored GAS (``review.attainment`` set).

    ``performer`` is ``None`` for a review that goalpath itself recorded (an
    Observation's performer cannot be a Device).
    """
    if review.attainment is None:
        raise ValueError("a review without a GAS attainment has no GAS score Observation")
    resource_id = gas_observation_id(goal_id, review_number)
    code, display = gas_score_code(review.reviewed_by)
    level_code, level_display = GAS_LEVEL_CODES[review.attainment]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(resource_id),
        "identifier": fhir_uuid_identifier(resource_id),
        "status": "final",
        "category": [fhir_concept(OBSERVATION_CATEGORY_SYSTEM, "survey", "Survey")],
        "code": fhir_concept(LOINC_SYSTEM, code, display),
        "subject": subject,
        "focus": [{"reference": fhir_urn(goal_id)}],
        "effectiveDateTime": review.reviewed_on.isoformat(),
    }
    if performer is not None:
        resource["performer"] = [performer]
    resource["valueCodeableConcept"] = fhir_concept(LOINC_SYSTEM, level_code, level_display)
    return resource


def is_gas_score(observation: object) -> bool:
    """Whether an Observation is a GAS score (any code of the PCO GAS score value set)."""
    if not isinstance(observation, dict):
        return False
    code = observation.get("code")
    if not isinstance(code, dict):
        return False
    codings = code.get("coding")
    return isinstance(codings, list) and any(
        isinstance(coding, dict)
        and coding.get("system") == LOINC_SYSTEM
        and isinstance(coding.get("code"), str)
        and coding["code"] in _SCORE_CODES
        for coding in codings
    )


def gas_level_of(code: str) -> int | None:
    """The GAS level of a LOINC answer code, or ``None`` for another code."""
    return _LEVEL_OF_CODE.get(code)
