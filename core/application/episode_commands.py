"""The episode commands: opening an episode, assigning a therapist, closing it.

Each loads the episode (but ``open_episode``), is authorized, calls one
command method of :class:`~goalpath.core.episode.Episode`, where the rule
lives, and lets the engine save the new events. Each takes an optional
idempotency key (:mod:`goalpath.core.application.idempotency`);
``open_episode`` also takes the caller's ``episode_id`` as one. A base of
:class:`~goalpath.core.application.access_control.AccessControl`, which
gives them the authorization they declare here, and so part of
:class:`~goalpath.core.application.GoalpathApp` (a session is recorded
there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID

from goalpath.core.application.idempotency import idempotent
from goalpath.core.application.sealed import SealedApplication
from goalpath.core.authorization import Action, Principal, Subject
from goalpath.core.episode import Episode
from goalpath.core.errors import DuplicateIdError
from goalpath.core.inputs import check_identity, check_identity_list, check_text_list
from goalpath.core.values import Actor, as_uuid

__all__ = ["EpisodeCommands"]


class EpisodeCommands:
    """The commands on episodes of :class:`~goalpath.core.application.GoalpathApp`."""

    _engine: SealedApplication
    _authorize: Callable[[Principal | Actor, Action, Subject], Actor]
    """The policy's decision (:class:`~goalpath.core.application.access_control.AccessControl`)."""
    _episode_subject: Callable[[Episode], Subject]
    today: Callable[[], date]

    @idempotent(creates="episode_id")
    def open_episode(
        self,
        *,
        client_id: str,
        therapist_ids: Sequence[str],
        actor: Principal | Actor,
        concerns: Sequence[str] = (),
        opened_on: date | None = None,
        episode_id: UUID | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
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
            if self._engine._exists(episode_id):
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
        self._engine._save(episode, based_on={})
        return episode.id

    @idempotent()
    def assign_therapist(
        self,
        episode_id: UUID,
        therapist_id: str,
        *,
        actor: Principal | Actor,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """Add a therapist to an episode."""
        with self._engine._changing(Episode, episode_id, expected_version) as episode:
            actor = self._authorize(actor, "assign_therapist", self._episode_subject(episode))
            episode.assign_therapist(therapist_id, actor)

    @idempotent()
    def close_episode(
        self,
        episode_id: UUID,
        *,
        reason: str,
        actor: Principal | Actor,
        closed_on: date | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """Close an episode."""
        with self._engine._changing(Episode, episode_id, expected_version) as episode:
            actor = self._authorize(actor, "close_episode", self._episode_subject(episode))
            today = self.today()
            episode.close(
                reason=reason,
                closed_on=today if closed_on is None else closed_on,
                actor=actor,
                today=today,
            )
