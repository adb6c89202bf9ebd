"""FHIR a server accepts: a transaction bundle of the demo, posted to a server test double.

Done-when of the clinical outcomes and FHIR issue: every reference in an
exported bundle resolves inside it or is a conditional reference to an
identifier; a transaction bundle of the demo validates with fhir.resources
(R5 and R4B) and, posted to a transaction endpoint that applies FHIR's
transaction rules (urn:uuid resolution, conditional references, conditional
create), leaves no dangling reference.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from click.testing import CliRunner

from goalpath.cli.demo import CLIENT_ID
from goalpath.cli.main import cli
from goalpath.exports.fhir import validate_bundle
from tests.projections.test_fhir import check_conformance

ID_SYSTEM = "https://goalpath.dev/fhir/NamingSystem/"


class TransactionRefusedError(Exception):
    """The server double refused the transaction, as a FHIR server would (4xx)."""


def _references(value: Any) -> Iterator[dict[str, Any]]:
    """Every Reference (a dict with a ``reference`` string) inside a resource."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


class FhirServer:
    """A FHIR server's transaction endpoint: just the rules a transaction bundle relies on.

    POST entries get new server ids (``ifNoneExist`` finds an existing
    resource instead); ``urn:uuid:`` references to entries of the bundle are
    rewritten to those ids; conditional references (``Type?identifier=s|v``)
    resolve to the one resource with that identifier, and the transaction is
    refused when none or several match. Nothing is stored from a refused one.
    """

    def __init__(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}

    def create(self, resource: dict[str, Any]) -> str:
        """Store a resource under a new id; return its ``Type/id``."""
        location = self._next_location(resource["resourceType"])
        self.resources[location] = {**resource, "id": location.split("/")[1]}
        return location

    def _next_location(self, resource_type: str, reserved: int = 0) -> str:
        return f"{resource_type}/{len(self.resources) + reserved + 1}"

    def search(self, resource_type: str, query: str) -> list[str]:
        """The locations of the resources of a type matching ``identifier=system|value``."""
        name, _, term = query.partition("=")
        if name != "identifier" or "|" not in term:
            raise TransactionRefusedError(f"unsupported search {query!r}")
        system, _, value = (unquote(part) for part in term.partition("|"))
        return [
            location
            for location, resource in self.resources.items()
            if resource["resourceType"] == resource_type
            and {"system": system, "value": value} in resource.get("identifier", [])
        ]

    def post_transaction(self, bundle: dict[str, Any]) -> dict[str, str]:
        """Apply a transaction bundle, all or nothing; return where each fullUrl now lives."""
        if bundle.get("type") != "transaction":
            raise TransactionRefusedError(f"a {bundle.get('type')} bundle is not a transaction")
        located: dict[str, str] = {}
        created: dict[str, dict[str, Any]] = {}
        for entry in bundle["entry"]:
            request, resource = entry["request"], json.loads(json.dumps(entry["resource"]))
            if request["method"] != "POST" or request["url"] != resource["resourceType"]:
                raise TransactionRefusedError(f"unexpected request {request}")
            existing = (
                self.search(request["url"], request["ifNoneExist"])
                if "ifNoneExist" in request
                else []
            )
            if len(existing) > 1:
                raise TransactionRefusedError(f"{request['ifNoneExist']} matches several")
            if existing:
                located[entry["fullUrl"]] = existing[0]
                continue
            location = self._next_location(resource["resourceType"], reserved=len(created))
            located[entry["fullUrl"]] = location
            created[location] = {**resource, "id": location.split("/")[1]}
        for resource in created.values():
            for reference in _references(resource):
                reference["reference"] = self._resolve(reference["reference"], located)
        self.resources.update(created)
        return located

    def _resolve(self, reference: str, located: dict[str, str]) -> str:
        if reference in located:
            return located[reference]
        if "?" in reference:
            resource_type, _, query = reference.partition("?")
            matches = self.search(resource_type, query)
            if len(matches) != 1:
                raise TransactionRefusedError(f"{reference} matches {len(matches)} resources")
            return matches[0]
        if reference.startswith("urn:uuid:"):
            raise TransactionRefusedError(f"{reference} is not an entry of the bundle")
        return reference

    def dangling(self) -> list[str]:
        """References of stored resources to nothing the server holds."""
        return [
            f"{location} -> {reference['reference']}"
            for location, resource in self.resources.items()
            for reference in _references(resource)
            if reference["reference"] not in self.resources
        ]


def _person(resource_type: str, *identifiers: tuple[str, str]) -> dict[str, Any]:
    return {
        "resourceType": resource_type,
        "identifier": [
            {"system": f"{ID_SYSTEM}{kind}-id", "value": value} for kind, value in identifiers
        ],
    }


