"""Authorization and the access log: who may take which command or read, and who read what.

The base of :class:`~goalpath.core.application.GoalpathApp`: every command
and every read given a principal is decided here by the application's
policy before anything is loaded for it or written, and every such read
appends an access record (identifiers only) to the store's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from uuid import UUID

from goalpath.core.access import AccessEntry, AccessRecord
from goalpath.core.application.episode_commands import EpisodeCommands
from goalpath.core.application.sealed import SealedApplication
from goalpath.core.authorization import (
    Action,
    Policy,
    Principal,
    Read,
    Subject,
    as_principal,
)
from goalpath.core.episode import Episode
from goalpath.core.errors import NotAuthorizedError
from goalpath.core.goal import Goal
from goalpath.core.inputs import check_filter, check_moment
from goalpath.core.values import Actor, as_uuid

__all__ = ["AccessControl"]


class AccessControl(EpisodeCommands):
    """The authorization and access-log half of :class:`~goalpath.core.application.GoalpathApp`.

    ``policy`` decides every command and every read given a principal; the
    engine (the eventsourcing application, private) holds the store.
    """

    _engine: SealedApplication
    policy: Policy
    """Decides every command and read given a principal (the host's, or the clinical rules)."""

    def today(self) -> date:
        """The current date according to this application's clock (``today=``)."""
        return self._engine.today()

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
        # The goal was loaded (its client's key checked) just before; its episode is the
        # same client's, under the same key.
        episode = self._engine._load(Episode, goal.episode_id, erasure_checked=True)
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
        """A client's facts: the therapists of every one of their episodes."""
        therapists: list[str] = []
        for episode_id in self._engine.clients.episode_ids(client_id):
            episode = self._engine._load(Episode, episode_id)
            therapists += [t for t in episode.therapist_ids if t not in therapists]
        return Subject(client_id=client_id, therapist_ids=tuple(therapists))

    @contextmanager
    def reading(
        self,
        principal: Principal | Actor,
        read: Read,
        *,
        client_id: str | None = None,
        episode_id: UUID | None = None,
        goal_id: UUID | None = None,
        purpose: str | None = None,
    ) -> Iterator[UUID]:
        """Decide a read of a client's data, and append it to the access log once it has answered.

        Name what is read by its goal, its episode or its client (none of
        them: the whole store, as an audit export of every client). The
        policy decides before the block runs: a refused read raises
        :class:`~goalpath.core.errors.NotAuthorizedError`, and nothing is
        loaded for it or recorded. The access record (identifiers only) is
        appended when the block ends without an exception; a read that fails
        after it was allowed (no such goal at that time, an erased client, a
        version that does not exist) disclosed nothing and writes nothing:
        the store is left as it was. Yields the id the access record will
        have. Every read given a principal, the application's own
        (:meth:`~goalpath.core.application.GoalpathApp.get_goal` ...) and a
        host's from the read models (``Projections``) or exports, is logged
        by this one method.
        """
        if goal_id is not None:
            goal = self._engine._load(Goal, goal_id)
            subject = self._goal_subject(goal)
            episode_id = goal.episode_id
        elif episode_id is not None:
            subject = self._episode_subject(self._engine._load(Episode, episode_id))
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
        yield record.id
        self._engine._save(record, based_on={})

    def _logged(
        self,
        principal: Principal | Actor | None,
        read: Read,
        *,
        episode_id: UUID | None = None,
        goal_id: UUID | None = None,
        purpose: str | None = None,
    ) -> AbstractContextManager[object]:
        """:meth:`reading` of a read given a principal; without one, nothing is decided or logged.

        For the reads of :class:`~goalpath.core.application.GoalpathApp`.
        """
        if principal is None:
            return nullcontext()
        return self.reading(
            principal, read, episode_id=episode_id, goal_id=goal_id, purpose=purpose
        )

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
            for _position, domain_event in self._engine.iter_events()
            if isinstance(domain_event, AccessRecord.Recorded)
            and (client_id is None or domain_event.client_id == client_id)
            and (actor_id is None or domain_event.actor.id == actor_id)
            and (since is None or domain_event.timestamp >= since)
            and (until is None or domain_event.timestamp <= until)
        ]
        record = AccessRecord.record(checked, "access-log", client_id=client_id, purpose=purpose)
        self._engine._save(record, based_on={})
        return entries
