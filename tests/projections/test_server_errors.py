"""A PostgreSQL store that cannot be used: clear refusals (exit 1), and never the password."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from goalpath.cli.main import cli
from tests.postgres_support import require_postgres
from tests.projections.stores import ProjectionStore

PASSWORD = "s3cret-Pw-4711"  # noqa: S105  # a made-up password that must never be printed

BROKEN_URLS = {
    "unreachable": (
        f"postgresql://root:{PASSWORD}@127.0.0.1:1/test",
        "no PostgreSQL server answers there",
    ),
    "credentials": (
        f"postgresql://no_such_goalpath_role:{PASSWORD}@127.0.0.1:5432/test",
        "refused the credentials of user no_such_goalpath_role",
    ),
    "database": (
        f"postgresql://root:{PASSWORD}@127.0.0.1:5432/no_such_goalpath_db",
        "the database no_such_goalpath_db does not exist",
    ),
}

COMMANDS = (
    ("projections", "status"),
    ("projections", "run", "--once"),
    ("plan", "show", "client-1"),
    ("audit", "log"),
)


@pytest.mark.parametrize("problem", sorted(BROKEN_URLS))
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_store_that_cannot_be_opened_is_refused_without_the_password(
    problem: str, command: tuple[str, ...]
) -> None:
    if problem != "unreachable":
        require_postgres()  # the server must answer to refuse the role or the database
    url, reason = BROKEN_URLS[problem]
    result = CliRunner().invoke(cli, ["--db", url, "--tenant", "clinic_a", *command])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("goalpath: refused: cannot open the goalpath store at ")
    assert reason in result.stderr
    assert url.replace(PASSWORD, "***") in result.stderr
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr


def test_the_url_may_come_from_the_environment_and_is_redacted_there_too() -> None:
    url, reason = BROKEN_URLS["unreachable"]
    result = CliRunner().invoke(
        cli, ["projections", "status"], env={"GOALPATH_DATABASE_URL": url, "GOALPATH_DB": None}
    )
    assert result.exit_code == 1
    assert reason in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


def test_a_working_store_s_status_shows_the_url_without_its_password(
    postgres_store: ProjectionStore,
) -> None:
    # The test server trusts local connections, so it accepts (and ignores) any password.
    with_password = postgres_store.location.replace("root@", f"root:{PASSWORD}@")
    assert with_password != postgres_store.location
    postgres_store.app().close()  # a read needs a started store (an unknown tenant is refused)
    result = CliRunner().invoke(
        cli,
        ["--db", with_password, "--tenant", str(postgres_store.tenant), "projections", "status"],
        env=postgres_store.env,
    )
    assert result.exit_code == 0, result.output
    assert "root:***@" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
