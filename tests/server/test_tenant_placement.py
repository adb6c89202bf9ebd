"""Two tenants placed on two PostgreSQL clusters, served by one server process (issue 13, 5).

The test makes a second PostgreSQL cluster of its own on a free port
(``pg_createcluster``), places tenant A in a database of its own name on the
machine's server (127.0.0.1:5432) and tenant B on the second cluster, starts
one ``goalpath serve --placement`` subprocess on a free port of 127.0.0.1,
and shows each tenant sees only its own records, a token for A cannot reach
B's goals, a tenant not placed is refused, and each tenant's events sit in
its own cluster only. In CI (``CI=true``) a cluster it cannot make fails the
test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
import httpx
import psycopg
import pytest
from psycopg import sql

from benchmarks.server_process import free_port
from goalpath.core.storage.keys import MasterKey, write_key_file
from tests.postgres_support import require_postgres
from tests.server.served import serving
from tests.server.support import Issuer

VERSION: Final = "15"
MAIN_SERVER: Final = "postgresql://postgres@127.0.0.1:5432"


def _refuse(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run the two-cluster placement test")
    pytest.skip(message)


def _as_cluster_owner(*command: str) -> list[str]:
    """The command with the rights pg_createcluster needs (root makes a cluster postgres owns)."""
    return list(command) if os.geteuid() == 0 else ["sudo", "-n", *command]


@attrs.frozen
class Cluster:
    """A PostgreSQL server: the URL of its superuser (trust authentication), without a database."""

    server: str

    def database(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return f"{self.server}/{name}"

    def execute(self, statement: sql.Composed) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
        with psycopg.connect(self.database("postgres"), autocommit=True) as connection:
            connection.execute(statement)

    def schemas(self, database: str) -> set[str]:
        """The goalpath schemas of ``database``."""
        with psycopg.connect(self.database(database)) as connection:
            rows = connection.execute(
                "SELECT schema_name FROM information_schema.schemata "
                "WHERE schema_name LIKE 'goalpath%%'"
            ).fetchall()
        return {row[0] for row in rows}


@pytest.fixture(scope="module")
def second_cluster() -> Iterator[Cluster]:
    """A PostgreSQL cluster of the test's own on a free port, dropped at the end."""
    name, port = f"gp{uuid.uuid4().hex[:10]}", free_port()
    create = _as_cluster_owner(
        "pg_createcluster", VERSION, name, "-p", str(port), "--", "--auth=trust"
    )
    start = _as_cluster_owner("pg_ctlcluster", "--skip-systemctl-redirect", VERSION, name, "start")
    made = False
    try:
        for command in (create, start):
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
            made = made or (command is create and done.returncode == 0)
            if done.returncode != 0:
                _refuse(f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}")
        yield Cluster(f"postgresql://postgres@127.0.0.1:{port}")
    except OSError as error:
        _refuse(f"cannot make a second PostgreSQL cluster: {error}")
    finally:
        if made:
            subprocess.run(
                _as_cluster_owner("pg_dropcluster", "--stop", VERSION, name),
                capture_output=True,
                timeout=120,
                check=False,
            )


@attrs.frozen
class Placed:
    """The two placed tenants, where each lives, and the base URL of the one server."""

    base: str
    a: str
    b: str
    main: Cluster
    second: Cluster


@pytest.fixture(scope="module")
def placed(
    second_cluster: Cluster, issuer: Issuer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Placed]:
    """Tenant A on the machine's server, B on the second cluster; one server serves both."""
    require_postgres()
    folder = tmp_path_factory.mktemp("placement")
    main = Cluster(MAIN_SERVER)
    suffix = uuid.uuid4().hex[:8]
    a, b = f"tenant_a_{suffix}", f"tenant_b_{suffix}"
    homes = {a: main, b: second_cluster}
    for tenant, cluster in homes.items():
        cluster.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(tenant)))
        write_key_file(folder / f"{tenant}.key", MasterKey.generate())
    placement = folder / "placement.json"
    placement.write_text(
        json.dumps(
            {
                "tenants": {
                    tenant: {
                        "db": cluster.database(tenant),
                        "key_file": str(folder / f"{tenant}.key"),
                    }
                    for tenant, cluster in homes.items()
                }
            }
        ),
        encoding="utf-8",
    )
    try:
        with serving(issuer, folder, options=("--placement", str(placement))) as served:
            yield Placed(served.url, a, b, main, second_cluster)
    finally:
        for tenant, cluster in homes.items():
            cluster.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(tenant))
            )


