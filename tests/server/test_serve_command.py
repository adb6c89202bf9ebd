"""``goalpath serve``: the settings it builds, and the refusals before anything starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

from goalpath.cli.main import cli
from goalpath.cli.serve_command import FACTORY
from goalpath.server.settings import SETTINGS_VARIABLE, ClaimNames, ServerSettings
from tests.server.support import AUDIENCE, ISSUER, Issuer


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced: each call's arguments and the settings variable, no server."""
    calls: list[dict[str, Any]] = []

    def run(app: str, **options: Any) -> None:
        calls.append({"app": app, **options, "settings": os.environ[SETTINGS_VARIABLE]})

    monkeypatch.setattr("uvicorn.run", run)
    monkeypatch.delenv(SETTINGS_VARIABLE, raising=False)
    monkeypatch.delenv("GOALPATH_TENANT", raising=False)
    return calls


def test_the_settings_reach_every_worker_through_the_environment(
    started: list[dict[str, Any]], issuer: Issuer, tmp_path: Path
) -> None:
    jwks = str(issuer.write_jwks(tmp_path / "jwks.json"))
    db = str(tmp_path / "served.db")
    arguments = ["--db", db, "--tenant", "north", "serve", "--keys", jwks, "--issuer", ISSUER]
    arguments += ["--audience", AUDIENCE, "--port", "8123", "--workers", "3"]
    arguments += ["--role-claim", "goalpath_role", "--client-claim", "client", "--leeway", "5"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    (call,) = started
    assert call["app"] == FACTORY == "goalpath.server.app:app_from_environment"
    assert call["factory"] is True
    assert (call["host"], call["port"], call["workers"]) == ("127.0.0.1", 8123, 3)
    assert ServerSettings.from_json(call["settings"]) == ServerSettings(
        db=db,
        tenant="north",
        keys=jwks,
        issuer=ISSUER,
        audience=AUDIENCE,
        claims=ClaimNames(role="goalpath_role", client="client"),
        leeway_seconds=5,
    )


def test_every_claim_name_has_its_option(started: list[dict[str, Any]], tmp_path: Path) -> None:
    """Each field of ClaimNames is set by its own --NAME-claim option; the others keep theirs."""
    names = [field.name for field in attrs.fields(ClaimNames)]
    for name in names:
        arguments = ["--db", str(tmp_path / "dev.db"), "serve", "--insecure-dev"]
        result = CliRunner().invoke(cli, [*arguments, f"--{name}-claim", f"my_{name}"])
        assert result.exit_code == 0, result.output
        claims = ServerSettings.from_json(started[-1]["settings"]).claims
        assert claims == attrs.evolve(ClaimNames(), **{name: f"my_{name}"})
    assert len(started) == len(names) == 5


def test_insecure_dev_starts_without_keys(started: list[dict[str, Any]], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "dev.db"), "serve", "--insecure-dev"])
    assert result.exit_code == 0, result.output
    assert ServerSettings.from_json(started[0]["settings"]).insecure_dev


@pytest.mark.parametrize(
    "case",
    [
        ([], "--keys", "needs the public key set"),
        (["--keys", "{jwks}", "--audience", AUDIENCE], "--issuer", "give --issuer"),
        (["--keys", "{jwks}", "--issuer", ISSUER], "--audience", "give --audience"),
        (["--keys", "{jwks}", "--insecure-dev"], "--insecure-dev", "not both"),
    ],
    ids=["no keys", "no issuer", "no audience", "keys and insecure-dev"],
)
def test_settings_it_must_not_start_with_are_a_usage_error(
    started: list[dict[str, Any]],
    issuer: Issuer,
    tmp_path: Path,
    case: tuple[list[str], str, str],
) -> None:
    options, option, words = case
    jwks = str(issuer.write_jwks(tmp_path / "jwks.json"))
    given = [value.format(jwks=jwks) for value in options]
    db = str(tmp_path / "served.db")
    result = CliRunner().invoke(cli, ["--db", db, "serve", *given, "--json"])
    assert result.exit_code == 2
    assert started == []
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["field"]) == ("invalid-usage", option)
    assert words in error["message"]
    (line,) = result.stderr.splitlines()
    assert line.startswith("goalpath: usage: ")
    assert words in line
    assert not Path(db).exists()  # refused before the store is opened


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read the key set file"),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "public RSA, EC or OKP keys only"),
        ("not a key", "is not a JWKS document"),
    ],
    ids=["missing file", "symmetric key", "not a key"],
)
def test_a_key_set_file_without_a_public_key_is_refused(
    started: list[dict[str, Any]], tmp_path: Path, content: str | None, words: str
) -> None:
    keys = tmp_path / "keys.json"
    if content is not None:
        keys.write_text(content, encoding="utf-8")
    arguments = ["serve", "--keys", str(keys), "--issuer", ISSUER, "--audience", AUDIENCE]
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "served.db"), *arguments])
    assert result.exit_code == 1
    assert started == []
    (line,) = result.stderr.splitlines()
    assert line.startswith("goalpath: refused: ")
    assert words in line


def test_without_keys_the_installed_command_says_one_line_and_exits_2(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key != SETTINGS_VARIABLE}
    goalpath = str(Path(sys.executable).with_name("goalpath"))
    command = [goalpath, "--db", str(tmp_path / "s.db"), "serve"]
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "needs the public key set" in line
    assert "--insecure-dev" in line
    assert "Traceback" not in result.stderr


def test_a_placement_serves_each_tenant_from_its_own_store(
    started: list[dict[str, Any]], issuer: Issuer, tmp_path: Path
) -> None:
    jwks = str(issuer.write_jwks(tmp_path / "jwks.json"))
    placement = tmp_path / "placement.toml"
    north, south = tmp_path / "a.db", tmp_path / "b.db"
    placement.write_text(
        f'[tenants.north]\ndb = "{north}"\n[tenants.south]\ndb = "{south}"\n', encoding="utf-8"
    )
    arguments = ["serve", "--placement", str(placement), "--keys", jwks, "--issuer", ISSUER]
    arguments += ["--audience", AUDIENCE, "--tenant-claim", "org", "--json"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    settings = ServerSettings.from_json(started[0]["settings"])
    assert (settings.placement, settings.db, settings.tenant) == (str(placement), None, None)
    assert settings.claims.tenant == "org"
    document = json.loads(result.stdout)
    assert document["placement"] == str(placement)
    assert "a.north.db" in document["store"]
    assert "b.south.db" in document["store"]
    assert (tmp_path / "a.north.db").exists()  # each placed store opened once, before workers
    assert (tmp_path / "b.south.db").exists()


def test_a_placement_beside_a_tenant_or_a_placement_it_cannot_take_is_refused(
    started: list[dict[str, Any]], issuer: Issuer, tmp_path: Path
) -> None:
    jwks = str(issuer.write_jwks(tmp_path / "jwks.json"))
    placement = tmp_path / "placement.toml"
    placement.write_text('[tenants.north]\ndb = "a.db"\nport = \n', encoding="utf-8")
    tokens = ["--keys", jwks, "--issuer", ISSUER, "--audience", AUDIENCE]
    both = CliRunner().invoke(
        cli, ["--tenant", "north", "serve", "--placement", str(placement), *tokens]
    )
    assert both.exit_code == 2
    assert "--placement or --db/--tenant" in both.stderr
    broken = CliRunner().invoke(cli, ["serve", "--placement", str(placement), *tokens])
    assert broken.exit_code == 1
    assert "line 3" in broken.stderr
    assert started == []
