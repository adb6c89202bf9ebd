"""goalpath's application service: the Python API a host calls, and its wiring.

- :mod:`goalpath.core.application.goalpath_app`: :class:`GoalpathApp`, the
  facade a host calls: every command and read, and nothing of the library's
  persistence methods;
- :mod:`goalpath.core.application.goal_commands` and
  :mod:`goalpath.core.application.access_control`: its goal commands, and
  its authorization and access log;
- :mod:`goalpath.core.application.retries`: retrying a command on a version
  conflict;
- :mod:`goalpath.core.application.sealed`: the engine a ``GoalpathApp``
  holds privately (an eventsourcing ``Application``): the wiring (key
  store, recorder and mapper for a store location), loading and saving
  aggregates, time travel;
- :mod:`goalpath.core.application.unit_of_work`: what a unit of work keeps
  until it writes several commands' changes in one transaction;
- :mod:`goalpath.core.application.audit`: streaming a store's history for
  auditors.

It sits between the domain (the modules directly in :mod:`goalpath.core`) and
the storage infrastructure (:mod:`goalpath.core.storage`), and imports both.
"""

from goalpath.core.application.goalpath_app import GoalpathApp, resolve_db_path
from goalpath.core.application.sealed import local_today

__all__ = ["GoalpathApp", "local_today", "resolve_db_path"]