def clinic_server() -> FhirServer:
    """A server that already holds the demo's client and therapist, by goalpath's ids."""
    server = FhirServer()
    server.create(_person("Patient", ("client", CLIENT_ID), ("actor", CLIENT_ID)))
    server.create(_person("Practitioner", ("actor", "therapist-7")))
    return server


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    return db


def export(db: Path, *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--db", str(db), "export", "fhir", CLIENT_ID, *options])
    assert result.exit_code == 0, result.output
    bundle: dict[str, Any] = json.loads(result.stdout)
    return bundle


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_the_demo_as_a_transaction_validates_and_every_reference_resolves(
    demo_db: Path, version: str
) -> None:
    bundle = export(demo_db, "--bundle-type", "transaction", "--fhir-version", version)
    assert bundle["type"] == "transaction"
    validate_bundle(bundle)
    check_conformance(bundle)
    for entry in bundle["entry"]:
        assert entry["request"]["method"] == "POST"
        assert entry["request"]["url"] == entry["resource"]["resourceType"]


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_a_collection_refers_to_nothing_outside_it(demo_db: Path, version: str) -> None:
    bundle = export(demo_db, "--fhir-version", version)
    assert bundle["type"] == "collection"
    validate_bundle(bundle)
    check_conformance(bundle)  # urn:uuid references only; people by identifier


def test_posted_to_a_server_the_transaction_leaves_no_dangling_reference(demo_db: Path) -> None:
    server = clinic_server()
    bundle = export(demo_db, "--bundle-type", "transaction")
    located = server.post_transaction(bundle)
    assert len(located) == len(bundle["entry"])
    assert server.dangling() == []
    patient = server.search("Patient", f"identifier={ID_SYSTEM}client-id|{CLIENT_ID}")
    plans = [r for r in server.resources.values() if r["resourceType"] == "CarePlan"]
    assert [plan["subject"]["reference"] for plan in plans] == patient
    goals = {r["id"] for r in server.resources.values() if r["resourceType"] == "Goal"}
    for resource in server.resources.values():
        if resource["resourceType"] == "Provenance":
            assert resource["target"][0]["reference"].removeprefix("Goal/") in goals


def test_posting_the_same_export_again_creates_no_second_goal(demo_db: Path) -> None:
    server = clinic_server()
    bundle = export(demo_db, "--bundle-type", "transaction")
    server.post_transaction(bundle)
    counts = dict.fromkeys(("Goal", "CarePlan", "Observation"), 0)
    for resource in server.resources.values():
        if resource["resourceType"] in counts:
            counts[resource["resourceType"]] += 1
    server.post_transaction(bundle)
    again = dict.fromkeys(counts, 0)
    for resource in server.resources.values():
        if resource["resourceType"] in again:
            again[resource["resourceType"]] += 1
    assert again == counts
    assert server.dangling() == []


def test_a_server_without_the_client_refuses_the_transaction(demo_db: Path) -> None:
    server = FhirServer()
    with pytest.raises(TransactionRefusedError, match="matches 0 resources"):
        server.post_transaction(export(demo_db, "--bundle-type", "transaction"))
    assert server.resources == {}


def test_a_mapping_file_gives_the_hosts_references(demo_db: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "ids.json"
    mapping.write_text(
        json.dumps(
            {"client": {CLIENT_ID: "Patient/77"}, "actor": {"therapist-7": "Practitioner/9"}}
        )
    )
    bundle = export(demo_db, "--map", str(mapping))
    plan = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"
    )
    assert plan["subject"] == {"reference": "Patient/77"}
    assert {"reference": "Practitioner/9"} in plan["contributor"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not a JSON file"),
        ('["client"]', "keys client and actor only"),
        ('{"patients": {}}', "keys client and actor only"),
        ('{"client": {"client-0042": 7}}', "each a string"),
    ],
)
def test_a_bad_mapping_file_is_refused_before_anything_is_exported(
    demo_db: Path, tmp_path: Path, content: str, message: str
) -> None:
    mapping = tmp_path / "ids.json"
    mapping.write_text(content)
    result = CliRunner().invoke(
        cli, ["--db", str(demo_db), "export", "fhir", CLIENT_ID, "--map", str(mapping)]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_an_unknown_time_zone_is_refused(demo_db: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--db", str(demo_db), "export", "fhir", CLIENT_ID, "--time-zone", "Mars/Olympus"]
    )
    assert result.exit_code == 2
    assert "not a time zone name" in result.output


def test_quantities_carry_ucum_codes(demo_db: Path) -> None:
    bundle = export(demo_db, "--time-zone", "Europe/London")
    quantities = [
        entry["resource"]["valueQuantity"]
        for entry in bundle["entry"]
        if "valueQuantity" in entry["resource"]
    ]
    assert quantities
    for quantity in quantities:
        if quantity["unit"] in ("per week", "points"):
            assert quantity["system"] == "http://unitsofmeasure.org"
            assert quantity["code"] in ("/wk", "{score}")
