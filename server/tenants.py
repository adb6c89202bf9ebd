"""The tenants one server serves: each tenant's application and read models, opened once.

A request's tenant comes from its token (the configured tenant claim,
:attr:`~goalpath.server.settings.ClaimNames.tenant`), so the routes and the
OpenAPI document are the same for one tenant or many. Without a placement
file the server serves the one store of its settings, as it always did;
with one (:mod:`goalpath.server.placement`) it serves each placed tenant
from that tenant's own database, opening the tenant's
:class:`~goalpath.core.application.GoalpathApp` and
:class:`~goalpath.projections.Projections` on its first request, once, under
a lock, and refuses a tenant the file does not place (403), never opening a
new store for it.

Threads: an opened :class:`Tenant` is shared by every request thread, as the
one application of a single-tenant server is (docs/embedding.md, "Threads
and processes"); only the opening of a tenant takes :class:`Tenants`' lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final

import attrs

from goalpath.core.application import GoalpathApp, resolve_db_path
from goalpath.core.authorization import Policy, Principal
from goalpath.core.errors import InvalidCommandError, NotAuthorizedError
from goalpath.core.storage.keys import KEY_FILE_ENV, resolve_master_key
from goalpath.projections import Projections
from goalpath.server.placement import Placement

__all__ = ["Tenant", "TenantNotServedError", "Tenants", "open_placed_app"]

_SHOWN_LENGTH: Final = 60


@attrs.frozen
class Tenant:
    """One tenant's store as the routes use it.

    Attributes:
        name: the tenant (``None``: the default store of a single-tenant server).
        app: its application, shared by every request thread.
        projections: its read models.
    """

    name: str | None
    app: GoalpathApp
    projections: Projections


class TenantNotServedError(NotAuthorizedError):
    """The token names no tenant this server serves, or none where one is needed (403).

    ``tenant`` is the tenant the token named (``None``: it named none).
    """

    def __init__(self, principal: Principal, tenant: str | None, explanation: str) -> None:
        self.tenant = tenant
        super().__init__(
            principal.id, principal.role, "use this server", "tenant-is-served", explanation
        )
        self.field = "tenant"


class Tenants:
    """The tenants a server serves: one fixed store, or the placed tenants opened lazily.

    Give ``single`` (and ``owns_single``: whether :meth:`close` closes its
    application, not when the host gave it), or ``placement`` with
    ``open_app``, which opens a placed tenant's application by name.
    """

    def __init__(
        self,
        *,
        single: Tenant | None = None,
        owns_single: bool = True,
        placement: Placement | None = None,
        open_app: Callable[[str], GoalpathApp] | None = None,
    ) -> None:
        if (single is not None) == (placement is not None and open_app is not None):
            raise InvalidCommandError("a server serves one store, or a placement it opens")
        self._single = single
        self._owns_single = owns_single
        self._placement = placement
        self._open_app = open_app
        self._opened: dict[str, Tenant] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def names(self) -> tuple[str, ...]:
        """The placed tenants' names (empty for a single-tenant server)."""
        return () if self._placement is None else tuple(sorted(self._placement.tenants))

    def of(self, principal: Principal, tenant: str | None) -> Tenant:
        """The store of the tenant a caller's token names; 403 if this server does not serve it.

        A single-tenant server serves its one store to every token, except a
        token naming another tenant than the one the server was given.
        """
        if self._single is not None:
            served = self._single.name
            if tenant is not None and served is not None and tenant != served:
                raise TenantNotServedError(
                    principal, tenant, f"this server serves tenant {served}, not {_shown(tenant)}"
                )
            return self._single
        if tenant is None:
            raise TenantNotServedError(
                principal, None, "this server serves several tenants; the token names none"
            )
        opened = self._opened.get(tenant)
        if opened is not None:
            return opened
        return self._open(principal, tenant)

    def _open(self, principal: Principal, tenant: str) -> Tenant:
        if (
            self._placement is None
            or self._open_app is None
            or (self._placement.place_of(tenant) is None)
        ):
            raise TenantNotServedError(
                principal, tenant, f"tenant {_shown(tenant)} is not placed on this server"
            )
        with self._lock:
            if self._closed:
                raise InvalidCommandError("the server is shutting down")
            opened = self._opened.get(tenant)
            if opened is None:
                app = self._open_app(tenant)
                opened = Tenant(tenant, app, Projections(app))
                self._opened[tenant] = opened
            return opened

    def close(self) -> None:
        """Close every opened tenant's read models and application (the host's own app excepted)."""
        with self._lock:
            self._closed = True
            opened = list(self._opened.values())
            self._opened.clear()
        for tenant in opened:
            tenant.projections.close()
            tenant.app.close()
        if self._single is not None:
            self._single.projections.close()
            if self._owns_single:
                self._single.app.close()


def open_placed_app(placement: Placement, tenant: str, policy: Policy | None) -> GoalpathApp:
    """Open the application of a placed tenant: on its database, with its key file."""
    place = placement.tenants[tenant]
    location = resolve_db_path(place.db)
    master_key = (
        None
        if place.key_file is None
        else resolve_master_key(location, {KEY_FILE_ENV: place.key_file})
    )
    return GoalpathApp(location, tenant=tenant, master_key=master_key, policy=policy)


def _shown(tenant: str) -> str:
    return repr(tenant[:_SHOWN_LENGTH])
