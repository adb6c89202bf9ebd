"""``goalpath serve`` as a subprocess for tests, and every response checked against the OpenAPI.

:func:`serving` starts the installed ``goalpath serve`` on a free port of
127.0.0.1 with the test issuer's public key set, waits until it answers,
and stops it at the end (terminate, then wait). :class:`OpenApiCheck`
checks one response against the committed ``docs/openapi.json``: the
status is one the operation documents, the media type is one documented for
that status, and the body validates against that schema (JSON Schema
2020-12, as OpenAPI 3.1 says, with the document's components).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import attrs
import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.server.support import AUDIENCE, ISSUER, Issuer

OPENAPI_FILE: Final = Path(__file__).parents[2] / "docs" / "openapi.json"
_DOCUMENT_URI: Final = "urn:goalpath:openapi"
_STARTUP_SECONDS: Final = 120.0


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def goalpath_command() -> str:
    """The installed ``goalpath`` console script of this interpreter's environment."""
    return str(Path(sys.executable).with_name("goalpath"))


@attrs.frozen
class Served:
    """A running server: its base URL, its process and the files it writes its log to."""

    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def log(self) -> str:
        """What the server wrote on stderr so far."""
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def stopped_cleanly(self) -> bool:
        """Whether it stopped on SIGTERM as uvicorn does: each worker's shutdown run, no traceback.

        One process re-raises SIGTERM once it has shut down (exit -15); a
        supervisor of workers exits 0.
        """
        log = self.log()
        return (
            self.process.returncode in (0, -signal.SIGTERM)
            and "Application shutdown complete" in log
            and "Traceback" not in log
        )


@contextmanager
def serving(
    issuer: Issuer,
    folder: Path,
    *,
    db: str,
    options: tuple[str, ...] = (),
    environment: Mapping[str, str] | None = None,
) -> Iterator[Served]:
    """``goalpath --db DB serve`` on a free port, verifying the test issuer's tokens."""
    jwks = issuer.write_jwks(folder / "jwks.json")
    port = free_port()
    command = [goalpath_command(), "--db", db, "serve", "--keys", str(jwks)]
    command += ["--issuer", ISSUER, "--audience", AUDIENCE, "--port", str(port), *options]
    stdout, stderr = folder / "serve.out", folder / "serve.err"
    env = {**os.environ, **(environment or {})}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
    served = Served(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        _wait_until_it_answers(served)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def _wait_until_it_answers(served: Served) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(
                f"goalpath serve stopped ({served.process.returncode}):\n{served.log()}"
            )
        try:
            httpx.get(f"{served.url}/openapi.json", timeout=2).raise_for_status()
        except httpx.HTTPError:
            time.sleep(0.2)
            continue
        return
    raise AssertionError(f"goalpath serve did not answer in {_STARTUP_SECONDS} s:\n{served.log()}")


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
