"""The goalpath application: the commands and reads a host system calls.

Each command loads an aggregate, calls one command method on it and saves
the new events. Business rules live in the aggregates
(:mod:`goalpath.core.goal`, :mod:`goalpath.core.episode`), not here; how a
store is opened and how aggregates are loaded and saved lives in
:mod:`goalpath.core.application.sealed`.

This module is over 500 lines because it is the whole Python API in one
class: one short method per command or read, each with its documented
parameters. Splitting it would scatter that surface without separating a concept.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Final, Self, cast
from uuid import UUID

import attrs
from eventsourcing.persistence import (
    StoredEvent,
)

from goalpath.core.access import AccessEntry, AccessRecord
from goalpath.core.application.sealed import (
    DEFAULT_SNAPSHOT_INTERVAL,
    SEALED_RECORDERS,
    SealedApplication,
    local_today,
    retried_on_conflict,
)
from goalpath.core.application.unit_of_work import PendingWrites, check_host_connection
from goalpath.core.authorization import (
    Action,
    ClinicalPolicy,
    Policy,
    Principal,
    Read,
    Subject,
    as_principal,
)
from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure, erasure_id
from goalpath.core.errors import (
    ClientErasedError,
    DuplicateIdError,
    GoalpathError,
    InvalidCommandError,
    InvalidValueError,
    NotAuthorizedError,
    NotFoundError,
)
from goalpath.core.goal import Goal
from goalpath.core.inputs import (
    DEFAULT_MAX_IMPORT_ROWS,
    bounded_rows,
    check_filter,
    check_identity,
    check_identity_list,
    check_moment,
    check_text_list,
)
from goalpath.core.storage.integrity import VerificationReport, verify_chains
from goalpath.core.storage.keys import ClientKeyStore, MasterKey
from goalpath.core.storage.locations import MEMORY, resolve_location, store_spec
from goalpath.core.storage.replay import append_events
from goalpath.core.storage.started import check_started
from goalpath.core.values import (
    AchievementStatus,
    Actor,
    Focus,
    GoalArea,
    GoalDefinition,
    Measure,
    Priority,
    RetirementReason,
    ReviewDecision,
    Target,
    as_uuid,
)

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_SNAPSHOT_INTERVAL",
    "UNCHANGED",
    "GoalpathApp",
    "local_today",
    "resolve_db_path",
]

DEFAULT_DB_PATH: Final = "goalpath.db"
"""The embedded store's file when no ``--db``, ``GOALPATH_DATABASE_URL`` or ``GOALPATH_DB``
says otherwise."""


class _Unchanged:
    """The default of a refinement parameter: that field keeps its value."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()
"""A refinement parameter left at this keeps the goal's current value."""


def resolve_db_path(db: str | os.PathLike[str] | None) -> str:
    """Return the store to use (see :func:`goalpath.core.storage.locations.resolve_location`)."""
    return resolve_location(db)


