"""``goalpath serve`` as a subprocess for tests, and every response checked against the OpenAPI.

:func:`serving` starts the installed ``goalpath serve`` on a free port of
127.0.0.1 with the test issuer's public key set, waits until it answers,
and stops it at the end, with :func:`benchmarks.server_process.server_process`
(the serve benchmark starts its servers with it too). :class:`OpenApiCheck`
checks one response against the committed ``docs/openapi.json``: the
status is one the operation documents, the media type is one documented for
that status, and the body validates against that schema (JSON Schema
2020-12, as OpenAPI 3.1 says, with the document's components).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from benchmarks.server_process import ServerProcess, free_port, server_process
from tests.server.support import AUDIENCE, ISSUER, Issuer

OPENAPI_FILE: Final = Path(__file__).parents[2] / "docs" / "openapi.json"
_DOCUMENT_URI: Final = "urn:goalpath:openapi"


Served = ServerProcess
"""A running ``goalpath serve``: its URL, its process, its log (stopped cleanly or not)."""


def goalpath_command() -> str:
    """The installed ``goalpath`` console script of this interpreter's environment."""
    return str(Path(sys.executable).with_name("goalpath"))


@contextmanager
def serving(
    issuer: Issuer,
    folder: Path,
    *,
    db: str | None = None,
    options: tuple[str, ...] = (),
    environment: Mapping[str, str] | None = None,
) -> Iterator[Served]:
    """``goalpath [--db DB] serve`` on a free port, verifying the test issuer's tokens.

    Without ``db`` the options name the store (``--placement FILE``).
    """
    jwks = issuer.write_jwks(folder / "jwks.json")
    port = free_port()
    command = [goalpath_command(), *(("--db", db) if db is not None else ()), "serve"]
    command += ["--keys", str(jwks), "--issuer", ISSUER, "--audience", AUDIENCE]
    command += ["--host", "127.0.0.1", "--port", str(port), *options]
    with server_process(
        command, port, folder=folder, name="serve", environment=environment
    ) as served:
        yield served


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class OpenApiCheck:
    """Checks responses against the committed OpenAPI document."""

    def __init__(self, document: dict[str, Any] | None = None) -> None:
        self.document = document or json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
        resource = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(_DOCUMENT_URI, resource)
        self.checked: list[tuple[str, str, int]] = []

    def check(self, method: str, template: str, response: httpx.Response) -> None:
        """Fail unless ``response`` to ``method template`` is one the document describes."""
        operation = self.document["paths"][template][method.lower()]
        status = str(response.status_code)
        what = f"{method} {template} answered {status}: {response.text[:500]}"
        assert status in operation["responses"], f"undocumented status: {what}"
        content = operation["responses"][status].get("content", {})
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        assert media_type in content, f"undocumented media type {media_type!r}: {what}"
        pointer = _pointer(
            "paths", template, method.lower(), "responses", status, "content", media_type, "schema"
        )
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"{_DOCUMENT_URI}#/{pointer}"},
            registry=self.registry,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        errors = [
            f"{error.json_path}: {error.message}"
            for error in validator.iter_errors(response.json())
        ]
        assert errors == [], f"{what}\n" + "\n".join(errors)
        self.checked.append((method.upper(), template, response.status_code))
