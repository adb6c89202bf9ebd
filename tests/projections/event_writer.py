"""A writer process for the kill tests: records clinical events on a store until told to stop.

``python event_writer.py LOCATION TENANT STOP_FILE`` (``TENANT`` may be
``-``): each round opens an episode for a new client, states two goals,
measures, reviews and refines them; every fifth round erases the client of
three rounds before. It stops, between rounds, once ``STOP_FILE`` exists,
and prints how many rounds it wrote. The master key comes from
``GOALPATH_KEY`` (PostgreSQL) or the key file beside a SQLite store.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

# Run as a script: make the repository root importable for ``tests.strategies``.
sys.path.append(str(Path(__file__).resolve().parents[2]))

from goalpath.core.application import GoalpathApp
from goalpath.core.values import Actor
from tests.strategies import CATALOG, GOAL_START, OPENED_ON, TODAY

SUPERVISOR = Actor("supervisor-1", "supervisor")


def write_round(app: GoalpathApp, number: int) -> None:
    """Record one client's episode with two goals, measurements, a review and a refinement."""
    therapist = Actor(f"therapist-{number % 3}", "therapist")  # the episode's own therapist
    episode_id = app.open_episode(
        client_id=f"client-{number}",
        therapist_ids=[f"therapist-{number % 3}"],
        concerns=["panic attacks"],
        opened_on=OPENED_ON,
        actor=therapist,
    )
    panic = app.create_goal(episode_id, CATALOG["panic"].definition, actor=therapist, activate=True)
    vague = app.create_goal(episode_id, CATALOG["vague"].definition, actor=therapist)
    for week, value in enumerate((3, 2, 2, 1)):
        app.record_measurement(
            panic, value, actor=therapist, observed_on=GOAL_START + timedelta(weeks=week)
        )
    app.review_goal(
        panic,
        reviewed_on=GOAL_START + timedelta(weeks=4),
        achievement="improving",
        decision="continue",
        actor=therapist,
        attainment=number % 3 - 1,
    )
    app.refine_goal(
        vague,
        reason="made specific at the next session",
        statement="Go for a walk",
        actor=therapist,
    )
    app.record_session(episode_id, held_on=OPENED_ON + timedelta(weeks=1), actor=therapist)
    if number % 5 == 4:
        app.erase_client(f"client-{number - 3}", reason="retention period", actor=SUPERVISOR)


def main(argv: list[str]) -> int:
    """Write rounds until the stop file exists; print the number of rounds."""
    location, tenant, stop_file = argv[1], argv[2], Path(argv[3])
    rounds = 0
    with GoalpathApp(
        location, tenant=None if tenant == "-" else tenant, today=lambda: TODAY
    ) as app:
        while not stop_file.exists():
            write_round(app, rounds)
            rounds += 1
    sys.stdout.write(f"{rounds}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
