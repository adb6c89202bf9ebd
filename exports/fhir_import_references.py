"""The resources of a bundle being imported, and the references between them and to people.

:class:`BundleResources` indexes a bundle's entries by full URL and ``Type/id``,
resolves References inside the bundle, and reads References to clients and
actors back as goalpath's ids: by identifier (what goalpath exports), through
the host's mapping in reverse (:func:`reverse_mapping` of the export's
``--map``), or from a conditional reference (``Patient?identifier=…``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import unquote
from uuid import UUID

from goalpath.core.errors import GoalpathError
from goalpath.core.values import Actor
from goalpath.exports.fhir_elements import Element, FhirImportError
from goalpath.exports.fhir_vocabulary import ID_SYSTEM_PREFIX

__all__ = [
    "NAMESPACE",
    "RESOURCE_ROLE",
    "BundleResources",
    "LocalIdFor",
    "resource_uuid",
    "reverse_mapping",
]

LocalIdFor = Callable[[str, str], str | None]
"""A host's id mapping in reverse: ``(kind, reference) -> local id``, kind ``"client"`` or
``"actor"``; ``None`` for a reference the host does not map."""

RESOURCE_ROLE: Final[dict[str, str]] = {
    "Patient": "client",
    "Practitioner": "therapist",
    "PractitionerRole": "therapist",
    "Device": "system",
}
"""The role of an actor known only by the type of the resource that names it."""

NAMESPACE: Final = uuid.NAMESPACE_URL
"""The namespace of the name-based ids of resources whose ids are not UUIDs."""


def reverse_mapping(mapping: Mapping[str, Mapping[str, str]]) -> LocalIdFor:
    """The reverse of an export's id mapping (``{"client": {"client-0042": "Patient/123"}}``).

    Two local ids mapped to one reference cannot be told apart on import:
    refused with :class:`FhirImportError`.
    """
    reverse: dict[tuple[str, str], str] = {}
    for kind, ids in mapping.items():
        for local_id, reference in ids.items():
            if (kind, reference) in reverse:
                raise FhirImportError(
                    "mapping",
                    f"{kind}.{local_id}",
                    f"{reference!r} is also the reference of {reverse[(kind, reference)]!r}; "
                    "each reference must name one id",
                    "duplicate",
                )
            reverse[(kind, reference)] = local_id
    return lambda kind, reference: reverse.get((kind, reference))


def resource_uuid(resource: Element) -> UUID:
    """The goalpath id of a resource: its id when a UUID, else a name-based UUID of its name."""
    found = resource.child("id")
    if found is not None:
        try:
            return UUID(found.string())
        except ValueError:
            pass
    return uuid.uuid5(NAMESPACE, resource.resource)


class BundleResources:
    """A bundle's resources by full URL, and the references to them and to people."""

    def __init__(
        self,
        root: Element,
        local_id_for: LocalIdFor | None,
        importer: Actor,
    ) -> None:
        self.local_id_for = local_id_for
        self.importer = importer
        self.resources: list[Element] = []
        self.by_url: dict[str, Element] = {}
        self.source_of: dict[UUID, str] = {}
        self.history = root.value.get("type") == "history"
        for entry in root.items("entry"):
            if self.history and entry.child("resource") is None:
                continue  # a deletion in a history bundle: nothing to import
            resource = entry.need("resource")
            kind = resource.need("resourceType").string()
            full_url = entry.child("fullUrl")
            resource_id = resource.child("id")
            name = (
                full_url.string()
                if full_url is not None
                else f"{kind}/{resource_id.string() if resource_id else entry.path}"
            )
            element = Element(resource.value, kind, name)
            self.resources.append(element)
            self.by_url[name] = element
            if resource_id is not None:
                self.by_url[f"{kind}/{resource_id.string()}"] = element

    def of_type(self, kind: str) -> list[Element]:
        """The bundle's resources of one type, in bundle order, each version once."""
        return [r for r in self.resources if r.path == kind]

    def current(self, kind: str) -> list[Element]:
        """The latest version of each resource of one type, in the order first met."""
        seen: dict[str, Element] = {}
        for resource in self.of_type(kind):
            seen.setdefault(resource.resource, self.versions_of(resource)[-1])
        return list(seen.values())

    def versions_of(self, resource: Element) -> list[Element]:
        """Every version the bundle holds of a resource (same full URL), oldest first.

        Ordered by ``meta.versionId`` (a whole number), else in bundle order; a
        ``history`` bundle lists the newest first, so its order is reversed.
        """
        found = [r for r in self.resources if r.resource == resource.resource]
        if self.history:
            found.reverse()
        numbered = []
        for index, version in enumerate(found):
            meta = version.child("meta")
            number = None if meta is None else meta.child("versionId")
            try:
                key = int(number.string()) if number is not None else index
            except ValueError:
                raise FhirImportError(
                    version.resource,
                    f"{version.path}.meta.versionId",
                    f"versions are imported in order of a whole-number versionId; got "
                    f"{number.value if number else None!r}",
                    "value",
                ) from None
            numbered.append((key, index, version))
        return [version for _key, _index, version in sorted(numbered, key=lambda n: n[:2])]

    def resolve(self, reference: Element) -> Element | None:
        """The bundle's resource a Reference points at (full URL or ``Type/id``), latest version."""
        target = reference.child("reference")
        found = None if target is None else self.by_url.get(target.string())
        return None if found is None else self.versions_of(found)[-1]

    # -- clients and actors --------------------------------------------------------

    def local_id(self, reference: Element, kind: str) -> str:
        """The goalpath id of the client or actor a Reference names."""
        identifier = reference.child("identifier")
        if identifier is not None:
            return identifier.need("value").string()
        literal = reference.need("reference").string()
        mapped = None if self.local_id_for is None else self.local_id_for(kind, literal)
        if mapped is not None:
            return mapped
        if "?identifier=" in literal:
            value = unquote(literal.split("?identifier=", 1)[1]).split("|", 1)[-1]
            if value:
                return value
        raise reference.fail(
            f"the reference {literal!r} is not mapped to a goalpath {kind} id; give the "
            f"mapping (--map FILE, or local_id_for) or refer by identifier "
            f"({ID_SYSTEM_PREFIX}{kind}-id)",
            "value",
        )

    def actor(self, reference: Element, role: str | None = None) -> Actor:
        """The actor a Reference names; its role from the Provenance, else its resource type."""
        if role is None:
            kind = reference.child("type")
            literal = reference.child("reference")
            name = (
                kind.string()
                if kind is not None
                else literal.string().split("/")[0].split("?")[0]
                if literal is not None
                else ""
            )
            role = RESOURCE_ROLE.get(name)
            if role is None:
                raise reference.fail(
                    f"cannot tell the actor's role from {name or 'nothing'!r}; "
                    f"expected a reference to a {', '.join(RESOURCE_ROLE)}",
                    "value",
                )
        local_id = self.local_id(reference, "actor")  # refuses an unmapped reference itself
        try:
            return Actor(local_id, role)  # type: ignore[arg-type]
        except GoalpathError as error:
            raise reference.fail(str(error), "value") from None

    # -- the whole bundle --------------------------------------------------------------
