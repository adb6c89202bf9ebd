"""Import a FHIR Bundle (R5 or R4B) of Goals and Observations as episodes, goals and measurements.

The bundles goalpath exports (collection or transaction, with CarePlans and
Provenances, :mod:`goalpath.exports.fhir`) come back with their whole history:
each goal's events are read from its Provenances (:mod:`goalpath.exports.fhir_import_history`)
and replayed through the goal's command methods, keeping the time each was first
recorded, so exporting the imported store gives the same resources. A bundle
from another system needs Goals (and their Observations) only
(:mod:`goalpath.exports.fhir_import_goals`): each Goal becomes a goal as it now
stands, each Observation a measurement.

All or nothing: every resource is read and every event checked by the domain
before anything is stored, then everything is stored in one transaction (or,
given a unit of work's application, kept in the unit and written with it). A
bundle that cannot be mapped is refused with
:class:`~goalpath.exports.fhir_elements.FhirImportError`, which names the
resource and the element (FHIRPath) and gives the ``OperationOutcome``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, Final
from uuid import UUID

import attrs

from goalpath.core.application.goalpath_app import GoalpathApp, engine_of
from goalpath.core.authorization import Principal, Subject, as_principal
from goalpath.core.episode import Episode
from goalpath.core.errors import GoalpathError, NotAuthorizedError
from goalpath.core.goal import Goal
from goalpath.core.values import Actor
from goalpath.exports.fhir_elements import Element, FhirImportError
from goalpath.exports.fhir_import_goals import GoalReader, observations_by_goal
from goalpath.exports.fhir_import_history import (
    RecordedEvent,
    read_provenance,
    records_goal_event,
    replay_goal,
    stamp_last_event,
)
from goalpath.exports.fhir_import_references import (
    NAMESPACE,
    BundleResources,
    LocalIdFor,
    resource_uuid,
    reverse_mapping,
)
from goalpath.modalities.manager import Plugins, installed_instruments

__all__ = [
    "IMPORTED_BUNDLE_TYPES",
    "FhirImportError",
    "ImportedBundle",
    "LocalIdFor",
    "import_bundle",
    "reverse_mapping",
]

IMPORTED_BUNDLE_TYPES: Final = (
    "collection",
    "transaction",
    "batch",
    "searchset",
    "document",
    "history",
)
"""The Bundle types whose entries are resources to import."""


@attrs.frozen
class ImportedBundle:
    """What an import stored: the episodes and goals (ids as stored) and how many events."""

    episode_ids: tuple[UUID, ...]
    goal_ids: tuple[UUID, ...]
    measurements: int
    events: int

    def document(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return {
            "episode_ids": [str(i) for i in self.episode_ids],
            "goal_ids": [str(i) for i in self.goal_ids],
            "measurements": self.measurements,
            "events": self.events,
        }


def import_bundle(
    app: GoalpathApp,
    bundle: object,
    *,
    actor: Principal | Actor,
    local_id_for: LocalIdFor | None = None,
    plugins: Plugins | None = None,
) -> ImportedBundle:
    """Import a FHIR Bundle's CarePlans, Goals, Observations and Provenances; all or nothing.

    ``actor`` is who imports (decided by the app's policy as opening each
    episode, stating its goals and importing measurements); each event keeps
    the actor and time its Provenance names, and what no resource says (who
    opened and closed an episode) is recorded as ``actor``'s. ``local_id_for``
    turns the host's references back into goalpath's client and actor ids (the
    reverse of the export's ``reference_for``: :func:`reverse_mapping`);
    references by identifier need none. Instruments (LOINC codes) come from
    ``plugins``, by default the installed ones.
    """
    principal = as_principal(actor)
    instruments = (
        installed_instruments()
        if plugins is None
        else {instrument.id: instrument for instrument in plugins.instruments()}
    )
    reader = _BundleReader(_root(bundle), local_id_for, principal.actor, instruments)
    episodes, goals = reader.read(app.today())
    for episode in episodes:
        _authorize(app, principal, episode)
    _refuse_existing(app, reader, [*episodes, *goals])
    aggregates = [*episodes, *goals]
    measurements = sum(goal.measurement_count for goal in goals)
    events = sum(len(aggregate.pending_events) for aggregate in aggregates)
    # One save of every aggregate: the recorder writes all their events in one transaction.
    engine_of(app)._save(*aggregates, based_on={})  # the app's all-or-nothing save
    return ImportedBundle(
        tuple(e.id for e in episodes), tuple(g.id for g in goals), measurements, events
    )


def _root(bundle: object) -> Element:
    root = Element(bundle, "Bundle", "Bundle")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise root.fail("a FHIR import takes a Bundle resource (resourceType Bundle)", "structure")
    kind = root.need("type").string()
    if kind not in IMPORTED_BUNDLE_TYPES:
        raise FhirImportError(
            "Bundle",
            "Bundle.type",
            f"{kind!r} bundles are not imported; give one of {', '.join(IMPORTED_BUNDLE_TYPES)}",
            "value",
        )
    return root


def _authorize(app: GoalpathApp, principal: Principal, episode: Episode) -> None:
    subject = Subject(client_id=episode.client_id, therapist_ids=tuple(episode.therapist_ids))
    for action in ("open_episode", "create_goal", "import_measurements"):
        decision = app.policy.decide(principal, action, subject)
        if not decision.allowed:
            raise NotAuthorizedError(
                principal.id, principal.role, action, decision.rule, decision.explanation
            )


def _refuse_existing(app: GoalpathApp, reader: _BundleReader, aggregates: list[Any]) -> None:
    for aggregate in aggregates:
        try:
            kind = "episode" if isinstance(aggregate, Episode) else "goal"
            getter = app.get_episode if kind == "episode" else app.get_goal
            getter(aggregate.id)
        except GoalpathError:
            continue
        resource = reader.source_of.get(aggregate.id, str(aggregate.id))
        raise FhirImportError(
            resource,
            "CarePlan.id" if kind == "episode" else "Goal.id",
            f"the store already holds {kind} {aggregate.id}; import it into another store",
            "duplicate",
        )


class _BundleReader(BundleResources):
    """Reads one bundle into episode and goal aggregates, not yet stored."""

    def __init__(
        self,
        root: Element,
        local_id_for: LocalIdFor | None,
        importer: Actor,
        instruments: Mapping[str, Any],
    ) -> None:
        super().__init__(root, local_id_for, importer)
        self.instruments = instruments

    def read(self, today: date) -> tuple[list[Episode], list[Goal]]:
        """Every episode and goal of the bundle, their events checked, not yet stored."""
        provenances = self._provenances()
        observations, scores = observations_by_goal(self)
        goals_read: set[str] = set()
        episodes: list[Episode] = []
        goals: list[Goal] = []
        plans = self.current("CarePlan")
        for plan in plans:
            goal_resources = []
            for reference in plan.items("goal"):
                resource = self.resolve(reference)
                if resource is None or resource.path != "Goal":
                    raise reference.fail("must reference a Goal of the bundle", "value")
                goal_resources.append(resource)
            episode = self._episode(plan, goal_resources, provenances, today)
            episodes.append(episode)
            for resource in goal_resources:
                goals.append(
                    self._goal(resource, episode, provenances, (observations, scores), today)
                )
                goals_read.add(resource.resource)
            self._close(plan, episode, today)
        loose = [g for g in self.current("Goal") if g.resource not in goals_read]
        by_client: dict[str, list[Element]] = {}
        for resource in loose:
            by_client.setdefault(self.local_id(resource.need("subject"), "client"), []).append(
                resource
            )
        for client, resources in by_client.items():
            episode = self._episode_of_goals(client, resources, today)
            episodes.append(episode)
            goals.extend(
                self._goal(resource, episode, provenances, (observations, scores), today)
                for resource in resources
            )
        if not goals and not episodes:
            raise FhirImportError(
                "Bundle", "Bundle.entry", "holds no CarePlan and no Goal to import", "required"
            )
        return episodes, goals

    def _provenances(self) -> dict[str, list[RecordedEvent]]:
        found: dict[str, list[RecordedEvent]] = {}
        for provenance in self.of_type("Provenance"):
            if not records_goal_event(provenance):
                continue  # another system's Provenance: not a goal event goalpath wrote
            record = read_provenance(provenance, self.actor)
            target = self.by_url.get(record.goal_reference)
            if target is None or target.path != "Goal":
                continue  # a Provenance of something else than a goal of this bundle
            found.setdefault(target.resource, []).append(record)
        for records in found.values():
            records.sort(key=lambda record: record.version)
        return found

    # -- episodes -------------------------------------------------------------------------

    def _episode(
        self,
        plan: Element,
        goal_resources: list[Element],
        provenances: Mapping[str, list[RecordedEvent]],
        today: date,
    ) -> Episode:
        client = self.local_id(plan.need("subject"), "client")
        therapists = [self.local_id(c, "actor") for c in plan.items("contributor")]
        concerns = []
        for address in plan.items("addresses"):
            concept = address.child("concept")
            text = (concept or address).child("text" if concept is not None else "display")
            if text is not None:
                concerns.append(text.string())
        period = plan.child("period")
        start = None if period is None else period.child("start")
        opened = start or plan.child("created")
        if opened is None:
            raise FhirImportError(
                plan.resource,
                "CarePlan.period.start",
                "the episode's opening date is absent",
                "required",
            )
        episode_id = resource_uuid(plan)
        self.source_of[episode_id] = plan.resource
        first_records = [
            provenances[g.resource][0] for g in goal_resources if g.resource in provenances
        ]
        try:
            episode = Episode.open(
                client_id=client,
                therapist_ids=tuple(therapists) or (self._therapist_of(plan),),
                concerns=tuple(concerns),
                opened_on=opened.day(),
                actor=self.importer,
                today=today,
                episode_id=episode_id,
            )
        except GoalpathError as error:
            raise plan.fail(str(error), "business-rule") from None
        if first_records:
            stamp_last_event(episode, min(r.recorded for r in first_records))
        return episode

    def _therapist_of(self, resource: Element) -> str:
        if self.importer.role in ("therapist", "supervisor"):
            return self.importer.id
        raise FhirImportError(
            resource.resource,
            f"{resource.path}.contributor" if resource.path == "CarePlan" else "Goal.source",
            "names no practitioner to be the episode's therapist; name one, or import as "
            "a therapist or supervisor",
            "required",
        )

    def _episode_of_goals(self, client: str, resources: list[Element], today: date) -> Episode:
        """One episode for the goals of a client that no CarePlan holds."""
        therapists: list[str] = []
        for resource in resources:
            source = resource.child("source") or resource.child("expressedBy")
            if source is not None:
                who = self.actor(source)
                if who.role == "therapist" and who.id not in therapists:
                    therapists.append(who.id)
        starts = [r.need("startDate").day() for r in resources]
        try:
            return Episode.open(
                client_id=client,
                therapist_ids=tuple(therapists) or (self._therapist_of(resources[0]),),
                concerns=(),
                opened_on=min(starts),
                actor=self.importer,
                today=today,
                episode_id=uuid.uuid5(NAMESPACE, f"episode/{client}/{resources[0].resource}"),
            )
        except GoalpathError as error:
            raise resources[0].fail(str(error), "business-rule") from None

    def _close(self, plan: Element, episode: Episode, today: date) -> None:
        status = plan.need("status").string()
        if status not in ("completed", "revoked"):
            return
        period = plan.child("period")
        end = None if period is None else period.child("end")
        if end is None:
            raise FhirImportError(
                plan.resource,
                "CarePlan.period.end",
                f"a {status} CarePlan needs its end date",
                "required",
            )
        reason = f"imported from FHIR: CarePlan {status}"
        for note in plan.items("note"):
            text = note.need("text").string()
            if text.startswith("Closed: "):
                reason = text.removeprefix("Closed: ")
        try:
            episode.close(reason, end.day(), self.importer, today)
        except GoalpathError as error:
            raise end.fail(str(error), "business-rule") from None
        meta = plan.child("meta")
        updated = None if meta is None else meta.child("lastUpdated")
        if updated is not None:
            stamp_last_event(episode, max(updated.instant(), episode.modified_on))

    # -- goals ------------------------------------------------------------------------------

    def _goal(
        self,
        resource: Element,
        episode: Episode,
        provenances: Mapping[str, list[RecordedEvent]],
        observations: tuple[Mapping[str, list[Element]], Mapping[str, list[Element]]],
        today: date,
    ) -> Goal:
        goal_id = resource_uuid(resource)
        self.source_of[goal_id] = resource.resource
        subject = self.local_id(resource.need("subject"), "client")
        if subject != episode.client_id:
            raise resource.need("subject").fail(
                f"the goal's client {subject!r} is not its CarePlan's {episode.client_id!r}",
                "business-rule",
            )
        records = provenances.get(resource.resource)
        if records:
            self._check_versions(resource, records)
            return replay_goal(goal_id, records, episode, today)
        reader = GoalReader(self, self.versions_of(resource), self.instruments)
        measurements, scores = observations
        return reader.goal(
            goal_id,
            episode,
            measurements.get(resource.resource, []),
            today,
            scores.get(resource.resource, []),
        )

    @staticmethod
    def _check_versions(resource: Element, records: list[RecordedEvent]) -> None:
        versions = [record.version for record in records]
        expected = list(range(1, len(records) + 1))
        if versions != expected:
            missing = sorted(set(expected) - set(versions)) or versions
            raise FhirImportError(
                resource.resource,
                "Goal.meta.versionId",
                f"the bundle's Provenances of this goal give versions {versions}; each version "
                f"from 1 must have one (check version {missing[0]})",
                "structure",
            )
        meta = resource.child("meta")
        version = None if meta is None else meta.child("versionId")
        if version is not None and version.string() != str(len(records)):
            raise version.fail(
                f"the Goal is version {version.string()} but its Provenances give "
                f"{len(records)} versions; export the goal's whole history",
                "structure",
            )
