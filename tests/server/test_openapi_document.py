"""The committed OpenAPI document is the one the server generates and serves."""

from __future__ import annotations

import json
from pathlib import Path

from goalpath.server.app import ROUTE_MODULES
from goalpath.server.openapi_document import main, openapi_document, openapi_text
from tests.server.support import Issuer, in_process_server

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_committed_document_equals_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "docs/openapi.json is out of date: run "
        "python -m goalpath.server.openapi_document docs/openapi.json"
    )


def test_the_generator_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert main([str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == openapi_document()
    assert main(["one", "two"]) == 2


def test_the_server_serves_the_same_document(issuer: Issuer, tmp_path: Path) -> None:
    with in_process_server(issuer, tmp_path) as (client, _api, _app):
        served = client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == openapi_document()


def test_every_route_module_is_in_the_document_with_problems_and_bearer_security() -> None:
    """Problems everywhere, OperationOutcomes under /fhir; a token on all but FHIR's metadata."""
    document = openapi_document()
    assert {
        "goalpath.server.episode_routes",
        "goalpath.server.goal_routes",
        "goalpath.server.read_routes",
        "goalpath.server.change_feed",
    } <= set(ROUTE_MODULES)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    public = {"/fhir/metadata", "/fhir/$versions"}
    for path, operations in document["paths"].items():
        fhir = path.startswith("/fhir/")
        for method, operation in operations.items():
            responses = operation["responses"]
            security: list[dict[str, list[str]]] = [] if path in public else [{"bearer": []}]
            assert operation["security"] == security, (method, path)
            errors = ["application/fhir+json"] if fhir else ["application/problem+json"]
            for status in ("400", "401", "403") if security else ("400",):
                assert list(responses[status]["content"]) == errors, (method, path, status)
            assert any(status.startswith("2") for status in responses), (method, path)