class GoalpathApp(SealedApplication):
    """Therapy goals, event-sourced.

    ``store`` is a SQLite file path (the embedded default), ``":memory:"``
    for an in-memory store (tests), or a ``postgresql://`` URL (production).
    ``tenant`` gives an organisation a store of its own (its own PostgreSQL
    schema, or its own SQLite file beside the given one). ``today`` gives the
    current date for rules such as "an observation cannot be dated in the
    future"; hosts and tests may pass their own clock. ``snapshot_interval``
    takes a snapshot of a goal every that many events (0 turns snapshots off).
    ``create=False`` refuses a store that was never started (a SQLite file
    that does not exist, a tenant without its PostgreSQL schema) with
    :class:`~goalpath.core.errors.StoreError`, instead of starting an empty
    one: for reads, where a mistyped path or tenant must not answer from a
    new, empty store.

    ``master_key`` encrypts and chains every record; without it, the key is
    found by :func:`goalpath.core.storage.keys.resolve_master_key` (``GOALPATH_KEY``,
    ``GOALPATH_KEY_FILE``, or a key file beside a SQLite store).

    ``policy`` decides every command and every read given a principal
    (:class:`~goalpath.core.authorization.ClinicalPolicy` unless the host
    supplies its own). Commands take the principal as ``actor``: a
    :class:`~goalpath.core.authorization.Principal`, or an ``Actor``, which
    counts as a principal asserted by the caller and is decided the same way.
    Reads given a ``principal`` are decided and logged in the access log
    (:meth:`record_access`); reads without one are the host's own trusted
    reads (projectors, exporters), neither decided nor logged.
    """

    name = "goalpath"

    def __init__(
        self,
        store: str | os.PathLike[str] = MEMORY,
        *,
        tenant: str | None = None,
        today: Callable[[], date] = local_today,
        snapshot_interval: int = DEFAULT_SNAPSHOT_INTERVAL,
        lock_timeout_seconds: int = 10,
        master_key: MasterKey | None = None,
        key_store: ClientKeyStore | str | os.PathLike[str] | None = None,
        policy: Policy | None = None,
        create: bool = True,
    ) -> None:
        self.policy: Policy = ClinicalPolicy() if policy is None else policy
        if not create:
            check_started(store_spec(os.fspath(store), tenant))
        super().__init__(
            store,
            tenant=tenant,
            today=today,
            snapshot_interval=snapshot_interval,
            lock_timeout_seconds=lock_timeout_seconds,
            master_key=master_key,
            key_store=key_store,
        )

    # -- authorization and the access log -------------------------------------

    def _authorize(self, actor: Principal | Actor, action: Action, subject: Subject) -> Actor:
        """Refuse ``action`` unless the policy allows it; return the actor to record."""
        principal = as_principal(actor)
        decision = self.policy.decide(principal, action, subject)
        if not decision.allowed:
            raise NotAuthorizedError(
                principal.id, principal.role, action, decision.rule, decision.explanation
            )
        return principal.actor

    def _goal_subject(self, goal: Goal) -> Subject:
        episode = self._load(Episode, goal.episode_id)
        return Subject(
            client_id=goal.client_id,
            therapist_ids=tuple(episode.therapist_ids),
            goal_stated_by=goal.created_by.role,
            goal_status=goal.status,
        )

    @staticmethod
    def _episode_subject(episode: Episode) -> Subject:
        return Subject(client_id=episode.client_id, therapist_ids=tuple(episode.therapist_ids))

    def _client_subject(self, client_id: str) -> Subject:
        """A client's facts: the therapists of every one of their episodes (a scan of the log)."""
        therapists: list[str] = []
        for _position, domain_event in self.iter_events():
            if isinstance(domain_event, Episode.Opened) and domain_event.client_id == client_id:
                episode = self._load(Episode, domain_event.originator_id)
                therapists += [t for t in episode.therapist_ids if t not in therapists]
        return Subject(client_id=client_id, therapist_ids=tuple(therapists))

    def record_access(
        self,
        principal: Principal | Actor,
        read: Read,
        *,
        client_id: str | None = None,
        episode_id: UUID | None = None,
        goal_id: UUID | None = None,
        purpose: str | None = None,
    ) -> UUID:
        """Decide a read of a client's data and append it to the access log; return the record id.

        Name what is read by its goal, its episode or its client (none of them:
        the whole store, as an audit export of every client). The policy
        decides first: a refused read raises
        :class:`~goalpath.core.errors.NotAuthorizedError` and records nothing.
        Hosts serving reads from the read models (``Projections``) call this
        before answering.
        """
        if goal_id is not None:
            goal = self._load(Goal, goal_id)
            subject = self._goal_subject(goal)
            episode_id = goal.episode_id
        elif episode_id is not None:
            subject = self._episode_subject(self._load(Episode, episode_id))
        elif client_id is not None:
            subject = self._client_subject(client_id)
        else:
            subject = Subject()
        checked = as_principal(principal)
        self._authorize(checked, read, subject)
        record = AccessRecord.record(
            checked,
            read,
            client_id=subject.client_id,
            episode_id=None if episode_id is None else as_uuid(episode_id, "episode"),
            goal_id=None if goal_id is None else as_uuid(goal_id, "goal"),
            purpose=purpose,
        )
        self._save(record, based_on={})
        return record.id

    def access_log(
        self,
        *,
        principal: Principal | Actor,
        client_id: str | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        purpose: str | None = None,
    ) -> list[AccessEntry]:
        """Return the access log, oldest first, filtered by client, reader and time.

        Reading the access log is itself a read: it is decided (as
        ``access-log``) before the listing and recorded after it, so the
        listing shows the reads before this one. It scans the event log.
        """
        for moment, name in ((since, "since"), (until, "until")):
            if moment is not None:
                check_moment(name, moment)
        client_id = check_filter("client id", client_id)
        actor_id = check_filter("actor id", actor_id)
        checked = as_principal(principal)
        self._authorize(checked, "access-log", Subject(client_id) if client_id else Subject())
        entries = [
            AccessEntry.of(domain_event)
            for _position, domain_event in self.iter_events()
            if isinstance(domain_event, AccessRecord.Recorded)
            and (client_id is None or domain_event.client_id == client_id)
            and (actor_id is None or domain_event.actor.id == actor_id)
            and (since is None or domain_event.timestamp >= since)
            and (until is None or domain_event.timestamp <= until)
        ]
        record = AccessRecord.record(checked, "access-log", client_id=client_id, purpose=purpose)
        self._save(record, based_on={})
        return entries

    # -- units of work ----------------------------------------------------------

    @contextmanager
    def unit_of_work(self, *, connection: Any = None) -> Iterator[Self]:
        """Run several commands, on several aggregates, and write them in one transaction.

        Yields an application like this one, whose commands run exactly as
        this one's (authorized, checked, refused with the same typed errors)
        but keep what they change in the unit: later commands of the unit
        see it, and nothing is written until the block exits without an
        error. Then every change is written in one transaction; an error in
        the block (raised on), or another writer's change to one of the same
        aggregates meanwhile (:class:`~goalpath.core.errors.ConflictError`),
        writes nothing. Reads of history and time travel show what is stored.

        ``connection``, on a PostgreSQL store: the host's own psycopg
        connection, inside a transaction the host has begun. goalpath writes
        within it (in a savepoint) and neither commits nor rolls back: the
        host's rollback removes goalpath's writes too. The events table stays
        locked for other writers until the host's transaction ends.

        An erasure cannot be part of a unit (it destroys a key at once), and
        units do not nest.
        """
        if self._unit is not None:
            raise InvalidCommandError("units of work do not nest; give the command to this unit")
        if connection is not None:
            check_host_connection(connection, self.store.kind)
        work = copy.copy(self)
        unit = work._unit = PendingWrites()
        try:
            yield work
        finally:
            unit.ended = True
        self._write_unit(unit, connection)

    # -- episodes -------------------------------------------------------------

    def open_episode(
        self,
        *,
        client_id: str,
        therapist_ids: Sequence[str],
        actor: Principal | Actor,
        concerns: Sequence[str] = (),
        opened_on: date | None = None,
        episode_id: UUID | None = None,
    ) -> UUID:
        """Open an episode of care; return its id.

        ``therapist_ids`` is a list of ids (a bare string is refused, not read
        as a list of characters); the ids are checked and NFC normalised
        (:func:`goalpath.core.inputs.check_identity`) before anything else.
        """
        client_id = check_identity("client id", client_id)
        therapist_ids = check_identity_list("therapist id", therapist_ids)
        actor = self._authorize(actor, "open_episode", Subject(client_id, therapist_ids))
        if episode_id is not None:
            episode_id = as_uuid(episode_id, "episode")
            if self._exists(episode_id):
                raise DuplicateIdError("episode", episode_id)
        today = self.today()
        episode = Episode.open(
            client_id=client_id,
            therapist_ids=therapist_ids,
            concerns=check_text_list("presenting concerns", concerns),
            opened_on=today if opened_on is None else opened_on,
            actor=actor,
            today=today,
            episode_id=episode_id,
        )
        self._save(episode, based_on={})
        return episode.id

    @retried_on_conflict
    def record_session(
        self,
        episode_id: UUID,
        *,
        actor: Principal | Actor,
        held_on: date | None = None,
        attended: bool = True,
        number: int | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Record the episode's next session; return its number.

        A session is a fact about the day it was held, whatever else the
        episode recorded meanwhile (its number is the next one when it lands;
        a given ``number`` is checked again), so without ``expected_version``
        a concurrent write is retried, not refused (:func:`retried_on_conflict`).
        """
        with self._changing(Episode, episode_id, expected_version) as episode:
            actor = self._authorize(actor, "record_session", self._episode_subject(episode))
            today = self.today()
            return episode.record_session(
                held_on=today if held_on is None else held_on,
                attended=attended,
                actor=actor,
                today=today,
                number=number,
            )

    def assign_therapist(
        self,
        episode_id: UUID,
        therapist_id: str,
        *,
        actor: Principal | Actor,
        expected_version: int | None = None,
    ) -> None:
        """Add a therapist to an episode."""
        with self._changing(Episode, episode_id, expected_version) as episode:
            actor = self._authorize(actor, "assign_therapist", self._episode_subject(episode))
            episode.assign_therapist(therapist_id, actor)

    def close_episode(
        self,
        episode_id: UUID,
        *,
        reason: str,
        actor: Principal | Actor,
        closed_on: date | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Close an episode."""
        with self._changing(Episode, episode_id, expected_version) as episode:
            actor = self._authorize(actor, "close_episode", self._episode_subject(episode))
            today = self.today()
            episode.close(
                reason=reason,
                closed_on=today if closed_on is None else closed_on,
                actor=actor,
                today=today,
            )

    def get_episode(
        self,
        episode_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> Episode:
        """Return an episode as it is now, at a given version, or at a past time of either kind.

        ``as_of`` is recorded time and ``effective_on`` effective time, as for
        :meth:`get_goal`. With a ``principal`` the read is decided and logged
        (:meth:`record_access`).
        """
        if version is not None and (as_of is not None or effective_on is not None):
            raise InvalidValueError("give a version or a time, not both")
        if principal is not None:
            self.record_access(principal, "episode", episode_id=episode_id, purpose=purpose)
        if as_of is not None or effective_on is not None:
            return self._as_of(Episode, episode_id, as_of, effective_on)
        if version is None:
            return self._load(Episode, episode_id)
        return self._at_version(Episode, episode_id, version)

    # -- goals ----------------------------------------------------------------

    def create_goal(
        self,
        episode_id: UUID,
        definition: GoalDefinition,
        *,
        actor: Principal | Actor,
        activate: bool = False,
        goal_id: UUID | None = None,
        template_id: str | None = None,
        template_version: str | None = None,
    ) -> UUID:
        """State a new goal in an episode; return its id.

        With ``activate`` the goal starts active, which it may only if it is SMART.
        """
        if goal_id is not None:
            goal_id = as_uuid(goal_id, "goal")
            if self._exists(goal_id):
                raise DuplicateIdError("goal", goal_id)
        episode = self._load(Episode, episode_id)
        subject = self._episode_subject(episode)
        actor = self._authorize(actor, "create_goal", subject)
        if activate:
            stated = attrs.evolve(subject, goal_stated_by=actor.role, goal_status="proposed")
            self._authorize(actor, "activate_goal", stated)
        loaded = episode.version
        goal = Goal.state(
            episode_id=episode.id,
            client_id=episode.client_id,
            episode_opened_on=episode.opened_on,
            definition=definition,
            actor=actor,
            concerns=tuple(episode.concerns),
            activate=activate,
            goal_id=goal_id,
            template_id=template_id,
            template_version=template_version,
        )
        episode.add_goal(goal.id, actor, stated_at=goal.created_on)
        self._save(goal, episode, based_on={episode.id: loaded})
        return goal.id

    def refine_goal(
        self,
        goal_id: UUID,
        *,
        reason: str,
        actor: Principal | Actor,
        expected_version: int | None = None,
        statement: str | _Unchanged = UNCHANGED,
        measure: Measure | _Unchanged | None = UNCHANGED,
        target: Target | _Unchanged | None = UNCHANGED,
        area: GoalArea | _Unchanged | None = UNCHANGED,
        focus: Focus | _Unchanged | None = UNCHANGED,
        practices: Sequence[str] | _Unchanged = UNCHANGED,
        priority: Priority | _Unchanged = UNCHANGED,
        review_every_days: int | _Unchanged = UNCHANGED,
        gas_importance: int | _Unchanged | None = UNCHANGED,
        gas_difficulty: int | _Unchanged | None = UNCHANGED,
        gas_levels: Sequence[str] | _Unchanged = UNCHANGED,
    ) -> None:
        """Change a goal's statement, target, practices, priority, cadence or GAS, for a reason.

        A field left out keeps its value. The goal itself decides what may change
        (:meth:`Goal.refine <goalpath.core.goal.Goal.refine>`: not the measure, not the
        start date, and an active goal stays SMART).
        """
        given: dict[str, Any] = {
            "statement": statement,
            "measure": measure,
            "target": target,
            "area": area,
            "focus": focus,
            "practices": practices if isinstance(practices, _Unchanged) else tuple(practices),
            "priority": priority,
            "review_every_days": review_every_days,
            "gas_importance": gas_importance,
            "gas_difficulty": gas_difficulty,
            # A bare string is left for the definition to refuse, not split into letters.
            "gas_levels": (
                gas_levels if isinstance(gas_levels, _Unchanged | str) else tuple(gas_levels)
            ),
        }
        changes = {name: value for name, value in given.items() if value is not UNCHANGED}
        with self._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "refine_goal", self._goal_subject(goal))
            goal.refine(attrs.evolve(goal.definition, **changes), reason, actor)

    def activate_goal(
        self, goal_id: UUID, *, actor: Principal | Actor, expected_version: int | None = None
    ) -> None:
        """Agree to pursue a goal; refused with the SMART reasons if it is not SMART."""
        with self._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "activate_goal", self._goal_subject(goal))
            goal.activate(actor)

    @retried_on_conflict
    def record_measurement(
        self,
        goal_id: UUID,
        value: float,
        *,
        actor: Principal | Actor,
        observed_on: date | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Record a measurement against a goal's measure; return its number.

        A measurement is an observation of one day, whatever the goal's other
        measurements are (its number is the next one when it lands), so
        without ``expected_version`` a concurrent write is retried, not
        refused (:func:`retried_on_conflict`).
        """
        with self._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "record_measurement", self._goal_subject(goal))
            today = self.today()
            return goal.measure(
                value,
                observed_on=today if observed_on is None else observed_on,
                actor=actor,
                today=today,
                note=note,
            )

    def import_measurements(
        self,
        goal_id: UUID,
        rows: Iterable[tuple[float, date, str | None]],
        *,
        actor: Principal | Actor,
        expected_version: int | None = None,
        max_rows: int = DEFAULT_MAX_IMPORT_ROWS,
    ) -> range:
        """Import many measurements of one goal in one transaction; return their numbers.

        For history migrated from another system: ``rows`` are ``(value,
        observed_on, note)``. All rows are checked first; a bad one is refused
        with its position and nothing is written. More than ``max_rows`` rows
        (:data:`~goalpath.core.inputs.DEFAULT_MAX_IMPORT_ROWS` unless given) are
        refused with :class:`~goalpath.core.errors.LimitExceededError`.
        """
        rows = bounded_rows(rows, max_rows, "rows")
        goal = self._load(Goal, goal_id, expected_version)
        actor = self._authorize(actor, "import_measurements", self._goal_subject(goal))
        loaded = goal.version
        numbers = goal.measure_many(rows, actor=actor, today=self.today(), append=append_events)
        if numbers:
            self._save_import([goal], based_on={goal.id: loaded})
        return numbers

    def import_measurements_of_goals(
        self,
        batches: Mapping[UUID, Iterable[tuple[float, date, str | None]]],
        *,
        actor: Principal | Actor,
        max_rows: int = DEFAULT_MAX_IMPORT_ROWS,
    ) -> dict[UUID, range]:
        """Import the measurements of many goals in one transaction; return each goal's numbers.

        Like :meth:`import_measurements`, for several goals at once
        (``batches`` maps a goal id to its rows): every row of every goal is
        checked first; a bad one is refused, naming its goal and position, and
        nothing is written for any goal. ``max_rows`` bounds the rows of all
        goals together.
        """
        goals: list[Goal] = []
        based_on: dict[UUID, int] = {}
        numbers: dict[UUID, range] = {}
        today = self.today()
        taken = 0
        for goal_id, given in batches.items():
            rows = bounded_rows(given, max_rows, "rows", already=taken)
            taken += len(rows)
            goal = self._load(Goal, goal_id)
            if goal.id in based_on:
                raise InvalidValueError(f"goal {goal.id} is given twice; give its rows once")
            recorded = self._authorize(actor, "import_measurements", self._goal_subject(goal))
            based_on[goal.id] = goal.version
            try:
                numbers[goal.id] = goal.measure_many(
                    rows, actor=recorded, today=today, append=append_events
                )
            except GoalpathError as error:
                raise type(error)(f"goal {goal.id}: {error}") from None
            goals.append(goal)
        if any(numbers.values()):
            self._save_import(goals, based_on=based_on)
        return numbers

    def _save_import(self, goals: Sequence[Goal], *, based_on: dict[UUID, int]) -> None:
        """Seal and insert imported events in one transaction, then snapshot from memory.

        The same records as :meth:`_save` writes, faster for large batches:
        the events are sealed in one pass (:meth:`GoalpathMapper.seal_rows`),
        and a due snapshot is taken of the goal in memory, which holds
        exactly the state its events replay to, instead of reading the events
        back from the store.
        """
        if self._unit is not None:
            self._unit.stash(goals, based_on)
            return
        events = [domain_event for goal in goals for domain_event in goal.collect_events()]
        with self._refused_writes(goals, based_on), self._sealed_save():
            # The recorder's own insert: its transaction also seals the stream heads.
            self.recorder.insert_events(
                [
                    StoredEvent(
                        originator_id=stream, originator_version=version, topic=topic, state=state
                    )
                    for stream, version, topic, state in self.sealing.seal_rows(events)
                ]
            )
        if self.snapshot_interval and self.snapshots is not None:
            interval = self.snapshot_interval
            owed = [
                goal
                for goal in goals
                if goal.id in self._snapshots_owed
                or goal.version // interval > based_on.get(goal.id, 0) // interval
            ]
            if owed:
                snapshots = self.snapshots
                self._snapshots_best_effort(
                    [goal.id for goal in owed],
                    # One transaction for every goal's snapshot, after the events are stored.
                    lambda: snapshots.put([Goal.Snapshot.take(goal) for goal in owed]),
                )

    def correct_measurement(
        self,
        goal_id: UUID,
        sequence: int,
        *,
        reason: str,
        actor: Principal | Actor,
        value: float | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Correct a measurement's value, or void it when ``value`` is ``None``."""
        with self._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "correct_measurement", self._goal_subject(goal))
            goal.correct_measurement(sequence, reason=reason, actor=actor, value=value)

    @retried_on_conflict
    def review_goal(
        self,
        goal_id: UUID,
        *,
        achievement: AchievementStatus,
        decision: ReviewDecision,
        actor: Principal | Actor,
        reviewed_on: date | None = None,
        attainment: int | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        """Record a progress review of a goal.

        A review is the clinician's judgement on its day, added beside the
        goal's other events, and its rules (the goal still reviewable) are
        checked again on each attempt; so without ``expected_version`` a
        concurrent write is retried, not refused (:func:`retried_on_conflict`).
        A caller whose judgement rests on the version it saw passes it.
        """
        with self._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "review_goal", self._goal_subject(goal))
            today = self.today()
            goal.review(
                reviewed_on=today if reviewed_on is None else reviewed_on,
                achievement=achievement,
                decision=decision,
                actor=actor,
                today=today,
                attainment=attainment,
                note=note,
            )

    def retire_goal(
        self,
        goal_id: UUID,
        *,
        reason_code: RetirementReason,
        reason: str,
        actor: Principal | Actor,
        retired_on: date | None = None,
        replaced_by: UUID | None = None,
        expected_version: int | None = None,
    ) -> None:
        """End a goal: achieved, no longer relevant, replaced, client discharged or in error."""
        with self._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "retire_goal", self._goal_subject(goal))
            if replaced_by is not None:
                replaced_by = as_uuid(replaced_by, "goal")
                self._load(Goal, replaced_by)
            today = self.today()
            goal.retire(
                reason_code=reason_code,
                reason=reason,
                actor=actor,
                retired_on=today if retired_on is None else retired_on,
                today=today,
                replaced_by=replaced_by,
            )

    def get_goal(
        self,
        goal_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> Goal:
        """Return a goal as it is now, at a given version, or at a past time of either kind.

        ``as_of`` (recorded time, a date and time with a time zone): the goal
        as the store knew it then. ``effective_on`` (effective time, a date):
        the goal as it was in force that day, from its events' own dates
        (start, observation, review, retirement; see
        :mod:`goalpath.core.effective_time`), of the events recorded by
        ``as_of`` when both are given. With a ``principal`` the read is
        decided and logged (:meth:`record_access`).
        """
        if version is not None and (as_of is not None or effective_on is not None):
            raise InvalidValueError("give a version or a time, not both")
        if principal is not None:
            self.record_access(principal, "goal", goal_id=goal_id, purpose=purpose)
        if as_of is not None or effective_on is not None:
            return self._as_of(Goal, goal_id, as_of, effective_on)
        if version is not None:
            return self._at_version(Goal, goal_id, version)
        return self._load(Goal, goal_id)

    def list_goals(
        self,
        episode_id: UUID,
        *,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Goal]:
        """Return an episode's goals, in the order they were stated: its plan.

        ``as_of`` (recorded time): the goals the store knew of then, as they
        stood then. ``effective_on`` (effective time): the goals started by
        that day, as they were in force then (see :meth:`get_goal`). With a
        ``principal`` the read is decided and logged as a ``plan`` read.
        """
        if principal is not None:
            self.record_access(principal, "plan", episode_id=episode_id, purpose=purpose)
        if as_of is None and effective_on is None:
            episode = self._load(Episode, episode_id)
            return [self._load(Goal, goal_id) for goal_id in episode.goal_ids]
        episode = self._as_of(Episode, episode_id, as_of, effective_on)
        goals = []
        for goal_id in episode.goal_ids:
            try:
                goals.append(self._as_of(Goal, goal_id, as_of, effective_on))
            except NotFoundError:
                if effective_on is None:
                    raise
        return goals

    def goal_events(
        self,
        goal_id: UUID,
        *,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Goal.Event]:
        """Return every stored event of a goal, oldest first.

        With a ``principal`` the read is decided and logged as a ``history`` read.
        """
        goal_id = as_uuid(goal_id, "goal")
        if principal is not None:
            self.record_access(principal, "history", goal_id=goal_id, purpose=purpose)
        self.sealing.check_not_erased(goal_id)
        events = cast("list[Goal.Event]", list(self.events.get(goal_id)))
        if not events or not isinstance(events[0], Goal.Created):
            raise NotFoundError("goal", goal_id)
        return events

    def episode_events(
        self,
        episode_id: UUID,
        *,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Episode.Event]:
        """Return every stored event of an episode, oldest first.

        With a ``principal`` the read is decided and logged as a ``history`` read.
        """
        episode_id = as_uuid(episode_id, "episode")
        if principal is not None:
            self.record_access(principal, "history", episode_id=episode_id, purpose=purpose)
        self.sealing.check_not_erased(episode_id)
        events = cast("list[Episode.Event]", list(self.events.get(episode_id)))
        if not events or not isinstance(events[0], Episode.Opened):
            raise NotFoundError("episode", episode_id)
        return events

    def iter_events(self, *, start: int = 1, batch: int = 500) -> Iterator[tuple[int, Any]]:
        """Yield ``(position, event)`` for every readable event in recording order, streaming.

        Events of an erased client cannot be read and are left out.
        """
        position = start
        while True:
            notifications = self.recorder.select_notifications(start=position, limit=batch)
            if not notifications:
                return
            # Another process may have erased a client since this one cached their key.
            self.sealing.refresh_erased(notifications)
            for notification in notifications:
                try:
                    domain_event = self.mapper.to_domain_event(notification)
                except ClientErasedError:
                    continue
                yield notification.id, domain_event
            position = notifications[-1].id + 1

    # -- audit and privacy --------------------------------------------------------

    def erase_client(self, client_id: str, *, reason: str, actor: Principal | Actor) -> UUID:
        """Erase a client's data by destroying their key (crypto-shredding); return the record id.

        The erasure itself is recorded first (who, when, why, which client),
        under goalpath's own key. Afterwards the client's events remain as
        structure (ids, versions, types) for the audit, their content can no
        longer be read, and read models drop the client's rows as they
        process the erasure record. Only a supervisor (or the system, for
        automated retention rules) may erase, and a reason is required.
        """
        if self._unit is not None:
            raise InvalidCommandError(
                "an erasure destroys a key at once and cannot be part of a unit of work; "
                "erase the client through the application, outside the unit"
            )
        actor = self._authorize(actor, "erase_client", Subject(client_id))
        ClientErasure.check_request(actor, reason)
        record = self.keys.lookup(client_id)
        if record is None:
            raise NotFoundError("client", client_id)
        if record.erased_on is not None:
            raise InvalidCommandError(
                f"client {client_id} was already erased on {record.erased_on}"
            )
        record_id = erasure_id(record.key_id)
        if not self._exists(record_id):
            erasure = ClientErasure.record(
                client_id=client_id, key_id=record.key_id, reason=reason, actor=actor
            )
            self._save(erasure, based_on={})
        self.keys.erase(client_id)
        self.sealing.forget_key(record.key_id)
        return record_id

    def purge(self) -> None:
        """Make sure no destroyed key lingers in the store's files.

        An erasure does this itself; call it again after an
        :class:`~goalpath.core.storage.sqlite_files.ErasureIncompleteError`, once the
        other processes on the file have closed.
        """
        self.keys.purge()

    def erasures(self) -> list[ClientErasure]:
        """Every recorded erasure, oldest first."""
        found = []
        for _position, domain_event in self.iter_events():
            if isinstance(domain_event, ClientErasure.Recorded):
                found.append(self._load(ClientErasure, domain_event.originator_id))
        return found

    def verify(self, progress: Callable[[int], None] | None = None) -> VerificationReport:
        """Recompute every stream's hash chain and report what does not verify."""
        sealed = self.recorder if isinstance(self.recorder, SEALED_RECORDERS) else None
        return verify_chains(
            self.recorder,
            self.sealing.chain_key,
            self.keys,
            check_notification_gaps=self.store.kind == "sqlite",
            progress=progress,
            sealed=sealed.read_sealed_state() if sealed is not None else None,
            seal_key=self.master_key.derive("store-seal"),
        )
