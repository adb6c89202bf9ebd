"""Where each tenant lives: the placement file that maps tenants to database URLs.

One server serves many tenants (organisations), each in a store of its own,
and each tenant may live on its own database server. The placement file says
where: TOML (``.toml``) or JSON (any other name), one table per tenant under
``tenants``::

    # goalpath placement: the store of each tenant this server serves
    [tenants.north]
    db = "postgresql://goalpath@db-a.example.org:5432/clinics"
    key_file = "/run/secrets/goalpath-north.key"

    [tenants.south]
    db = "postgresql://goalpath@db-b.example.org:5432/clinics"
    key_file = "/run/secrets/goalpath-south.key"

The same in JSON: ``{"tenants": {"north": {"db": "...", "key_file": "..."}}}``.
A tenant's name follows goalpath's tenant rule (1 to 40 lower-case letters,
digits or underscores, starting with a letter) and is the store's tenant: on
PostgreSQL its schema ``goalpath_<name>``, on SQLite a file beside ``db``.
``db`` is a SQLite path or a ``postgresql://`` URL; ``key_file`` (optional)
names the file holding the tenant's master key, else the key is found as for
any store (``GOALPATH_KEY``, ``GOALPATH_KEY_FILE``, a key file beside a
SQLite store). :func:`load_placement` refuses a file it cannot take with a
:class:`PlacementError` naming the line (for a syntax error) or the key.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import attrs

from goalpath.core.errors import InvalidValueError
from goalpath.core.inputs import check_tenant

__all__ = ["Placement", "PlacementError", "TenantPlace", "load_placement"]

_ENTRY_KEYS: Final = ("db", "key_file")


class PlacementError(InvalidValueError):
    """The placement file cannot be taken: unreadable, malformed, or a key wrong.

    ``field`` is the key at fault (``tenants.north.db``), ``line`` the line of
    a syntax error where the parser names it, else ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        key: str | None = None,
        line: int | None = None,
        accepted: str | tuple[str, ...] | None = None,
    ) -> None:
        where = f"line {line}" if line is not None else (f"key {key}" if key else "")
        super().__init__(
            f"the placement file {path}{', ' + where if where else ''}: {message}",
            field=key or "placement",
            accepted=accepted,
        )
        self.path = path
        self.line = line


@attrs.frozen
class TenantPlace:
    """Where one tenant's store is: its database, and the file of its master key."""

    db: str
    key_file: str | None = None


@attrs.frozen
class Placement:
    """Every tenant a server serves, with where its store is."""

    tenants: Mapping[str, TenantPlace]

    def place_of(self, tenant: str) -> TenantPlace | None:
        """Where ``tenant`` lives, or ``None`` when it is not placed."""
        return self.tenants.get(tenant)


def load_placement(path: str) -> Placement:
    """Read and check the placement file at ``path`` (TOML if it ends in ``.toml``, else JSON)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise PlacementError(f"cannot be read ({reason})", path=path) from None
    document = _parse(text, path)
    tenants = document.get("tenants")
    if not isinstance(tenants, dict) or not tenants:
        raise PlacementError(
            "needs a 'tenants' table with one entry per tenant",
            path=path,
            key="tenants",
            accepted="tenants.<name>.db = a SQLite path or postgresql:// URL",
        )
    unknown = sorted(set(document) - {"tenants"})
    if unknown:
        raise PlacementError(
            "has keys goalpath does not know", path=path, key=unknown[0], accepted="tenants"
        )
    return Placement({name: _place(path, name, entry) for name, entry in tenants.items()})


def _parse(text: str, path: str) -> dict[str, Any]:
    try:
        if path.endswith(".toml"):
            return tomllib.loads(text)
        document = json.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlacementError(
            f"is not valid TOML ({error})", path=path, line=_toml_line(str(error))
        ) from None
    except json.JSONDecodeError as error:
        raise PlacementError(
            f"is not valid JSON ({error.msg})", path=path, line=error.lineno
        ) from None
    if not isinstance(document, dict):
        raise PlacementError("must hold a JSON object", path=path)
    return document


def _toml_line(message: str) -> int | None:
    """The line tomllib names in its message ``... (at line 3, column 7)``."""
    _before, found, after = message.rpartition("at line ")
    digits = after.split(",")[0].rstrip(")")
    return int(digits) if found and digits.isdigit() else None


def _place(path: str, name: object, entry: object) -> TenantPlace:
    key = f"tenants.{name}"
    try:
        check_tenant(name)
    except InvalidValueError as error:
        raise PlacementError(str(error), path=path, key=key, accepted=error.accepted) from None
    if not isinstance(entry, dict):
        raise PlacementError("must be a table with a 'db' key", path=path, key=key)
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise PlacementError(
            "is not a key of a tenant's placement",
            path=path,
            key=f"{key}.{unknown[0]}",
            accepted=_ENTRY_KEYS,
        )
    for member in _ENTRY_KEYS:
        value = entry.get(member)
        if (member == "db" or value is not None) and (not isinstance(value, str) or not value):
            raise PlacementError(
                "must be a non-empty text"
                + (" (a SQLite path or a postgresql:// URL)" if member == "db" else " (a path)"),
                path=path,
                key=f"{key}.{member}",
            )
    return TenantPlace(db=entry["db"], key_file=entry.get("key_file"))
