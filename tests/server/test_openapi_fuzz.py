"""A property-based fuzz of the whole OpenAPI (schemathesis), with valid tokens.

Every operation of the committed docs/openapi.json gets requests that
schemathesis makes from its schemas, valid ones and invalid ones (positive
and negative generation), sent in process to the ASGI application with a
token of one of five callers (a therapist, a client, an auditor, a
supervisor, and a therapist whose token's only scope is ``user/Goal.rs``),
on a store that holds an episode with a goal and a measurement; half the
requests name that episode, goal, client and measurement in their path
instead of generated ids, so commands reach goalpath's rules, not only its
404s. Each response must:

- not be a 5xx;
- be documented: its status for the operation, its media type for the
  status, its body valid against that schema (schemathesis' own checks);
- leak nothing of the server's insides: no traceback, no source file, no
  Python exception class of the standard library or a driver, and a
  problem's ``error_type`` one of goalpath's own;
- if refused (4xx), leave the store byte-identical.

The store is every row of every table of the SQLite file, compared before
and after each refused request: the events (an access record is an event
too, so a refused read that logged itself would show), snapshots, stream
heads, seals, client keys and the read models with their tracking
positions. A successful read legitimately appends an access record; a
refused request writes nothing at all.

In process (schemathesis' ASGI transport), not a subprocess: the store's
tables are read between two requests without a network round trip or a
second process, so each example costs a few milliseconds, and the bounded
run (``EXAMPLES`` per operation and mode) stays within about a minute of CI
time on two cores. The served document is the committed one
(tests/server/test_openapi_document.py).
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError
from goalpath.core.storage.keys import MasterKey
from goalpath.server import create_app
from goalpath.server.auth import NotAuthenticatedError
from goalpath.server.problems import Receive, Scope, Send
from tests.server.served import OPENAPI_FILE
from tests.server.support import (
    SMART_DEFINITION,
    TODAY,
    Issuer,
    open_episode,
    settings_for,
)

EXAMPLES: Final = 10
"""Examples per operation and generation mode: bounded, so the fuzz fits CI's time."""

SCHEMA: Final = schemathesis.openapi.from_path(str(OPENAPI_FILE))
OPERATIONS: Final = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]  # an invalid document fails here
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

_STANDARD_EXCEPTIONS: Final = sorted(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)
_LEAKS: Final = re.compile(
    r"Traceback \(most recent call last\)|File \"|\.py\b|site-packages|"
    r"\b(sqlite3|psycopg|pydantic_core|starlette|fastapi|eventsourcing|joserfc)\.|"
    rf"\b({'|'.join(_STANDARD_EXCEPTIONS)})\b"
)


def _error_types() -> set[str]:
    """goalpath's error class names, and the server's names for malformed requests."""
    found: set[str] = set()
    # The server's own errors are subclasses once goalpath.server.auth is imported.
    classes: list[type[BaseException]] = [GoalpathError, NotAuthenticatedError]
    while classes:
        kind = classes.pop()
        found.add(kind.__name__)
        classes.extend(kind.__subclasses__())
    return found | {"RequestValidationError", "HTTPException", "InternalError"}


ERROR_TYPES: Final = _error_types()


class Fuzzed:
    """The application under fuzz, its store, the callers' tokens and the seeded ids."""

    def __init__(self, folder: Path, issuer: Issuer) -> None:
        self.store = folder / "fuzzed.db"
        self.app = GoalpathApp(
            str(self.store), master_key=MasterKey.generate(), today=lambda: TODAY
        )
        jwks = issuer.write_jwks(folder / "jwks.json")
        self.server = create_app(settings_for(jwks, str(self.store)), app=self.app)
        therapist = issuer.token("therapist-1", "therapist")
        self.tokens = [
            therapist,
            issuer.token("client-1", "client", patient="client-1", scope="patient/*.cruds"),
            issuer.token("auditor-1", "auditor", scope="user/*.rs"),
            issuer.token("supervisor-1", "supervisor"),
            issuer.token("therapist-1", "therapist", scope="user/Goal.rs"),
        ]
        self.ids = self._seed(therapist)

    def _seed(self, therapist: str) -> dict[str, Any]:
        """An episode of client-1 with an active goal and one measurement."""
        headers = {"Authorization": f"Bearer {therapist}"}
        client = TestClient(self.server)  # no lifespan: the fixture closes what it opened
        episode = open_episode(client, headers)
        goal = client.post(
            f"/episodes/{episode}/goals",
            json={"definition": SMART_DEFINITION, "activate": True},
            headers=headers,
        )
        goal.raise_for_status()
        goal_id = goal.json()["id"]
        client.post(
            f"/goals/{goal_id}/measurements",
            json={"value": 1, "observed_on": "2026-05-20"},
            headers=headers,
        ).raise_for_status()
        return {
            "episode_id": episode,
            "goal_id": goal_id,
            "client_id": "client-1",
            "template_id": "cbt.panic-frequency",
            "sequence": 1,
        }

    async def api(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The server, its lifespan answered here: the fixture opens and closes it.

        schemathesis ends an application's lifespan after each test, which
        would close the read models every later test reads.
        """
        if scope["type"] != "lifespan":
            await self.server(scope, receive, send)
            return
        while True:
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            if message["type"] == "lifespan.shutdown":
                return

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table of the store, as stored."""
        with sqlite3.connect(f"file:{self.store}?mode=ro", uri=True) as connection:
            names = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            return {
                name: connection.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608
                for name in names
            }


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, issuer: Issuer) -> Iterator[Fuzzed]:
    target = Fuzzed(tmp_path_factory.mktemp("fuzz"), issuer)
    try:
        yield target
    finally:
        target.server.state.goalpath.close()
        target.app.close()


def _leaks(response: Any) -> list[str]:
    text = response.text
    found = [match.group(0) for match in _LEAKS.finditer(text)]
    if "problem+json" in response.headers.get("content-type", ""):
        error_type = json.loads(text).get("error_type")
        if error_type not in ERROR_TYPES:
            found.append(f"error_type {error_type!r}")
    return found


def _negatable(operation: Any) -> bool:
    """Whether an invalid request can be made: the operation takes a parameter or a body."""
    return bool(list(operation.iter_parameters())) or bool(operation.body)


RUNS: Final = [
    pytest.param(operation, mode, id=f"{mode.value}-{operation.label}")
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for operation in OPERATIONS
    if mode is schemathesis.GenerationMode.POSITIVE or _negatable(operation)
]
"""Each operation with valid requests, and with invalid ones where it takes anything to spoil."""


@pytest.mark.parametrize(("operation", "mode"), RUNS)
def test_no_5xx_no_leak_and_a_refused_request_changes_nothing(
    fuzzed: Fuzzed, operation: Any, mode: schemathesis.GenerationMode
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        token=st.sampled_from(fuzzed.tokens),
        seeded=st.booleans(),
    )
    def one_request(case: Any, token: str, seeded: bool) -> None:
        if seeded:
            for name in case.path_parameters or {}:
                if name in fuzzed.ids:
                    case.path_parameters[name] = fuzzed.ids[name]
        if case.query and "wait" in case.query:
            case.query["wait"] = 0  # the change feed's long poll answers at once, not after a wait
        before = fuzzed.rows()
        response = case.call(app=fuzzed.api, headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)
        assert _leaks(response) == [], response.text
        if 400 <= response.status_code < 500:
            after = fuzzed.rows()
            changed = [name for name in before if before[name] != after.get(name)]
            assert changed == [], f"{response.status_code} {response.text} changed {changed}"

    one_request()
