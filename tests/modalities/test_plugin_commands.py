"""The plugin author's command line: plugins --strict, instruments, plugin new, error locations."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from goalpath.cli import template_commands
from goalpath.cli.main import cli
from goalpath.core.values import GoalDefinition
from goalpath.modalities import (
    Intervention,
    Plugins,
    Template,
    hookimpl,
    load_plugins,
    measures,
)
from goalpath.modalities.scaffold import ScaffoldError, write_plugin_project
from goalpath.modalities.testing import check_plugin


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _with_a_broken_plugin() -> Plugins:
    return load_plugins(
        entry_points=[], plugins={"measures": measures, "broken": SimpleNamespace()}, environ={}
    )


def test_plugins_strict_exits_1_when_a_plugin_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run("plugins", "--strict")[0] == 0  # the installed set loads cleanly
    monkeypatch.setattr(template_commands, "load_plugins", _with_a_broken_plugin)
    code, out, err = _run("plugins", "--strict", "--json")
    assert code == 1
    assert "1 plugin(s) failed" in err
    states = {status["name"]: status["state"] for status in json.loads(out)["plugins"]}
    assert states["broken"] == "failed"
    assert _run("plugins")[0] == 0  # without --strict the listing is the answer


def test_an_unknown_name_in_the_disabled_list_is_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOALPATH_DISABLED_PLUGINS", "cbt,cbtt")
    code, out, err = _run("plugins", "--json")
    assert code == 0
    assert "'cbtt', which no plugin has" in err
    assert json.loads(out)["unknown_disabled"] == ["cbtt"]


def test_instruments_lists_every_instrument_with_its_thresholds() -> None:
    code, out, _ = _run("instruments", "--json")
    assert code == 0
    by_id = {item["id"]: item for item in json.loads(out)["instruments"]}
    assert (by_id["phq-9"]["caseness"], by_id["phq-9"]["reliable_change"]) == (10, 6)
    assert by_id["gad-7"]["loinc"] == "70274-6"
    assert "phq-9" in _run("instruments")[1]


def test_a_hook_error_names_the_plugins_file_and_line() -> None:
    @hookimpl
    def goalpath_suggest_interventions(
        definition: GoalDefinition, template: Template | None
    ) -> list[Intervention]:
        del definition, template
        raise RuntimeError("boom")

    plugin = SimpleNamespace(goalpath_suggest_interventions=goalpath_suggest_interventions)
    plugins = load_plugins(
        entry_points=[], plugins={"measures": measures, "noisy": plugin}, environ={}
    )
    template = plugins.templates()[0] if plugins.templates() else None
    definition = GoalDefinition(statement="walk each day", start_on=date(2026, 1, 5))
    plugins.suggest_interventions(definition, template)
    (problem,) = plugins.problems
    assert f"(at {__file__}:" in str(problem)
    assert "RuntimeError: boom" in str(problem)


def test_plugin_new_makes_a_project_that_conforms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run("plugin", "new", "dbt-skills", "--directory", str(tmp_path), "--json")
    assert code == 0
    project = Path(json.loads(out)["project"])
    assert project == tmp_path / "goalpath-dbt-skills-plugin"
    pyproject = (project / "pyproject.toml").read_text()
    assert 'dbt-skills = "goalpath_dbt_skills_plugin"' in pyproject
    monkeypatch.syspath_prepend(str(project))
    module = importlib.import_module("goalpath_dbt_skills_plugin")
    try:
        report = check_plugin(module, "dbt-skills")
        assert report.passed, report.problems
        assert report.templates == ("dbt-skills.weekly-practice",)
        assert "PluginContract" in (project / "tests" / "test_conformance.py").read_text()
    finally:
        sys.modules.pop("goalpath_dbt_skills_plugin", None)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("cbt", "built-in plugin"),
        ("DBT Skills", "is not a plugin name"),
        ("9dbt", "is not a plugin name"),
    ],
)
def test_plugin_new_refuses_a_bad_or_reserved_name(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        write_plugin_project(name, tmp_path)
    assert list(tmp_path.iterdir()) == []
    code, _, err = _run("plugin", "new", name, "--directory", str(tmp_path))
    assert code == 1
    assert message in err


def test_plugin_new_does_not_overwrite_a_project(tmp_path: Path) -> None:
    project = write_plugin_project("dbt-skills", tmp_path)
    (project / "README.md").write_text("mine")
    code, _, err = _run("plugin", "new", "dbt-skills", "--directory", str(tmp_path))
    assert code == 1
    assert "already exists" in err
    assert (project / "README.md").read_text() == "mine"
