"""The current-state tables of episodes and goals, and the projector that keeps them.

Tables (every date is ISO ``YYYY-MM-DD``, every JSON column sorted-key JSON):

- ``gp_episodes``: one row per episode (client, concerns, dates, session counts, and
  the log position where it was opened);
- ``gp_episode_therapists``: the therapists of each episode, in assignment order;
- ``gp_goals``: one row per goal: current definition (JSON), status, review
  summary, retirement, and the log position where it was stated (plan order);
- ``gp_measurements``: one row per measurement, corrections applied
  (``value`` is NULL once voided, ``original_value`` keeps the first value).

An erasure record (:class:`~goalpath.core.erasure.ClientErasure`) deletes
every row of that client.

Progress, plan warnings, the review queue and caseload outcomes are
computed from these rows when read, since they depend on the day asked.
"""

# ruff: noqa: S608  # table names and WHERE clauses are goalpath's own; values are parameters

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Final, Literal
from uuid import UUID

from goalpath.core.access import AccessRecord
from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure
from goalpath.core.errors import UnhandledEventError
from goalpath.core.goal import Goal, status_after, status_after_review
from goalpath.core.values import corrected
from goalpath.projections.read_model_store import StoreTransaction
from goalpath.projections.records import (
    EpisodeRecord,
    GoalRecord,
    MeasurementRecord,
    definition_from_json,
    definition_to_json,
)

__all__ = ["STATE_SCHEMA", "STATE_TABLES", "StateProjector", "load_episodes", "load_goals"]

STATE_TABLES: Final = ("gp_episodes", "gp_episode_therapists", "gp_goals", "gp_measurements")

STATE_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS gp_episodes ("
        "episode_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, concerns TEXT NOT NULL, "
        "opened_on TEXT NOT NULL, closed_on TEXT, close_reason TEXT, "
        "sessions_recorded INTEGER NOT NULL, sessions_attended INTEGER NOT NULL, "
        "version INTEGER NOT NULL, opened_at INTEGER NOT NULL)"
    ),
    "CREATE INDEX IF NOT EXISTS gp_episodes_client ON gp_episodes (client_id)",
    (
        "CREATE TABLE IF NOT EXISTS gp_episode_therapists ("
        "episode_id TEXT NOT NULL, therapist_id TEXT NOT NULL, position INTEGER NOT NULL, "
        "PRIMARY KEY (episode_id, therapist_id))"
    ),
    (
        "CREATE INDEX IF NOT EXISTS gp_episode_therapists_therapist "
        "ON gp_episode_therapists (therapist_id)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS gp_goals ("
        "goal_id TEXT PRIMARY KEY, episode_id TEXT NOT NULL, client_id TEXT NOT NULL, "
        "status TEXT NOT NULL, definition TEXT NOT NULL, concerns TEXT NOT NULL, "
        "instrument TEXT, version INTEGER NOT NULL, reviews_count INTEGER NOT NULL, "
        "last_reviewed_on TEXT, latest_achievement TEXT, latest_attainment INTEGER, "
        "retirement_reason TEXT, ended_on TEXT, template_id TEXT, template_version TEXT, "
        "stated_at INTEGER NOT NULL, latest_attainment_on TEXT)"
    ),
    "CREATE INDEX IF NOT EXISTS gp_goals_episode ON gp_goals (episode_id)",
    (
        "CREATE TABLE IF NOT EXISTS gp_measurements ("
        "goal_id TEXT NOT NULL, sequence INTEGER NOT NULL, value DOUBLE PRECISION, "
        "observed_on TEXT NOT NULL, status TEXT NOT NULL, original_value DOUBLE PRECISION, "
        "PRIMARY KEY (goal_id, sequence))"
    ),
    # A goal's latest measurement by observation date, for the plan, without reading the rest.
    (
        "CREATE INDEX IF NOT EXISTS gp_measurements_observed "
        "ON gp_measurements (goal_id, observed_on, sequence)"
    ),
)
"""DDL of the current-state tables."""


def _json(value: Sequence[str]) -> str:
    return json.dumps(list(value), ensure_ascii=False)


