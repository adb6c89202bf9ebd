"""Snapshots after the commit, best effort: a failure never turns a stored write into a failure.

A goal's snapshot is taken after its events are stored. If it fails (a lock
timeout, a full disk, a lost connection), the command still returns what
the stored write deserves: the failure is logged on the ``goalpath`` logger
and the snapshot is owed, taken by the goal's next save.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Final
from uuid import UUID

from goalpath.core.goal import Goal

__all__ = ["LOG", "BestEffortSnapshots"]

LOG: Final = logging.getLogger("goalpath")
"""goalpath's logger: what went wrong after a write was stored (a snapshot not taken)."""


class BestEffortSnapshots:
    """The application's snapshots of goals, taken after the commit and never raising."""

    snapshot_interval: int
    """Take a goal's snapshot every this many events (set by the application)."""
    _snapshots_owed: set[UUID]
    """Goals whose snapshot failed: their next save takes it (set by the application)."""
    take_snapshot: Callable[..., Any]
    """The library's snapshot of an aggregate (eventsourcing's ``Application``)."""

    def _snapshot_if_due(self, goal: Goal, loaded_version: int) -> None:
        """Take the goal's snapshot if this save crossed an interval (or one is owed).

        The events are stored by now: a snapshot that fails (a lock timeout, a
        full disk, a lost connection) must not turn the stored write into a
        reported failure. It is logged and owed: the goal's next save takes it.
        """
        interval = self.snapshot_interval
        if goal.id in self._snapshots_owed or goal.version // interval > loaded_version // interval:
            version = goal.version - goal.version % interval
            self._snapshots_best_effort(
                [goal.id], lambda: self.take_snapshot(goal.id, version=version)
            )

    def _snapshots_best_effort(self, goal_ids: Sequence[UUID], take: Callable[[], object]) -> None:
        """Run ``take``, the snapshots of ``goal_ids`` after their events are stored.

        A failure is logged on the ``goalpath`` logger and the snapshots are
        owed to the goals' next saves; it is never raised.
        """
        try:
            take()
        except Exception as error:  # whatever failed, the write is stored
            self._snapshots_owed.update(goal_ids)
            LOG.warning(
                "snapshot of goal %s not taken (%s: %s); the events are stored and the "
                "goal's next save takes it",
                ", ".join(str(goal_id) for goal_id in goal_ids),
                type(error).__name__,
                error,
                exc_info=error,
            )
        else:
            self._snapshots_owed.difference_update(goal_ids)
