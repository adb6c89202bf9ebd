"""The criteria of one FHIR search, read from its query and checked: :func:`criteria_of`.

Each parameter is one :data:`~goalpath.server.fhir_capability.SERVED` lists
for the resource type; repeated parameters are combined with AND, and
comma-separated values of a token with OR, as FHIR searches combine them.
A value goalpath cannot take is refused with a typed error naming the
parameter and what it accepts (400, an OperationOutcome under ``/fhir``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import attrs
from starlette.datastructures import QueryParams

from goalpath.exports.fhir_vocabulary import ID_SYSTEM_PREFIX, LIFECYCLE_STATUS_CODES
from goalpath.server.fhir_capability import ServedResource
from goalpath.server.problems import InvalidRequestError

__all__ = ["Criteria", "TimeBound", "criteria_of", "time_bound"]

Prefix = Literal["eq", "ge", "gt", "le", "lt"]
_PREFIXES: Final[tuple[str, ...]] = ("eq", "ge", "gt", "le", "lt")
_GENERAL: Final = frozenset({"_format"})
"""Parameters of every interaction, not search criteria (the answer's format and release)."""

_CLIENT_ID_SYSTEM: Final = f"{ID_SYSTEM_PREFIX}client-id"
_STATUSES: Final = tuple(dict.fromkeys(LIFECYCLE_STATUS_CODES.values()))

_MOMENT: Final = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?P<fraction>\.\d{1,9})?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@attrs.frozen
class TimeBound:
    """One ``_lastUpdated`` criterion: a prefix and the range its value stands for.

    A value is a range at its own precision (``2026-05`` is all of May, in
    UTC unless it names a zone): ``eq`` matches inside it, ``ge`` from its
    start, ``gt`` from its end, ``lt`` before its start, ``le`` before its end.
    """

    prefix: Prefix
    start: datetime
    end: datetime

    def admits(self, moment: datetime) -> bool:
        """Whether a resource last changed at ``moment`` meets this criterion."""
        match self.prefix:
            case "eq":
                return self.start <= moment < self.end
            case "ge":
                return moment >= self.start
            case "gt":
                return moment >= self.end
            case "lt":
                return moment < self.start
            case "le":
                return moment < self.end


def _refused(parameter: str, message: str, accepted: str | tuple[str, ...]) -> InvalidRequestError:
    return InvalidRequestError(f"{parameter}: {message}", field=parameter, accepted=accepted)


def time_bound(value: str) -> TimeBound:
    """A ``_lastUpdated`` value (``ge2026-05-01``, ``lt2026-06-01T10:00:00Z``) as a bound."""
    prefix, rest = (value[:2], value[2:]) if value[:2] in _PREFIXES else ("eq", value)
    found = _MOMENT.match(rest)
    accepted = "eq, ge, gt, le or lt, then YYYY, YYYY-MM, YYYY-MM-DD or a date and time"
    if found is None:
        raise _refused("_lastUpdated", f"{value!r} is not a FHIR date or prefixed date", accepted)
    parts = found.groupdict()
    try:
        start, end = _range(parts)
    except ValueError as error:
        raise _refused("_lastUpdated", f"{value!r}: {error}", accepted) from None
    return TimeBound(prefix, start, end)  # type: ignore[arg-type]  # checked against _PREFIXES


