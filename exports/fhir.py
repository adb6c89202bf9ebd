"""Export a plan as an HL7 FHIR Bundle (type ``collection``), for FHIR R5 or R4B.

The bundle holds, per episode, a ``CarePlan`` referencing the episode's
goals; per goal, a ``Goal``, an ``Observation`` per measurement and a
``Provenance`` per goal event. Everything is computed from the
application's aggregates and events (never from read-model tables), so
``as_of`` exports the plan exactly as it stood at that time.

The result is plain JSON-ready data (dicts, lists, strings, numbers).
``fhir.resources`` is not needed to export; :func:`validate_bundle` uses it
when it is installed (the ``fhir`` extra).

Ids: goal and episode ids are UUIDs and become the resources' ids, with
``urn:uuid:`` full URLs; observation and provenance ids are name-based
UUIDs derived from the goal id, so that exporting twice gives the same ids.
A host maps goalpath's client and actor ids to its own references with
``reference_for(kind, local_id)`` (kinds ``"client"`` and ``"actor"``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from uuid import UUID

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import (
    NotFoundError,
)
from goalpath.core.goal import Goal
from goalpath.core.measurement_window import find_in
from goalpath.core.measurements import measurement_series
from goalpath.exports.fhir_resources import (
    BundleExporter,
    observation_id,
    provenance_id,
)
from goalpath.exports.fhir_vocabulary import (
    ACHIEVEMENT_DISPLAYS,
    ACHIEVEMENT_SYSTEM,
    ACTOR_ROLE_SYSTEM,
    BUNDLE_TYPES,
    DATA_OPERATION_SYSTEM,
    FHIR_VERSIONS,
    GOAL_AREA_SYSTEM,
    INSTRUMENT_SYSTEM,
    LIFECYCLE_STATUS_CODES,
    LOINC_DISPLAYS,
    LOINC_SYSTEM,
    PERTAINS_TO_GOAL_URL,
    PRIORITY_DISPLAYS,
    TARGET_BASELINE_URL,
    FhirExportError,
    FhirValidationUnavailableError,
    FhirVersion,
    ReferenceFor,
    bundle_version,
    check_as_of,
    check_bundle_type,
    check_fhir_version,
    measure_concept,
    provenance_activity,
)
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.manager import Plugins, installed_instruments

__all__ = [
    "ACHIEVEMENT_DISPLAYS",
    "ACHIEVEMENT_SYSTEM",
    "ACTOR_ROLE_SYSTEM",
    "BUNDLE_TYPES",
    "DATA_OPERATION_SYSTEM",
    "FHIR_VERSIONS",
    "GOAL_AREA_SYSTEM",
    "INSTRUMENT_SYSTEM",
    "LIFECYCLE_STATUS_CODES",
    "LOINC_DISPLAYS",
    "LOINC_SYSTEM",
    "PERTAINS_TO_GOAL_URL",
    "PRIORITY_DISPLAYS",
    "TARGET_BASELINE_URL",
    "FhirExportError",
    "FhirValidationUnavailableError",
    "FhirVersion",
    "ReferenceFor",
    "client_episode_ids",
    "export_client",
    "export_episode",
    "goal_resource",
    "measure_concept",
    "observation_id",
    "observation_resource",
    "provenance_activity",
    "provenance_id",
    "validate_bundle",
]


def export_episode(
    app: GoalpathApp,
    episode_id: UUID,
    *,
    fhir_version: str = "R5",
    as_of: datetime | None = None,
    reference_for: ReferenceFor | None = None,
    generated_at: datetime | None = None,
    bundle_id: UUID | None = None,
    plugins: Plugins | None = None,
    bundle_type: str = "collection",
    time_zone: tzinfo = UTC,
) -> dict[str, Any]:
    """Export one episode's plan as a FHIR Bundle (``collection``, or ``transaction``).

    ``as_of`` (a time with a time zone) exports the plan as it stood then;
    ``reference_for`` maps client and actor ids to the host's references;
    ``generated_at`` and ``bundle_id`` fix the bundle's timestamp and id
    (default: now, and a random UUID); instruments (for LOINC codes) come from
    ``plugins``, by default the installed ones. A ``transaction`` bundle can
    be posted to a FHIR server as it is: every entry has its request, and
    clients and actors are conditional references by identifier.
    ``time_zone`` is the clinic's: it dates a status change recorded without
    an effective date of its own (UTC by default).
    """
    exporter = _exporter(fhir_version, reference_for, plugins, bundle_type, time_zone)
    exporter.add_episode(app, episode_id, as_of)
    return exporter.bundle(generated_at, bundle_id)


def export_client(
    app: GoalpathApp,
    client_id: str,
    *,
    fhir_version: str = "R5",
    as_of: datetime | None = None,
    reference_for: ReferenceFor | None = None,
    generated_at: datetime | None = None,
    bundle_id: UUID | None = None,
    plugins: Plugins | None = None,
    bundle_type: str = "collection",
    time_zone: tzinfo = UTC,
) -> dict[str, Any]:
    """Export every episode of a client (opened by ``as_of``, when given) as one FHIR Bundle.

    The arguments are those of :func:`export_episode`.
    """
    # Built first, so that a bad version or bundle type is refused before the log is scanned.
    exporter = _exporter(fhir_version, reference_for, plugins, bundle_type, time_zone)
    episode_ids = client_episode_ids(app, client_id, as_of=as_of)
    if not episode_ids:
        when = f" as of {as_of.isoformat()}" if as_of is not None else ""
        raise NotFoundError("client", f"{client_id}{when} (no episode of care is recorded)")
    for episode_id in episode_ids:
        exporter.add_episode(app, episode_id, as_of)
    return exporter.bundle(generated_at, bundle_id)


def goal_resource(
    goal: Goal,
    events: Sequence[Goal.Event],
    *,
    fhir_version: str = "R5",
    plugins: Plugins | None = None,
    time_zone: tzinfo = UTC,
) -> dict[str, Any]:
    """The Goal resource of ``goal`` as an export gives it: the same resource, alone.

    ``events`` are the goal's stored events (from the first); those after
    ``goal.version`` are left out, so ``goal`` at any version gives that
    version's resource (``meta.versionId`` the version, ``meta.lastUpdated``
    its event's recorded time). The other arguments are those of
    :func:`export_episode`. The FHIR REST interface serves these (``read``,
    ``vread``, ``history``).
    """
    exporter = _exporter(fhir_version, None, plugins, "collection", time_zone)
    return exporter.goal(goal, events[: goal.version])


def observation_resource(
    goal: Goal,
    sequence: int,
    *,
    fhir_version: str = "R5",
    plugins: Plugins | None = None,
    time_zone: tzinfo = UTC,
    events: Sequence[Goal.Event] = (),
) -> dict[str, Any]:
    """The Observation of a goal's measurement number ``sequence``, as an export gives it.

    The goal's state keeps its recent measurements only; for an older one
    give the goal's stored ``events`` (those after ``goal.version`` are
    left out), which hold every measurement.
    """
    exporter = _exporter(fhir_version, None, plugins, "collection", time_zone)
    measure = goal.definition.measure
    found = goal.recent_measurement(sequence)
    if found is None:
        series = measurement_series(events[: goal.version])
        index = find_in(series, sequence)
        found = None if index is None else series[index]
    if measure is None or found is None:
        raise NotFoundError("measurement", f"{goal.id}/{sequence}")
    return exporter.observation(goal, measure, found)


def _exporter(
    fhir_version: str,
    reference_for: ReferenceFor | None,
    plugins: Plugins | None,
    bundle_type: str,
    time_zone: tzinfo,
) -> BundleExporter:
    """The exporter of one bundle, its version and bundle type checked."""
    return BundleExporter(
        check_fhir_version(fhir_version),
        reference_for,
        _instruments_of(plugins),
        check_bundle_type(bundle_type),
        time_zone,
    )


def _instruments_of(plugins: Plugins | None) -> Mapping[str, Instrument]:
    if plugins is None:
        return installed_instruments()
    return {instrument.id: instrument for instrument in plugins.instruments()}


def client_episode_ids(
    app: GoalpathApp, client_id: str, *, as_of: datetime | None = None
) -> list[UUID]:
    """Return the ids of a client's episodes, in the order they were opened.

    From the application's client index (:mod:`goalpath.core.application.client_index`),
    which reads the event log once per process and then only its new events.
    """
    check_as_of(as_of)
    return engine_of(app).clients.episode_ids(client_id, as_of=as_of)


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Validate every resource of an exported bundle with ``fhir.resources``.

    The FHIR release is read from the bundle's ``meta.tag``. Raises
    :class:`FhirExportError` naming the first invalid resource, or
    :class:`FhirValidationUnavailableError` when ``fhir.resources`` is not
    installed.
    """
    version = bundle_version(bundle)
    module = "fhir.resources" if version == "R5" else "fhir.resources.R4B"
    try:
        # Imported here: fhir.resources is an optional extra, not needed to export.
        get_fhir_model_class = importlib.import_module(module).get_fhir_model_class
    except ImportError as error:
        raise FhirValidationUnavailableError(
            "validating FHIR needs the fhir.resources package: "
            'pip install "goalpath[fhir]" (or "fhir.resources>=8")'
        ) from error
    # Resources first, so that an error names the resource rather than the whole bundle.
    resources = [*(entry["resource"] for entry in bundle.get("entry", [])), bundle]
    for resource in resources:
        kind = resource.get("resourceType", "?")
        try:
            get_fhir_model_class(kind).model_validate(resource)
        except ValueError as error:
            raise FhirExportError(
                f"{kind}/{resource.get('id', '?')} is not valid FHIR {version}: {error}"
            ) from error
