"""The command line: templates list/show, plugins, and goal create --template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from goalpath.cli.main import cli


def run(*args: str, **env: str) -> Result:
    environment = {"GOALPATH_DISABLED_PLUGINS": "", "GOALPATH_ACTOR": "therapist-1", **env}
    return CliRunner().invoke(cli, list(args), env=environment, catch_exceptions=False)


def run_json(*args: str, **env: str) -> Any:
    result = run(*args, "--json", **env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_templates_list_shows_every_modality() -> None:
    listed = run_json("templates", "list")["templates"]
    modalities = {template["modality"] for template in listed}
    assert {"cbt", "mindfulness", "psychodynamic", "act"} <= modalities
    panic = next(template for template in listed if template["id"] == "cbt.panic-frequency")
    assert panic == {
        "id": "cbt.panic-frequency",
        "version": "1.0.0",
        "modality": "cbt",
        "title": "Fewer panic attacks",
        "area": "symptom-relief",
        "focus": "symptom-reduction",
    }


def test_templates_list_by_modality() -> None:
    listed = run_json("templates", "list", "--modality", "mindfulness")["templates"]
    assert len(listed) >= 4
    assert {template["modality"] for template in listed} == {"mindfulness"}
    table = run("templates", "list", "--modality", "psychodynamic")
    assert table.exit_code == 0
    assert "psychodynamic.relationship-pattern" in table.stdout


def test_templates_list_of_an_unknown_modality_is_refused() -> None:
    result = run("templates", "list", "--modality", "gestalt")
    assert result.exit_code == 1
    assert "no templates for modality 'gestalt'; modalities: act, cbt" in result.stderr


def test_templates_show_gives_parameters_defaults_and_an_example() -> None:
    shown = run_json("templates", "show", "mindfulness.body-scan")["template"]
    assert shown["plugin"] == "mindfulness"
    assert shown["measure"]["unit"] == "days per week"
    names = [parameter["name"] for parameter in shown["parameters"]]
    assert names == ["baseline", "target", "when", "weeks"]
    weeks = shown["parameters"][-1]
    assert weeks["default"] == shown["duration_weeks"] == 6
    assert weeks["accepts"] == "a whole number from 1 to 52"
    assert "{" not in shown["example_statement"]
    assert "--template mindfulness.body-scan --param baseline=0" in shown["example_command"]
    assert shown["interventions"][0]["plugin"] == "mindfulness"
    table = run("templates", "show", "cbt.panic-frequency")
    assert table.exit_code == 0
    assert "coping_skill" in table.stdout
    assert "Interoceptive exposure" in table.stdout


def test_templates_show_of_an_unknown_id_lists_the_known_ones() -> None:
    result = run("templates", "show", "cbt.panic")
    assert result.exit_code == 1
    assert "no template with id 'cbt.panic'; known templates:" in result.stderr
    assert "cbt.panic-frequency" in result.stderr


def test_plugins_lists_each_plugin_with_distribution_version_hooks_and_state() -> None:
    listed = {plugin["name"]: plugin for plugin in run_json("plugins")["plugins"]}
    assert listed["cbt"]["distribution"] == "goalpath"
    assert listed["cbt"]["loaded"] is True
    assert listed["measures"]["hooks"] == ["goalpath_register_measures"]
    assert listed["act"]["distribution"] == "goalpath-example-plugin"
    assert listed["act"]["version"] == "0.1.0"
    table = run("plugins")
    assert table.exit_code == 0
    assert "goalpath-example-plugin" in table.stdout


def test_a_plugin_disabled_by_the_environment_shows_as_disabled() -> None:
    listed = run_json("plugins", GOALPATH_DISABLED_PLUGINS="cbt,act")["plugins"]
    states = {plugin["name"]: plugin["state"] for plugin in listed}
    assert states["cbt"] == states["act"] == "disabled"
    assert states["mindfulness"] == "loaded"
    templates = run_json("templates", "list", GOALPATH_DISABLED_PLUGINS="cbt")["templates"]
    assert not [template for template in templates if template["modality"] == "cbt"]


def test_goal_create_from_a_template_records_where_it_came_from(tmp_path: Path) -> None:
    db = str(tmp_path / "templates.db")
    episode = run_json(
        "--db", db, "episode", "open", "--client", "client-1", "--therapist", "therapist-1"
    )
    created = run_json(
        "--db",
        db,
        "goal",
        "create",
        str(episode["id"]),
        "--template",
        "psychodynamic.emotional-expression",
        "--param",
        "baseline=1",
        "--param",
        "target=3",
        "--param",
        "person=my partner",
        "--activate",
    )
    text = json.dumps(created)
    assert "psychodynamic.emotional-expression" in text
    assert "my partner at least 3 times per week" in text
    refused = run(
        "--db",
        db,
        "goal",
        "create",
        str(episode["id"]),
        "--template",
        "psychodynamic.emotional-expression",
        "--param",
        "target=lots",
    )
    assert refused.exit_code == 1
    assert "parameter target must be a whole number from 1 to 50; got 'lots'" in refused.stderr