class StateProjector:
    """Applies episode and goal events to the current-state tables."""

    name = "state"
    schema = STATE_SCHEMA
    tables = STATE_TABLES

    def __init__(self) -> None:
        # Versions are written once per stream at the end of a batch, not once per event.
        self._goal_versions: dict[str, int] = {}
        self._episode_versions: dict[str, int] = {}

    def start_batch(self) -> None:
        """Forget anything left from a batch that failed."""
        self._goal_versions.clear()
        self._episode_versions.clear()

    def finish_batch(self, transaction: StoreTransaction) -> None:
        """Write the latest version of every stream the batch touched."""
        transaction.executemany(
            "UPDATE gp_goals SET version = ? WHERE goal_id = ?",
            [(version, stream) for stream, version in self._goal_versions.items()],
        )
        transaction.executemany(
            "UPDATE gp_episodes SET version = ? WHERE episode_id = ?",
            [(version, stream) for stream, version in self._episode_versions.items()],
        )
        self.start_batch()

    def apply(self, transaction: StoreTransaction, position: int, event: object) -> None:
        """Apply one event at notification ``position``; every event class is handled."""
        if isinstance(event, Goal.Event):
            self._goal_event(transaction, position, event)
        elif isinstance(event, Episode.Event):
            self._episode_event(transaction, position, event)
        elif isinstance(event, ClientErasure.Recorded):
            self._erase(transaction, event.client_id)
        elif isinstance(event, AccessRecord.Recorded):
            pass  # a read changes no episode or goal
        else:
            raise UnhandledEventError(event)

    def _goal_event(self, transaction: StoreTransaction, position: int, event: Goal.Event) -> None:
        goal_id = event.originator_id.hex
        match event:
            case Goal.Created():
                self._goal_created(transaction, position, event)
                return
            case Goal.Measured():
                transaction.execute(
                    "INSERT INTO gp_measurements VALUES (?, ?, ?, ?, 'final', NULL)",
                    (goal_id, event.sequence, event.value, event.observed_on.isoformat()),
                )
            case Goal.MeasurementCorrected():
                self._measurement_corrected(transaction, goal_id, event)
            case Goal.Refined():
                transaction.execute(
                    "UPDATE gp_goals SET definition = ? WHERE goal_id = ?",
                    (definition_to_json(event.definition), goal_id),
                )
            case Goal.Activated():
                transaction.execute(
                    "UPDATE gp_goals SET status = ? WHERE goal_id = ?",
                    (status_after(event, None), goal_id),
                )
            case Goal.Reviewed():
                self._goal_reviewed(transaction, goal_id, event)
            case Goal.Retired():
                transaction.execute(
                    "UPDATE gp_goals SET status = ?, retirement_reason = ?, ended_on = ? "
                    "WHERE goal_id = ?",
                    (
                        status_after(event, None),
                        event.reason_code,
                        event.retired_on.isoformat(),
                        goal_id,
                    ),
                )
            case _:
                raise UnhandledEventError(event)
        self._goal_versions[goal_id] = event.originator_version

    @staticmethod
    def _measurement_corrected(
        transaction: StoreTransaction, goal_id: str, event: Goal.MeasurementCorrected
    ) -> None:
        [(value, status, original_value)] = transaction.query(
            "SELECT value, status, original_value FROM gp_measurements "
            "WHERE goal_id = ? AND sequence = ?",
            (goal_id, event.sequence),
        )
        status, original_value = corrected(value, status, original_value, event.value)
        transaction.execute(
            "UPDATE gp_measurements SET value = ?, status = ?, original_value = ? "
            "WHERE goal_id = ? AND sequence = ?",
            (event.value, status, original_value, goal_id, event.sequence),
        )

    @staticmethod
    def _erase(transaction: StoreTransaction, client_id: str) -> None:
        transaction.execute(
            "DELETE FROM gp_measurements WHERE goal_id IN "
            "(SELECT goal_id FROM gp_goals WHERE client_id = ?)",
            (client_id,),
        )
        transaction.execute("DELETE FROM gp_goals WHERE client_id = ?", (client_id,))
        transaction.execute(
            "DELETE FROM gp_episode_therapists WHERE episode_id IN "
            "(SELECT episode_id FROM gp_episodes WHERE client_id = ?)",
            (client_id,),
        )
        transaction.execute("DELETE FROM gp_episodes WHERE client_id = ?", (client_id,))

    @staticmethod
    def _goal_created(transaction: StoreTransaction, position: int, event: Goal.Created) -> None:
        measure = event.definition.measure
        transaction.execute(
            "INSERT INTO gp_goals VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, NULL, NULL, NULL, ?, ?, ?, NULL)",
            (
                event.originator_id.hex,
                event.episode_id.hex,
                event.client_id,
                event.status,
                definition_to_json(event.definition),
                _json(event.concerns),
                measure.instrument.lower() if measure and measure.instrument else None,
                event.originator_version,
                event.template_id,
                event.template_version,
                position,
            ),
        )

    @staticmethod
    def _goal_reviewed(transaction: StoreTransaction, goal_id: str, event: Goal.Reviewed) -> None:
        status = status_after_review(event.decision)
        reviewed_on = event.reviewed_on.isoformat()
        transaction.execute(
            "UPDATE gp_goals SET reviews_count = reviews_count + 1, "
            "last_reviewed_on = CASE WHEN last_reviewed_on IS NULL OR last_reviewed_on < ? "
            "THEN ? ELSE last_reviewed_on END, "
            # By review date, as Goal.latest_achievement: the right-hand sides read the
            # row before this update, so a review of the latest date (or later) wins.
            "latest_achievement = CASE WHEN last_reviewed_on IS NULL OR last_reviewed_on <= ? "
            "THEN ? ELSE latest_achievement END, "
            "status = COALESCE(?, status) WHERE goal_id = ?",
            (reviewed_on, reviewed_on, reviewed_on, event.achievement, status, goal_id),
        )
        if event.attainment is not None:
            # By review date, as goal.latest_attainment_by_review_date: a backdated
            # review does not replace a later one's level; the same date, recorded later, does.
            transaction.execute(
                "UPDATE gp_goals SET "
                "latest_attainment = CASE WHEN latest_attainment_on IS NULL "
                "OR latest_attainment_on <= ? THEN ? ELSE latest_attainment END, "
                "latest_attainment_on = CASE WHEN latest_attainment_on IS NULL "
                "OR latest_attainment_on <= ? THEN ? ELSE latest_attainment_on END "
                "WHERE goal_id = ?",
                (reviewed_on, event.attainment, reviewed_on, reviewed_on, goal_id),
            )

    def _episode_event(
        self, transaction: StoreTransaction, position: int, event: Episode.Event
    ) -> None:
        episode_id = event.originator_id.hex
        version = event.originator_version
        if isinstance(event, Episode.Opened):
            transaction.execute(
                "INSERT INTO gp_episodes VALUES (?, ?, ?, ?, NULL, NULL, 0, 0, ?, ?)",
                (
                    episode_id,
                    event.client_id,
                    _json(event.concerns),
                    event.opened_on.isoformat(),
                    version,
                    position,
                ),
            )
            transaction.executemany(
                "INSERT INTO gp_episode_therapists VALUES (?, ?, ?)",
                [
                    (episode_id, therapist, index)
                    for index, therapist in enumerate(event.therapist_ids)
                ],
            )
            return
        if isinstance(event, Episode.GoalAdded):
            pass  # an episode's goals are read from gp_goals, in the order they were stated
        elif isinstance(event, Episode.SessionRecorded):
            transaction.execute(
                "UPDATE gp_episodes SET sessions_recorded = sessions_recorded + 1, "
                "sessions_attended = sessions_attended + ? WHERE episode_id = ?",
                (1 if event.attended else 0, episode_id),
            )
        elif isinstance(event, Episode.TherapistAssigned):
            transaction.execute(
                "INSERT INTO gp_episode_therapists VALUES (?, ?, ?)",
                (episode_id, event.therapist_id, position),
            )
        elif isinstance(event, Episode.Closed):
            transaction.execute(
                "UPDATE gp_episodes SET closed_on = ?, close_reason = ? WHERE episode_id = ?",
                (event.closed_on.isoformat(), event.reason, episode_id),
            )
        else:
            raise UnhandledEventError(event)
        self._episode_versions[episode_id] = version


