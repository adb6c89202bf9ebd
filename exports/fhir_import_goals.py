"""Goals and Observations from other systems: each Goal version, its Observations, its status.

A Goal that no Provenance describes (a bundle another system made) becomes
a goal stated as its first version says (statement, start, measure, target,
due date, category, priority, practices), proposed or active. Each later
version the bundle holds (several entries of one Goal, ordered by
``meta.versionId``; a ``history`` bundle) is a refinement where the
definition changed, an activation, or a pausing or resuming review. Then its
Observations become measurements in the order observed, and the last
version's status ends it: ``on-hold`` a pausing review, ``completed`` /
``cancelled`` / ``entered-in-error`` a retirement on its ``statusDate``.
Each event is recorded at the time of the import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final, Protocol

from goalpath.core.episode import Episode
from goalpath.core.errors import GoalpathError
from goalpath.core.goal import Goal
from goalpath.core.values import GAS_LEVELS, Actor, GoalDefinition, Measure, Target
from goalpath.exports.fhir_elements import Element, FhirImportError
from goalpath.exports.fhir_gas import GAS_LEVEL_CODES, GAS_SCALING_URL, gas_level_of, is_gas_score
from goalpath.exports.fhir_vocabulary import (
    ACHIEVEMENT_SYSTEM,
    GOAL_AREA_DISPLAYS,
    GOAL_AREA_SYSTEM,
    INSTRUMENT_SYSTEM,
    LOINC_SYSTEM,
    PERTAINS_TO_GOAL_URL,
    PRIORITY_DISPLAYS,
    PRIORITY_SYSTEM,
    TARGET_BASELINE_URL,
)
from goalpath.modalities.instruments import Instrument

__all__ = ["GoalReader", "observations_by_goal"]

DECREASING: Final = ("<=", "<")
INCREASING: Final = (">=", ">")
RETIRED_BY_STATUS: Final[dict[str, str]] = {
    "completed": "achieved",
    "cancelled": "no-longer-relevant",
    "rejected": "no-longer-relevant",
    "entered-in-error": "entered-in-error",
}
"""A Goal's lifecycleStatus that ends it -> goalpath's retirement reason."""
MEASURED_STATUSES: Final = ("final", "amended", "corrected", "preliminary")
PROPOSED: Final = ("proposed", "planned", "accepted")
"""The lifecycle statuses of a goal not yet agreed: stated proposed."""
TERMINAL: Final = tuple(RETIRED_BY_STATUS)


class References(Protocol):
    """What reading a Goal needs of its bundle: references resolved to resources and actors."""

    importer: Actor

    def resolve(self, reference: Element) -> Element | None:
        """The bundle's resource a Reference points at."""
        ...

    def actor(self, reference: Element, role: str | None = None) -> Actor:
        """The actor a Reference names."""
        ...

    def current(self, kind: str) -> list[Element]:
        """The latest version of each of the bundle's resources of one type."""
        ...


def observations_by_goal(
    bundle: References,
) -> tuple[dict[str, list[Element]], dict[str, list[Element]]]:
    """The bundle's Observations by the Goal they pertain to (extension, or ``focus``).

    Two maps: the measurements, and the GAS score Observations
    (:func:`~goalpath.exports.fhir_gas.is_gas_score`).
    """
    measurements: dict[str, list[Element]] = {}
    gas_scores: dict[str, list[Element]] = {}
    for observation in bundle.current("Observation"):
        found = gas_scores if is_gas_score(observation.value) else measurements
        links = [e.need("valueReference") for e in observation.extensions(PERTAINS_TO_GOAL_URL)]
        links += observation.items("focus")
        for link in links:
            goal = bundle.resolve(link)
            if goal is not None and goal.path == "Goal":
                found.setdefault(goal.resource, []).append(observation)
                break
    return measurements, gas_scores


def _code(concept: Element, system: str) -> Element | None:
    for coding in concept.items("coding"):
        if isinstance(coding.value, dict) and coding.value.get("system") == system:
            return coding.need("code")
    return None


