"""Reading FHIR JSON for the import: elements that know their FHIRPath, and the typed refusal.

Every value the import reads is reached through an :class:`Element`, which
carries the resource it belongs to (its ``fullUrl``, else ``Type/id``) and
its FHIRPath (``Goal.target[0].detailQuantity.value``), so a value that
cannot be mapped is refused with :class:`FhirImportError` naming both, as
an ``OperationOutcome`` issue says it.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Final, Literal

import attrs

from goalpath.core.errors import InvalidValueError

__all__ = ["Element", "FhirImportError", "IssueCode"]

IssueCode = Literal[
    "invalid", "required", "structure", "value", "business-rule", "duplicate", "not-supported"
]
"""The FHIR ``issue-type`` codes a refused import uses (``OperationOutcome.issue.code``)."""

ISSUE_TYPE_SYSTEM: Final = "http://hl7.org/fhir/issue-type"


class FhirImportError(InvalidValueError):
    """A FHIR bundle that cannot be imported, naming the resource and the element at fault.

    ``resource`` is the entry's ``fullUrl`` (else ``Type/id``, or ``Bundle``),
    ``element`` the FHIRPath of the element (``Goal.target[0].detailQuantity.value``,
    also its ``field``), ``issue_code`` the FHIR issue type; :meth:`operation_outcome`
    gives the refusal as the ``OperationOutcome`` a FHIR server would return.
    Nothing is stored when an import is refused.
    """

    def __init__(
        self, resource: str, element: str, problem: str, code: IssueCode = "invalid"
    ) -> None:
        self.resource = resource
        self.element = element
        self.problem = problem
        self.issue_code = code
        # The element is the input at fault, as the JSON error document names it.
        super().__init__(f"{resource}: {element}: {problem}", field=element)

    def operation_outcome(self) -> dict[str, Any]:
        """The refusal as a FHIR ``OperationOutcome`` (one ``error`` issue, R5 and R4B alike)."""
        return {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": self.issue_code,
                    "details": {"text": f"{self.resource}: {self.problem}"},
                    "diagnostics": str(self),
                    "expression": [self.element],
                }
            ],
        }


@attrs.frozen
class Element:
    """A value of a FHIR resource with its FHIRPath, for reading and for refusing."""

    value: Any
    path: str
    resource: str

    def fail(self, problem: str, code: IssueCode = "invalid") -> FhirImportError:
        """The refusal of this element."""
        return FhirImportError(self.resource, self.path, problem, code)

    def child(self, name: str) -> Element | None:
        """The element ``name`` of this object, or ``None`` when it is absent."""
        if not isinstance(self.value, dict):
            raise self.fail(f"must be a JSON object; got {_kind(self.value)}", "structure")
        if name not in self.value or self.value[name] is None:
            return None
        return Element(self.value[name], f"{self.path}.{name}", self.resource)

    def need(self, name: str) -> Element:
        """The element ``name``, refused as required when absent."""
        found = self.child(name)
        if found is None:
            raise FhirImportError(
                self.resource, f"{self.path}.{name}", "is required here and absent", "required"
            )
        return found

    def items(self, name: str) -> list[Element]:
        """The items of the list element ``name`` (none when absent), each with its index."""
        found = self.child(name)
        if found is None:
            return []
        if not isinstance(found.value, list):
            raise found.fail(f"must be a JSON array; got {_kind(found.value)}", "structure")
        return [
            Element(item, f"{found.path}[{index}]", self.resource)
            for index, item in enumerate(found.value)
        ]

    def extensions(self, url: str) -> list[Element]:
        """The extensions with ``url``, each named as FHIRPath's ``extension('url')`` names it."""
        return [
            Element(item.value, f"{self.path}.extension('{url}')", self.resource)
            for item in self.items("extension")
            if isinstance(item.value, dict) and item.value.get("url") == url
        ]

    def string(self) -> str:
        """The value as a string."""
        if not isinstance(self.value, str):
            raise self.fail(f"must be a string; got {_kind(self.value)}", "value")
        return self.value

    def integer(self) -> int:
        """The value as a whole number."""
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"must be a whole number; got {_kind(self.value)}", "value")
        return self.value

    def number(self) -> float:
        """The value as a finite number (FHIR ``decimal``)."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"must be a number; got {_kind(value)}", "value")
        if not math.isfinite(value):
            raise self.fail(f"must be a finite number; got {value!r}", "value")
        return float(value)

    def day(self) -> date:
        """The value as a calendar day: a FHIR ``date``, or the day of a ``dateTime`` as written."""
        text = self.string()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise self.fail(
                f"must be a FHIR date (YYYY-MM-DD) or dateTime; got {text!r}", "value"
            ) from None

    def instant(self) -> datetime:
        """The value as a FHIR ``instant``: a date and time with its time zone."""
        text = self.string()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise self.fail(
                f"must be a FHIR instant (a date and time with a time zone); got {text!r}",
                "value",
            )
        return moment


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    names = {dict: "an object", list: "an array", str: "a string", bool: "true or false"}
    return names.get(type(value), repr(value))