def _range(parts: Mapping[str, str | None]) -> tuple[datetime, datetime]:
    """The start and end of a FHIR date or dateTime at its own precision."""
    zone = parts["zone"]
    tz = UTC if zone in (None, "Z") else datetime.strptime(zone, "%z").tzinfo
    year, month, day = int(parts["year"] or 0), parts["month"], parts["day"]
    if month is None:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    if day is None:
        start = datetime(year, int(month), 1, tzinfo=UTC)
        following = datetime(year + int(month) // 12, int(month) % 12 + 1, 1, tzinfo=UTC)
        return start, following
    if parts["hour"] is None:
        start = datetime(year, int(month), int(day), tzinfo=UTC)
        return start, start + timedelta(days=1)
    second, fraction = parts["second"], parts["fraction"]
    start = datetime(
        year,
        int(month),
        int(day),
        int(parts["hour"] or 0),
        int(parts["minute"] or 0),
        int(second or 0),
        round(float(fraction) * 1_000_000) if fraction else 0,
        tzinfo=tz,
    )
    if second is None:
        return start, start + timedelta(minutes=1)
    if fraction is None:
        return start, start + timedelta(seconds=1)
    return start, start + timedelta(microseconds=1)


@attrs.frozen
class Criteria:
    """What one search selects: a client's resources, narrowed by status, code and time."""

    client_id: str
    statuses: tuple[frozenset[str], ...] = ()
    codes: tuple[tuple[tuple[str | None, str | None], ...], ...] = ()
    updated: tuple[TimeBound, ...] = ()
    ignored: tuple[str, ...] = ()

    def selects(self, resource: Mapping[str, Any], last_updated: datetime | None) -> bool:
        """Whether ``resource`` (which last changed at ``last_updated``) meets every criterion."""
        if any(resource.get("lifecycleStatus") not in allowed for allowed in self.statuses):
            return False
        codings = resource.get("code", {}).get("coding", [])
        if any(not _any_coding(codings, tokens) for tokens in self.codes):
            return False
        if not self.updated:
            return True
        return last_updated is not None and all(b.admits(last_updated) for b in self.updated)


def _any_coding(
    codings: list[dict[str, str]], tokens: tuple[tuple[str | None, str | None], ...]
) -> bool:
    """Whether a coding matches one of the tokens (``system|code``; ``None`` is any)."""
    for system, code in tokens:
        for coding in codings:
            if system is not None and coding.get("system", "") != system:
                continue
            if code is not None and coding.get("code") != code:
                continue
            return True
    return False


def _token(value: str) -> tuple[str | None, str | None]:
    """``system|code``, ``|code`` (no system), ``system|`` (any code) or ``code``."""
    if "|" not in value:
        return None, value
    system, _bar, code = value.partition("|")
    return system, code or None


def _client(name: str, modifier: str, value: str) -> str:
    """The client a ``patient`` or ``subject`` value names."""
    if "," in value:
        raise _refused(name, "a search reads one client's record; name one", "one client id")
    if modifier == "identifier":
        system, bar, client = value.rpartition("|")
        if bar and system not in ("", _CLIENT_ID_SYSTEM):
            raise _refused(
                f"{name}:identifier", f"the system must be {_CLIENT_ID_SYSTEM}", _CLIENT_ID_SYSTEM
            )
        value = client
    else:
        kind, slash, client = value.rpartition("/")
        if slash and not kind.endswith("Patient"):
            raise _refused(name, f"{value!r} is not a Patient", "Patient/<client id>")
        value = client
    if not value.strip():
        raise _refused(name, "names no client", "a client id, or Patient/<client id>")
    return value


def criteria_of(served: ServedResource, query: QueryParams, *, lenient: bool) -> Criteria:
    """The criteria of a search of ``served`` from its query; unknown parameters refused.

    With ``lenient``, a parameter that is not served is ignored and listed
    in :attr:`Criteria.ignored` instead.
    """
    names = served.parameter_names()
    clients: set[str] = set()
    statuses: list[frozenset[str]] = []
    codes: list[tuple[tuple[str | None, str | None], ...]] = []
    updated: list[TimeBound] = []
    ignored: list[str] = []
    for key, value in query.multi_items():
        name, _colon, modifier = key.partition(":")
        if key in _GENERAL:
            continue
        allowed_modifier = modifier == "" or (
            modifier == "identifier" and name in ("patient", "subject")
        )
        if name not in names or not allowed_modifier:
            if lenient:
                ignored.append(key)
                continue
            raise _refused(
                key,
                f"{served.type} is not searched by {key!r} here",
                (*sorted(names), "patient:identifier"),
            )
        if name in ("patient", "subject"):
            clients.add(_client(name, modifier, value))
        elif name == "lifecycle-status":
            chosen = frozenset(value.split(","))
            unknown = sorted(chosen - set(_STATUSES))
            if unknown:
                raise _refused(name, f"unknown status {', '.join(unknown)!r}", _STATUSES)
            statuses.append(chosen)
        elif name == "code":
            codes.append(tuple(_token(part) for part in value.split(",")))
        else:
            updated.append(time_bound(value))
    if len(clients) != 1:
        problem = "name the client whose record is searched" if not clients else "names two clients"
        raise _refused("patient", problem, "patient=<client id> or subject=Patient/<client id>")
    return Criteria(clients.pop(), tuple(statuses), tuple(codes), tuple(updated), tuple(ignored))