_GOAL_COLUMNS: Final = (
    "goal_id, episode_id, client_id, status, definition, concerns, version, reviews_count, "
    "last_reviewed_on, latest_achievement, latest_attainment, retirement_reason, ended_on, "
    "template_id, template_version, latest_attainment_on"
)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def load_episodes(
    transaction: StoreTransaction, where: str = "1 = 1", params: Sequence[Any] = ()
) -> dict[UUID, EpisodeRecord]:
    """Read the episodes matching a ``WHERE`` clause on ``gp_episodes``, by id.

    Qualify column names in ``where`` (``gp_episodes.client_id``).
    """
    rows = transaction.query(
        "SELECT episode_id, client_id, concerns, opened_on, closed_on, close_reason, "
        f"sessions_recorded, sessions_attended, version FROM gp_episodes WHERE {where} "
        "ORDER BY opened_at",
        params,
    )
    if not rows:
        return {}
    therapists: dict[str, list[str]] = {}
    for episode_id, therapist_id in transaction.query(
        "SELECT t.episode_id, t.therapist_id FROM gp_episode_therapists t JOIN gp_episodes "
        f"ON gp_episodes.episode_id = t.episode_id WHERE {where} ORDER BY t.position",
        params,
    ):
        therapists.setdefault(episode_id, []).append(therapist_id)
    goals: dict[str, list[UUID]] = {}
    for episode_id, goal_id in transaction.query(
        "SELECT g.episode_id, g.goal_id FROM gp_goals g JOIN gp_episodes "
        f"ON gp_episodes.episode_id = g.episode_id WHERE {where} ORDER BY g.stated_at",
        params,
    ):
        goals.setdefault(episode_id, []).append(UUID(goal_id))
    records: dict[UUID, EpisodeRecord] = {}
    for (episode_id, client_id, concerns, opened_on, closed_on, close_reason, recorded,
         attended, version) in rows:  # fmt: skip
        record = EpisodeRecord(
            episode_id=UUID(episode_id),
            client_id=client_id,
            therapist_ids=tuple(therapists.get(episode_id, ())),
            concerns=tuple(json.loads(concerns)),
            opened_on=date.fromisoformat(opened_on),
            closed_on=_date(closed_on),
            close_reason=close_reason,
            sessions_recorded=recorded,
            sessions_attended=attended,
            goal_ids=tuple(goals.get(episode_id, ())),
            version=version,
        )
        records[record.episode_id] = record
    return records