def _headers(issuer: Issuer, tenant: str, role: str = "therapist") -> dict[str, str]:
    return issuer.bearer("therapist-1", role, tenant=tenant)


def _open_with_goal(base: str, headers: dict[str, str], concern: str) -> tuple[str, str]:
    """Open an episode of client-1 with one goal; return their ids."""
    opened_on = datetime.now(UTC).date() - timedelta(days=14)
    episode = httpx.post(
        f"{base}/episodes",
        json={
            "client_id": "client-1",
            "therapist_ids": ["therapist-1"],
            "opened_on": opened_on.isoformat(),
            "concerns": [concern],
        },
        headers=headers,
    )
    assert episode.status_code == 201, episode.text
    episode_id: str = episode.json()["id"]
    definition: dict[str, Any] = {
        "statement": f"Walk to the shop twice a week ({concern})",
        "start_on": opened_on.isoformat(),
    }
    goal = httpx.post(
        f"{base}/episodes/{episode_id}/goals", json={"definition": definition}, headers=headers
    )
    assert goal.status_code == 201, goal.text
    goal_id: str = goal.json()["id"]
    return episode_id, goal_id


def test_two_tenants_on_two_clusters_each_see_only_their_own_records(
    placed: Placed, issuer: Issuer
) -> None:
    a, b = _headers(issuer, placed.a), _headers(issuer, placed.b)
    a_episode, a_goal = _open_with_goal(placed.base, a, "low mood")
    b_episode, b_goal = _open_with_goal(placed.base, b, "panic")

    assert httpx.get(f"{placed.base}/goals/{a_goal}", headers=a).status_code == 200
    assert httpx.get(f"{placed.base}/goals/{b_goal}", headers=b).status_code == 200
    for headers, other in ((a, b_goal), (b, a_goal)):
        unseen = httpx.get(f"{placed.base}/goals/{other}", headers=headers)
        assert unseen.status_code == 404, unseen.text
        assert unseen.json()["code"] == "not-found"
        measured = httpx.post(
            f"{placed.base}/goals/{other}/measurements",
            json={"value": 1},
            headers=headers,
        )
        assert measured.status_code == 404, measured.text

    for headers, own in ((a, a_episode), (b, b_episode)):
        plans = httpx.get(f"{placed.base}/clients/client-1/plans", headers=headers)
        assert plans.status_code == 200, plans.text
        assert [plan["episode_id"] for plan in plans.json()["plans"]] == [own]

    # Each tenant's events are in its own cluster, and nowhere else.
    assert placed.main.schemas(placed.a) == {f"goalpath_{placed.a}"}
    assert placed.second.schemas(placed.b) == {f"goalpath_{placed.b}"}


def test_a_tenant_not_placed_is_refused_and_no_store_is_made(
    placed: Placed, issuer: Issuer
) -> None:
    stranger = f"tenant_c_{uuid.uuid4().hex[:8]}"
    for headers in (_headers(issuer, stranger), issuer.bearer("therapist-1", "therapist")):
        refused = httpx.get(f"{placed.base}/reviews/due", headers=headers)
        assert refused.status_code == 403, refused.text
        problem = refused.json()
        assert (problem["code"], problem["field"]) == ("not-authorized", "tenant")
    assert f"goalpath_{stranger}" not in placed.main.schemas(placed.a)
    assert f"goalpath_{stranger}" not in placed.second.schemas(placed.b)
