"""The review queue: goals whose progress review is due or overdue, per therapist.

A goal is reviewable while it is active or on hold in an open episode; its
next review falls due its cadence (``review_every_days``) after the last
review, or after its start date when it has never been reviewed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Final, Literal
from uuid import UUID

import attrs

from goalpath.core.goal import REVIEWABLE_STATUSES
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = ["DEFAULT_WITHIN_DAYS", "ReviewDue", "build_review_queue"]

DEFAULT_WITHIN_DAYS: Final = 7
"""Reviews falling due within this many days count as due now."""


@attrs.frozen
class ReviewDue:
    """One goal awaiting review; ``days_overdue`` is negative while the review lies ahead."""

    goal_id: UUID
    episode_id: UUID
    client_id: str
    therapist_ids: tuple[str, ...]
    statement: str
    status: str
    due_on: date
    days_overdue: int
    state: Literal["overdue", "due"]
    last_reviewed_on: date | None


def build_review_queue(
    episodes: Mapping[UUID, EpisodeRecord],
    goals: Sequence[GoalRecord],
    today: date,
    *,
    within_days: int = DEFAULT_WITHIN_DAYS,
) -> list[ReviewDue]:
    """Return the reviews due by ``today + within_days``, the most overdue first."""
    horizon = today + timedelta(days=within_days)
    queue: list[ReviewDue] = []
    for goal in goals:
        episode = episodes.get(goal.episode_id)
        due = goal.next_review_due
        if (
            episode is None
            or episode.closed_on is not None
            or goal.status not in REVIEWABLE_STATUSES
            or due is None
            or due > horizon
        ):
            continue
        queue.append(
            ReviewDue(
                goal_id=goal.goal_id,
                episode_id=goal.episode_id,
                client_id=goal.client_id,
                therapist_ids=episode.therapist_ids,
                statement=goal.definition.statement,
                status=goal.status,
                due_on=due,
                days_overdue=(today - due).days,
                state="overdue" if due < today else "due",
                last_reviewed_on=goal.last_reviewed_on,
            )
        )
    return sorted(queue, key=lambda item: (item.due_on, str(item.goal_id)))
