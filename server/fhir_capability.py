"""What the FHIR REST interface serves, said once: the CapabilityStatement is built from it.

:data:`SERVED` names, per resource type, the interactions served and the
search parameters taken; the search routes (:mod:`goalpath.server.fhir_search`)
accept exactly these parameters, and :func:`capability_statement` describes
exactly these, so the statement at ``/fhir/metadata`` cannot claim what is
not served.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Literal

import attrs

from goalpath.exports.fhir import FhirVersion

__all__ = [
    "FHIR_RELEASES",
    "SERVED",
    "SearchParameter",
    "ServedResource",
    "capability_statement",
]

FHIR_RELEASES: Final[dict[str, str]] = {"R5": "5.0.0", "R4B": "4.3.0"}
"""Each FHIR release served -> its full version, as ``CapabilityStatement.fhirVersion`` says it."""

SearchType = Literal["reference", "token", "date"]


@attrs.frozen
class SearchParameter:
    """A search parameter of one resource type: its name, FHIR type and what it matches."""

    name: str
    type: SearchType
    documentation: str


@attrs.frozen
class ServedResource:
    """One resource type: the FHIR interactions served and the search parameters taken."""

    type: str
    interactions: tuple[str, ...]
    search: tuple[SearchParameter, ...]
    documentation: str

    def parameter_names(self) -> frozenset[str]:
        """The names of the search parameters taken (without modifiers)."""
        return frozenset(parameter.name for parameter in self.search)


_PATIENT: Final = SearchParameter(
    "patient",
    "reference",
    "The client whose record is searched (required, or subject): goalpath's client id, "
    "Patient/<client id>, or patient:identifier=https://goalpath.dev/fhir/NamingSystem/"
    "client-id|<client id>.",
)
_SUBJECT: Final = SearchParameter(
    "subject", "reference", "The same as patient (the client is every resource's subject)."
)
_LAST_UPDATED: Final = SearchParameter(
    "_lastUpdated",
    "date",
    "When the resource last changed (recorded time), with the prefixes eq (default), ge, gt, "
    "le, lt; repeat it for a range. A date or time without a time zone is read in UTC.",
)

SERVED: Final[dict[str, ServedResource]] = {
    served.type: served
    for served in (
        ServedResource(
            "Goal",
            ("read", "vread", "history-instance", "search-type"),
            (
                _PATIENT,
                _SUBJECT,
                SearchParameter(
                    "lifecycle-status",
                    "token",
                    "The goal's lifecycleStatus (proposed, active, on-hold, completed, "
                    "cancelled, entered-in-error); comma-separated values match any.",
                ),
                _LAST_UPDATED,
            ),
            "Each goalpath goal; every version is one event of its stream (vread, history).",
        ),
        ServedResource(
            "CarePlan",
            ("search-type",),
            (_PATIENT, _SUBJECT, _LAST_UPDATED),
            "Each episode of care, referencing its goals.",
        ),
        ServedResource(
            "Observation",
            ("create", "search-type"),
            (
                _PATIENT,
                _SUBJECT,
                SearchParameter(
                    "code",
                    "token",
                    "The measure's code: system|code, code, or |code; comma-separated values "
                    "match any.",
                ),
                _LAST_UPDATED,
            ),
            "Each measurement against a goal, and each GAS score of a review. Create records a "
            "measurement against the goal its focus (or pertainsToGoal extension) names.",
        ),
        ServedResource(
            "Provenance",
            ("search-type",),
            (_PATIENT, _LAST_UPDATED),
            "Each event of a goal: who, when, why, and what it changed.",
        ),
    )
}
"""Every resource type the FHIR REST interface serves, by type."""

_SECURITY: Final = (
    "Bearer tokens (JWT) verified against the server's key set; SMART-on-FHIR-style scopes "
    "(user/Goal.rs, patient/Observation.c ...) narrow goalpath's role policy: read, vread and "
    "history need .r, search .s, create .c. Every read is decided and written to the access log."
)

_REST: Final = (
    "application/fhir+json only; R5 by default, R4B with the fhirVersion MIME parameter "
    "(Accept: application/fhir+json; fhirVersion=4.3) or _format. Search parameters not listed "
    "are refused with an OperationOutcome (400) unless the request says Prefer: "
    "handling=lenient. Every error is an OperationOutcome. See docs/serving.md."
)


def capability_statement(
    version: FhirVersion, *, base_url: str, software_version: str, day: date
) -> dict[str, Any]:
    """The CapabilityStatement of the FHIR REST interface at ``base_url``, in ``version``."""
    resources = []
    for served in SERVED.values():
        resource: dict[str, Any] = {
            "type": served.type,
            "documentation": served.documentation,
            "interaction": [{"code": code} for code in served.interactions],
        }
        if "vread" in served.interactions:
            resource |= {"versioning": "versioned", "readHistory": True}
        resource["updateCreate"] = False
        resource["searchParam"] = [
            {"name": p.name, "type": p.type, "documentation": p.documentation}
            for p in served.search
        ]
        resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": day.isoformat(),
        "publisher": "goalpath",
        "kind": "instance",
        "software": {"name": "goalpath", "version": software_version},
        "implementation": {"description": "goalpath FHIR REST interface", "url": base_url},
        "fhirVersion": FHIR_RELEASES[version],
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": _REST,
                "security": {"description": _SECURITY},
                "resource": resources,
                "operation": [
                    {
                        "name": "versions",
                        "definition": (
                            "http://hl7.org/fhir/OperationDefinition/CapabilityStatement-versions"
                        ),
                    }
                ],
            }
        ],
    }