class GoalReader:
    """Reads one Goal (and its Observations) into a goal aggregate."""

    def __init__(
        self, bundle: References, versions: list[Element], instruments: Mapping[str, Instrument]
    ) -> None:
        self.bundle = bundle
        self.versions = versions
        self.resource = versions[0]
        self.instruments = instruments

    def goal(
        self,
        goal_id: Any,
        episode: Episode,
        observations: list[Element],
        today: date,
        gas_scores: Sequence[Element] = (),
    ) -> Goal:
        """The goal, its versions, measurements, GAS scores and status, checked by the domain."""
        rows = sorted(
            ((self._observed_on(o), index, o) for index, o in enumerate(observations)),
            key=lambda row: row[:2],
        )
        first = rows[0][2] if rows else None
        goal = self._stated(goal_id, episode, first)
        for version in self.versions[1:]:
            self.resource = version
            self._next_version(goal, first, today, last=version is self.versions[-1])
        for _day, _index, observation in rows:
            self._measure(goal, observation, today)
        scored = sorted(enumerate(gas_scores), key=lambda row: (self._observed_on(row[1]), row[0]))
        for _index, score in scored:
            self._score(goal, score, today)
        self._end(goal, self.resource.need("lifecycleStatus").string(), today)
        return goal

    def _stated(self, goal_id: Any, episode: Episode, first: Element | None) -> Goal:
        """The goal as its first version states it, proposed or active."""
        resource = self.resource
        definition = self._definition(first)
        status = resource.need("lifecycleStatus")
        code = status.string()
        source = resource.child("source") or resource.child("expressedBy")
        stated_by = self.bundle.importer if source is None else self.bundle.actor(source)
        if code in TERMINAL and len(self.versions) > 1:
            raise status.fail(f"a goal's first version cannot be {code}", "business-rule")
        try:
            goal = Goal.state(
                episode_id=episode.id,
                client_id=episode.client_id,
                definition=definition,
                actor=stated_by,
                concerns=tuple(episode.concerns),
                activate=code not in PROPOSED,
                goal_id=goal_id,
                episode_opened_on=episode.opened_on,
            )
            episode.add_goal(goal.id, stated_by, stated_at=goal.created_on)
        except GoalpathError as error:
            raise status.fail(f"the goal cannot be {code}: {error}", "business-rule") from None
        return goal

    def _next_version(self, goal: Goal, first: Element | None, today: date, *, last: bool) -> None:
        """A later version of the Goal: a refinement where the definition changed, and its status.

        A version that ends the goal (or puts it on hold) must be the last: its
        end is recorded after the measurements (:meth:`_end`).
        """
        resource = self.resource
        status = resource.need("lifecycleStatus")
        code = status.string()
        meta = resource.child("meta")
        number = None if meta is None else meta.child("versionId")
        label = f"version {number.string()}" if number is not None else "a later version"
        definition = self._definition(first)
        importer = self.bundle.importer
        try:
            if definition != goal.definition:
                reason = resource.child("statusReason")
                why = f"imported from FHIR: Goal {label}"
                goal.refine(definition, why if reason is None else reason.string(), importer)
            if goal.status == "proposed" and code not in PROPOSED:
                goal.activate(importer)
            if last or code in PROPOSED:
                return
            if code in TERMINAL:
                raise status.fail(f"only a Goal's last version can be {code}", "business-rule")
            decision = {"on-hold": "pause", "active": "resume"}.get(code)
            paused = goal.status == "on-hold"
            if (decision == "pause" and not paused) or (decision == "resume" and paused):
                goal.review(
                    reviewed_on=resource.need("statusDate").day(),
                    achievement=self._achievement(),  # type: ignore[arg-type]  # checked by review
                    decision=decision,  # type: ignore[arg-type]  # one of the two
                    actor=importer,
                    today=today,
                    note=f"imported from FHIR: Goal {label} is {code}",
                )
        except GoalpathError as error:
            raise status.fail(str(error), "business-rule") from None

    def _achievement(self) -> str:
        concept = self.resource.child("achievementStatus")
        found = None if concept is None else _code(concept, ACHIEVEMENT_SYSTEM)
        return "in-progress" if found is None else found.string()

    # -- the definition ---------------------------------------------------------------------

    def _definition(self, first: Element | None) -> GoalDefinition:
        resource = self.resource
        statement = resource.need("description").need("text").string()
        start_on = resource.need("startDate").day()
        targets = resource.items("target")
        measure: Measure | None = None
        target: Target | None = None
        if targets:
            measure, target = self._target(targets[0], start_on, first)
        area = None
        for category in resource.items("category"):
            found = _code(category, GOAL_AREA_SYSTEM)
            if found is not None:
                area = found.string()
                if area not in GOAL_AREA_DISPLAYS:
                    raise found.fail(
                        f"{area!r} is not a goal area; expected one of "
                        f"{', '.join(GOAL_AREA_DISPLAYS)}",
                        "value",
                    )
        priority = "medium-priority"
        concept = resource.child("priority")
        found = None if concept is None else _code(concept, PRIORITY_SYSTEM)
        if found is not None:
            priority = found.string()
            if priority not in PRIORITY_DISPLAYS:
                raise found.fail(f"{priority!r} is not a goal-priority code", "value")
        gas_levels = self._gas_levels()
        practices: tuple[str, ...] = ()
        for note in resource.items("note"):
            text = note.child("text")
            if text is not None and text.string().startswith("Practices: "):
                practices = tuple(text.string().removeprefix("Practices: ").split("; "))
        try:
            return GoalDefinition(
                statement=statement,
                start_on=start_on,
                measure=measure,
                target=target,
                area=area,  # type: ignore[arg-type]  # checked against the areas above
                practices=practices,
                priority=priority,  # type: ignore[arg-type]  # checked above
                gas_levels=gas_levels,
            )
        except GoalpathError as error:
            raise resource.fail(f"the goal cannot be stated: {error}", "business-rule") from None

    def _gas_levels(self) -> tuple[str, ...]:
        """The GAS scale of the Goal's PCO scaling extensions, -2 to +2, or none."""
        levels: dict[int, str] = {}
        for extension in self.resource.extensions(GAS_SCALING_URL):
            parts = {part.need("url").string(): part for part in extension.items("extension")}
            if "level" not in parts or "progressText" not in parts:
                raise extension.fail(
                    "a GAS scaling level needs its level (a LOINC answer) and its progressText",
                    "required",
                )
            coding = parts["level"].need("valueCoding")
            level = gas_level_of(coding.need("code").string())
            if level is None or level in levels:
                raise coding.fail(
                    "each GAS scaling level must be a different one of the LOINC answers "
                    + ", ".join(code for code, _ in GAS_LEVEL_CODES.values()),
                    "value",
                )
            levels[level] = parts["progressText"].need("valueString").string()
        if levels and len(levels) != len(GAS_LEVELS):
            raise self.resource.fail(
                f"a GAS scale describes all {len(GAS_LEVELS)} levels, -2 to +2; the Goal "
                f"describes {len(levels)}",
                "business-rule",
            )
        return tuple(levels[level] for level in sorted(levels))

    def _target(
        self, element: Element, start_on: date, first: Element | None
    ) -> tuple[Measure, Target | None]:
        concept = element.need("measure")
        instrument = self._instrument(concept)
        detail = element.child("detailQuantity")
        comparator = None if detail is None else detail.child("comparator")
        if comparator is not None and comparator.string() in DECREASING:
            direction = "decrease"
        elif comparator is not None and comparator.string() in INCREASING:
            direction = "increase"
        elif instrument is not None:
            direction = instrument.direction
        else:
            raise FhirImportError(
                self.resource.resource,
                f"{element.path}.detailQuantity.comparator",
                "says neither <= (the measure should fall) nor >= (it should rise), and the "
                "measure is no registered instrument; give the comparator",
                "required",
            )
        text = concept.child("text")
        unit = None if detail is None else detail.child("unit")
        try:
            measure = Measure(
                name=text.string() if text is not None else instrument.name if instrument else "",
                unit=unit.string() if unit else instrument.unit if instrument else "",
                direction=direction,  # type: ignore[arg-type]  # one of the two above
                instrument=None if instrument is None else instrument.id,
                minimum=None if instrument is None else instrument.minimum,
                maximum=None if instrument is None else instrument.maximum,
            )
        except GoalpathError as error:
            raise concept.fail(f"the measure cannot be read: {error}", "value") from None
        value = None if detail is None else detail.child("value")
        if value is None:
            return measure, None
        baselines = element.extensions(TARGET_BASELINE_URL)
        if baselines:
            baseline = baselines[0].need("valueQuantity").need("value")
        elif first is not None:
            baseline = first.need("valueQuantity").need("value")
        else:
            raise FhirImportError(
                self.resource.resource,
                f"{element.path}.extension('{TARGET_BASELINE_URL}')",
                "the target has no baseline and the goal no Observation to take it from",
                "required",
            )
        try:
            target = Target(
                baseline=baseline.number(),
                value=value.number(),
                due_on=element.need("dueDate").day(),
            )
            measure.check_value(target.value, "target value")
        except GoalpathError as error:
            raise value.fail(str(error), "value") from None
        del start_on
        return measure, target

    def _instrument(self, concept: Element) -> Instrument | None:
        loinc = _code(concept, LOINC_SYSTEM)
        if loinc is not None:
            for instrument in self.instruments.values():
                if instrument.loinc == loinc.string():
                    return instrument
        own = _code(concept, INSTRUMENT_SYSTEM)
        if own is not None:
            return self.instruments.get(own.string())
        return None

    # -- measurements and status ------------------------------------------------------------

    def _observed_on(self, observation: Element) -> date:
        return observation.need("effectiveDateTime").day()

    def _measure(self, goal: Goal, observation: Element, today: date) -> None:
        status = observation.need("status")
        if status.string() not in MEASURED_STATUSES:
            raise status.fail(
                f"an Observation {status.string()!r} is not imported; expected one of "
                f"{', '.join(MEASURED_STATUSES)}",
                "not-supported",
            )
        value = observation.need("valueQuantity").need("value")
        performers = observation.items("performer")
        actor = self.bundle.importer if not performers else self.bundle.actor(performers[0])
        notes = [n.need("text").string() for n in observation.items("note")]
        try:
            goal.measure(
                value.number(),
                observed_on=self._observed_on(observation),
                actor=actor,
                today=today,
                note="; ".join(notes) or None,
            )
        except GoalpathError as error:
            # A date the goal's window refuses is the observation's date, else its value.
            at_fault = observation.need("effectiveDateTime") if "date" in str(error) else value
            raise at_fault.fail(str(error), "business-rule") from None

    def _score(self, goal: Goal, observation: Element, today: date) -> None:
        """A GAS score Observation from another system: a review that scores GAS and continues."""
        value = observation.need("valueCodeableConcept")
        found = _code(value, LOINC_SYSTEM)
        level = None if found is None else gas_level_of(found.string())
        if found is None or level is None:
            raise value.fail(
                "a GAS score must be one of the LOINC answers "
                + ", ".join(f"{code} ({level:+d})" for level, (code, _) in GAS_LEVEL_CODES.items()),
                "value",
            )
        performers = observation.items("performer")
        actor = self.bundle.importer if not performers else self.bundle.actor(performers[0])
        try:
            goal.review(
                reviewed_on=self._observed_on(observation),
                achievement=self._achievement(),  # type: ignore[arg-type]  # checked by review
                decision="continue",
                attainment=level,
                actor=actor,
                today=today,
                note=f"imported from FHIR: GAS score Observation {observation.resource}",
            )
        except GoalpathError as error:
            raise observation.need("effectiveDateTime").fail(str(error), "business-rule") from None

    def _end(self, goal: Goal, code: str, today: date) -> None:
        resource = self.resource
        if code not in (*RETIRED_BY_STATUS, "on-hold"):
            return
        when = resource.need("statusDate")
        reason = resource.child("statusReason")
        why = reason.string() if reason is not None else f"imported from FHIR as {code}"
        try:
            if code == "on-hold":
                if goal.status == "on-hold":
                    return
                goal.review(
                    reviewed_on=when.day(),
                    achievement=self._achievement(),  # type: ignore[arg-type]  # checked by review
                    decision="pause",
                    actor=self.bundle.importer,
                    today=today,
                    note=why,
                )
            else:
                goal.retire(
                    reason_code=RETIRED_BY_STATUS[code],  # type: ignore[arg-type]
                    reason=why,
                    actor=self.bundle.importer,
                    retired_on=when.day(),
                    today=today,
                )
        except GoalpathError as error:
            raise resource.need("lifecycleStatus").fail(str(error), "business-rule") from None
