"""The placement file: TOML or JSON, each mistake refused with the line or key at fault;
and a server of two placed SQLite tenants, each opened once, on its first request."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest
from starlette.testclient import TestClient

from goalpath.core.errors import InvalidValueError
from goalpath.server import ServerSettings, create_app
from goalpath.server.placement import PlacementError, TenantPlace, load_placement
from goalpath.server.tenants import Tenant
from tests.server.support import Issuer, open_episode, settings_for


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_toml_placement_maps_each_tenant_to_its_database(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "placement.toml",
        '# where each tenant lives\n[tenants.north]\ndb = "postgresql://goalpath@db-a/clinics"\n'
        'key_file = "/run/secrets/north.key"\n\n[tenants.south]\ndb = "south.db"\n',
    )
    placement = load_placement(path)
    assert placement.place_of("north") == TenantPlace(
        "postgresql://goalpath@db-a/clinics", "/run/secrets/north.key"
    )
    assert placement.place_of("south") == TenantPlace("south.db")
    assert placement.place_of("east") is None


def test_a_json_placement_is_the_same(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "placement.json", json.dumps({"tenants": {"north": {"db": "north.db"}}})
    )
    assert load_placement(path).place_of("north") == TenantPlace("north.db")


@pytest.mark.parametrize(
    ("name", "text", "key", "line"),
    [
        ("p.toml", '[tenants.north]\ndb = "a.db"\ndb2 = \n', "placement", 3),
        ("p.json", '{"tenants":\n {"north": {"db": "a.db"},}}', "placement", 2),
        ("p.toml", '[tenants.North]\ndb = "a.db"\n', "tenants.North", None),
        ("p.toml", "[tenants.north]\nkey_file = 'k'\n", "tenants.north.db", None),
        ("p.toml", '[tenants.north]\ndb = ""\n', "tenants.north.db", None),
        ("p.toml", '[tenants.north]\ndb = "a.db"\nschema = "x"\n', "tenants.north.schema", None),
        ("p.toml", '[tenant.north]\ndb = "a.db"\n', "tenants", None),
        ("p.toml", 'title = "x"\n[tenants.north]\ndb = "a.db"\n', "title", None),
        ("p.json", '{"tenants": {"north": "a.db"}}', "tenants.north", None),
        ("p.json", "[1, 2]", "placement", None),
    ],
)
def test_a_placement_goalpath_cannot_take_is_refused_naming_the_line_or_key(
    tmp_path: Path, name: str, text: str, key: str, line: int | None
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(PlacementError) as refused:
        load_placement(path)
    assert refused.value.field == key
    assert refused.value.line == line
    assert path in str(refused.value)
    if line is not None:
        assert f"line {line}" in str(refused.value)
    assert isinstance(refused.value, InvalidValueError)


def test_a_missing_placement_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlacementError, match="cannot be read"):
        load_placement(str(tmp_path / "absent.toml"))


def test_a_placement_and_a_store_are_not_given_together(tmp_path: Path) -> None:
    settings = ServerSettings(placement="p.toml", db=str(tmp_path / "a.db"), insecure_dev=True)
    with pytest.raises(InvalidValueError, match="--placement or --db/--tenant") as refused:
        settings.check()
    assert refused.value.field == "placement"
    assert ServerSettings.from_json(settings.to_json()) == settings


def test_a_server_of_two_placed_tenants_keeps_each_tenants_records_apart(
    issuer: Issuer, tmp_path: Path
) -> None:
    placement = _write(
        tmp_path,
        "placement.toml",
        f'[tenants.north]\ndb = "{tmp_path / "north.db"}"\n'
        f'[tenants.south]\ndb = "{tmp_path / "south.db"}"\n',
    )
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    settings = attrs.evolve(settings_for(jwks, "unused"), db=None, placement=placement)
    api = create_app(settings)
    north = issuer.bearer("therapist-1", "therapist", tenant="north")
    south = issuer.bearer("therapist-1", "therapist", tenant="south")
    with TestClient(api, raise_server_exceptions=False) as client:
        north_episode = open_episode(client, north)
        south_episode = open_episode(client, south)
        assert client.get(f"/episodes/{north_episode}", headers=north).status_code == 200
        assert client.get(f"/episodes/{north_episode}", headers=south).status_code == 404
        assert client.get(f"/episodes/{south_episode}", headers=north).status_code == 404
        plans = client.get("/clients/client-1/plans", headers=north).json()
        assert [plan["episode_id"] for plan in plans["plans"]] == [north_episode]

        for headers, tenant in (
            (issuer.bearer("therapist-1", "therapist", tenant="east"), "east"),
            (issuer.bearer("therapist-1", "therapist"), None),
        ):
            refused = client.get(f"/episodes/{north_episode}", headers=headers)
            assert refused.status_code == 403, refused.text
            assert refused.json()["code"] == "not-authorized"
            assert refused.json()["field"] == "tenant"
            assert (tmp_path / f"served.{tenant}.db").exists() is False

        server = api.state.goalpath
        principal = server.verifier.verify(north["Authorization"]).principal
        first: Tenant = server.tenants.of(principal, "north")
        assert server.tenants.of(principal, "north") is first  # opened once, then shared
    assert sorted(path.name for path in tmp_path.glob("*.db")) == [
        "north.north.db",
        "south.south.db",
    ]


def test_a_single_tenant_server_refuses_a_token_for_another_tenant(
    issuer: Issuer, tmp_path: Path
) -> None:
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    api = create_app(attrs.evolve(settings_for(jwks, str(tmp_path / "one.db")), tenant="north"))
    with TestClient(api, raise_server_exceptions=False) as client:
        untold = issuer.bearer("t-1", "therapist")
        assert client.get("/reviews/due", headers=untold).status_code == 200
        own = issuer.bearer("t-1", "therapist", tenant="north")
        assert client.get("/reviews/due", headers=own).status_code == 200
        south = issuer.bearer("t-1", "therapist", tenant="south")
        other = client.get("/reviews/due", headers=south)
        assert other.status_code == 403
        assert other.json()["field"] == "tenant"


def test_the_placements_of_docs_serving_md_are_taken(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "docs" / "serving.md").read_text(encoding="utf-8")
    section = text.split("## Tenants", 1)[1].split("\n## ", 1)[0]
    for language, suffix in (("toml", ".toml"), ("json", ".json")):
        block = section.split(f"```{language}\n", 1)[1].split("```", 1)[0]
        placement = load_placement(_write(tmp_path, f"doc{suffix}", block))
        north = placement.place_of("north")
        assert north == TenantPlace(
            "postgresql://goalpath@db-a.example.org:5432/clinics",
            "/run/secrets/goalpath-north.key",
        )