def _goal_from_row(row: Sequence[Any], measurements: tuple[MeasurementRecord, ...]) -> GoalRecord:
    return GoalRecord(
        goal_id=UUID(row[0]),
        episode_id=UUID(row[1]),
        client_id=row[2],
        status=row[3],
        definition=definition_from_json(row[4]),
        concerns=tuple(json.loads(row[5])),
        version=row[6],
        reviews_count=row[7],
        last_reviewed_on=_date(row[8]),
        latest_achievement=row[9],
        latest_attainment=row[10],
        retirement_reason=row[11],
        ended_on=_date(row[12]),
        template_id=row[13],
        template_version=row[14],
        measurements=measurements,
        latest_attainment_on=_date(row[15]),
    )


def load_goals(
    transaction: StoreTransaction,
    where: str,
    params: Sequence[Any],
    *,
    measurements: Literal["all", "latest", "none"] = "all",
) -> list[GoalRecord]:
    """Read the goals matching a ``WHERE`` clause on ``gp_goals``, in the order they were stated.

    Qualify column names in ``where`` (``gp_goals.episode_id``). Each
    record's ``measurements`` are every one (``all``), only its latest valid
    one by observation date (``latest``: what a plan shows, read through an
    index whatever the length of the history), or none.
    """
    rows = transaction.query(
        f"SELECT {_GOAL_COLUMNS} FROM gp_goals WHERE {where} ORDER BY stated_at",
        params,
    )
    found: dict[str, list[MeasurementRecord]] = {}
    if rows and measurements != "none":
        columns = "m.goal_id, m.sequence, m.value, m.observed_on, m.status, m.original_value"
        query = (
            f"SELECT {columns} FROM gp_measurements m JOIN gp_goals "
            f"ON gp_goals.goal_id = m.goal_id WHERE {where} ORDER BY m.goal_id, m.sequence"
            if measurements == "all"
            else f"SELECT {columns} FROM gp_goals JOIN gp_measurements m "
            "ON m.goal_id = gp_goals.goal_id AND m.sequence = ("
            "SELECT x.sequence FROM gp_measurements x "
            "WHERE x.goal_id = gp_goals.goal_id AND x.value IS NOT NULL "
            f"ORDER BY x.observed_on DESC, x.sequence DESC LIMIT 1) WHERE {where}"
        )
        for goal_id, sequence, value, observed_on, status, original in transaction.query(
            query, params
        ):
            found.setdefault(goal_id, []).append(
                MeasurementRecord(
                    sequence=sequence,
                    value=value,
                    observed_on=date.fromisoformat(observed_on),
                    status=status,
                    original_value=original,
                )
            )
    return [_goal_from_row(row, tuple(found.get(row[0], ()))) for row in rows]
