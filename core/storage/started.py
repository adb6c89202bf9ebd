"""Whether a store was started: reads on a store that does not exist are refused, not begun.

A mistyped ``--db`` or ``--tenant`` (or a host's store argument) must
neither answer from an empty store nor leave one behind: no SQLite file, no
PostgreSQL schema, no key.
"""

from __future__ import annotations

from pathlib import Path

from goalpath.core.errors import StoreError
from goalpath.core.storage.locations import StoreSpec, redact_url
from goalpath.core.storage.postgres import postgres_store_exists

__all__ = ["check_started"]


def check_started(spec: StoreSpec) -> None:
    """Refuse a store that was never started: a mistyped path or tenant starts no empty store.

    A SQLite store is started when its file exists; a PostgreSQL tenant's
    when its schema exists. Refused with :class:`StoreError`
    (``field`` ``tenant`` when a tenant was named); a store in memory is
    always new.
    """
    started = "only a command that starts a store (goalpath episode open, or create=True) makes one"
    if spec.kind == "sqlite" and not Path(spec.location).exists():
        tenant = f" (tenant {spec.tenant})" if spec.tenant else ""
        raise StoreError(
            f"no goalpath store at {spec.location}{tenant}; check --db (or GOALPATH_DB) and "
            f"the tenant: {started}",
            field="tenant" if spec.tenant else "store",
        )
    if spec.kind == "postgres" and not postgres_store_exists(spec):
        tenant = f"tenant {spec.tenant}" if spec.tenant else "the default tenant"
        raise StoreError(
            f"no goalpath store for {tenant} at {redact_url(spec.location)}; check the "
            f"tenant: {started}",
            field="tenant" if spec.tenant else "store",
        )
