"""docs/serving.md's curl walk-through, run with bash against ``goalpath serve``.

The page's ``sh`` block is run as written, with the server's URL and three
tokens (a therapist's, a client's, an auditor's) in the environment
variables it names; what it prints must be the page's ``text`` block that
follows it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.served import serving
from tests.server.support import Issuer

PAGE = Path(__file__).parents[2] / "docs" / "serving.md"


def _walk_through() -> tuple[str, str]:
    """The walk-through's script and the output the page says it prints."""
    section = PAGE.read_text(encoding="utf-8").split("## A walk-through with curl", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    printed = re.search(r"It prints:\n\n```text\n(.*?)```", section, re.DOTALL)
    assert script is not None
    assert printed is not None
    return script.group(1), printed.group(1)


def test_the_walk_through_prints_what_the_page_says(issuer: Issuer, tmp_path: Path) -> None:
    for tool in ("bash", "curl"):
        if shutil.which(tool) is None:
            pytest.fail(f"the walk-through needs {tool}")
    script, printed = _walk_through()
    with serving(issuer, tmp_path, db=str(tmp_path / "walk.db")) as served:
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "GOALPATH_URL": served.url,
            "THERAPIST_TOKEN": issuer.token("therapist-1", "therapist"),
            "CLIENT_TOKEN": issuer.token(
                "client-1", "client", patient="client-1", scope="patient/*.cruds"
            ),
            "AUDITOR_TOKEN": issuer.token("auditor-1", "auditor", scope="user/*.rs"),
        }
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr + served.log()
    assert result.stdout == printed, result.stderr
    assert served.stopped_cleanly(), served.log()
