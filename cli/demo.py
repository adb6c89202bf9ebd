"""``goalpath demo``: a realistic episode of care in a fresh SQLite file, narrated."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import click
from rich.console import Console
from rich.rule import Rule

from goalpath.cli.common import console as make_console
from goalpath.cli.common import emit, json_option, refusals
from goalpath.cli.read_model_render import render_plan, render_progress
from goalpath.cli.render import history_table, smart_table
from goalpath.core.application import GoalpathApp, local_today
from goalpath.core.errors import NotSmartError, StoreError
from goalpath.core.history import history_of
from goalpath.core.smart import SmartReport, draft_definition
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.modalities import instantiate_template
from goalpath.projections import Projections

__all__ = ["DEFAULT_DEMO_DB", "build_demo", "register", "remove_store"]

DEFAULT_DEMO_DB = "goalpath-demo.db"
"""The store ``goalpath demo`` writes when no ``--db`` is given, in the current directory."""

THERAPIST = Actor("therapist-7", "therapist")
CLIENT_ID = "client-0042"
VAGUE_STATEMENT = "I want to be less anxious"
PANIC_STATEMENT = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)
PARTNER_STATEMENT = (
    "Have one meaningful conversation with my partner each week using active listening"
)
WEEKLY_PANIC_ATTACKS = (3, 3, 12, 2, 1, 1)
"""Panic attacks reported each week; the third is mistyped and corrected to 2."""
WEEKLY_CONVERSATIONS = (0, 1, 1, 0, 1, 2)
WEEKLY_GAD7 = {2: 10, 5: 6}
"""GAD-7 totals at sessions 5 and 8 (13 at session 2): a reliable improvement, below caseness."""


_MARKER_SUFFIX = ".demo"
"""Beside a store the demo made: the demo replaces only a store it made."""

_STORE_SUFFIXES = ("", "-wal", "-shm", ".key")


def remove_store(path: Path) -> None:
    """Delete a SQLite store, its write-ahead logs, its key file and demo marker, if present."""
    for suffix in (*_STORE_SUFFIXES, _MARKER_SUFFIX):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _check_replaceable(path: Path) -> None:
    """Refuse a path holding a store (or its key) that the demo did not make."""
    existing = [Path(f"{path}{suffix}") for suffix in _STORE_SUFFIXES]
    if any(file.exists() for file in existing) and not Path(f"{path}{_MARKER_SUFFIX}").exists():
        raise StoreError(
            f"{path} holds a store (or its key) that goalpath demo did not make; the demo "
            "replaces only its own store: give another --db"
        )


def build_demo(app: GoalpathApp, today: date) -> dict[str, Any]:
    """Record the demo episode in ``app``; return its ids and what it showed.

    The episode opened eight weeks before ``today``, with weekly sessions.
    """
    opened_on = today - timedelta(weeks=8)
    episode_id = app.open_episode(
        client_id=CLIENT_ID,
        therapist_ids=["therapist-7"],
        concerns=["panic attacks", "anxiety", "strain with partner"],
        opened_on=opened_on,
        actor=THERAPIST,
    )
    app.record_session(episode_id, held_on=opened_on, actor=THERAPIST)

    # Session 1: the client's own words, recorded as a proposed goal.
    vague = GoalDefinition(statement=VAGUE_STATEMENT, start_on=opened_on)
    panic_goal = app.create_goal(episode_id, vague, actor=THERAPIST)
    refusal: NotSmartError | None = None
    try:
        app.activate_goal(panic_goal, actor=THERAPIST)
    except NotSmartError as error:
        refusal = error

    # Session 2: refined together into a SMART goal, then agreed.
    session_2 = opened_on + timedelta(weeks=1)
    app.record_session(episode_id, held_on=session_2, actor=THERAPIST)
    smart = draft_definition(PANIC_STATEMENT, opened_on)
    app.refine_goal(
        panic_goal,
        reason="made specific and measurable together at session 2",
        statement=smart.statement,
        measure=smart.measure,
        target=smart.target,
        practices=smart.practices,
        area="symptom-relief",
        actor=THERAPIST,
    )
    app.activate_goal(panic_goal, actor=THERAPIST)

    partner_goal = app.create_goal(
        episode_id,
        GoalDefinition(
            statement=PARTNER_STATEMENT,
            start_on=session_2,
            measure=Measure(
                name="meaningful conversations",
                unit="per week",
                direction="increase",
                minimum=0,
                maximum=7,
            ),
            target=Target(baseline=0, value=1, due_on=session_2 + timedelta(weeks=8)),
            area="relationships",
            focus="strength-building",
            practices=("active listening: reflect back before replying",),
        ),
        actor=THERAPIST,
        activate=True,
    )

    # A standardised measure from a modality template: GAD-7 at sessions 2, 5 and 8.
    worry = instantiate_template(
        "mindfulness.worry-gad7", {"baseline": "13", "target": "7", "weeks": "8"}, session_2
    )
    worry_goal = app.create_goal(
        episode_id,
        worry.definition,
        actor=THERAPIST,
        activate=True,
        template_id=worry.template_id,
        template_version=worry.template_version,
    )
    app.record_measurement(worry_goal, 13, observed_on=session_2, actor=THERAPIST)

    # Six weekly measurements, sessions 3 to 8; review at session 6.
    for week in range(6):
        held_on = session_2 + timedelta(weeks=week + 1)
        app.record_session(episode_id, held_on=held_on, actor=THERAPIST)
        app.record_measurement(
            panic_goal, WEEKLY_PANIC_ATTACKS[week], observed_on=held_on, actor=THERAPIST
        )
        app.record_measurement(
            partner_goal, WEEKLY_CONVERSATIONS[week], observed_on=held_on, actor=THERAPIST
        )
        if week in (2, 5):
            app.record_measurement(
                worry_goal, WEEKLY_GAD7[week], observed_on=held_on, actor=THERAPIST
            )
        if week == 2:
            app.correct_measurement(
                panic_goal,
                3,
                value=2,
                reason="typed 12 for 2; the client's diary says two attacks that week",
                actor=THERAPIST,
            )
        if week == 3:
            session_6 = held_on
            app.review_goal(
                panic_goal,
                achievement="improving",
                decision="continue",
                attainment=0,
                reviewed_on=session_6,
                note="attacks down from 3 to 2 a week; breathing practice most days",
                actor=THERAPIST,
            )
            app.review_goal(
                partner_goal,
                achievement="in-progress",
                decision="adjust",
                attainment=-1,
                reviewed_on=session_6,
                note="conversations happen but are cut short; practise reflecting back",
                actor=THERAPIST,
            )
    return {
        "episode_id": episode_id,
        "goal_ids": [panic_goal, partner_goal, worry_goal],
        "refusal": refusal,
    }


def _print_story(out: Console, app: GoalpathApp, built: dict[str, Any], db: Path) -> None:
    episode_id: UUID = built["episode_id"]
    panic_goal, partner_goal, worry_goal = built["goal_ids"]
    refusal: NotSmartError | None = built["refusal"]
    out.print(Rule("goalpath demo"))
    out.print(
        f"A fresh store in [bold]{db}[/bold]: one client, one therapist, eight sessions, "
        "three goals (the third from the mindfulness.worry-gad7 template).\n"
    )
    out.print(Rule("Session 1: the client's own words"))
    out.print(f'Goal stated as "{VAGUE_STATEMENT}"; activation was refused:')
    if refusal is not None and isinstance(refusal.report, SmartReport):
        out.print(smart_table(refusal.report, title="why it is not SMART yet"))
    out.print(Rule("Session 2: refined together, then agreed"))
    out.print(smart_table(app.get_goal(panic_goal).smart, title=f'"{PANIC_STATEMENT}"'))
    with Projections(app) as projections:
        out.print(Rule("The plan (read models, caught up from the events)"))
        render_plan(out, projections.plan_for_episode(episode_id))
        out.print(Rule("Progress"))
        for goal_id in (panic_goal, partner_goal, worry_goal):
            render_progress(out, projections.progress(goal_id))
    out.print(Rule("History of the first goal"))
    out.print(history_table(history_of(app.goal_events(panic_goal))))
    out.print(Rule("Try next"))
    for command in _next_commands(db, episode_id, panic_goal):
        out.print(f"  {command}", soft_wrap=True)


def _next_commands(db: Path, episode_id: UUID, goal_id: UUID) -> list[str]:
    prefix = f"goalpath --db {db}"
    return [
        f"{prefix} episode show {episode_id}",
        f"{prefix} goal show {goal_id}",
        f"{prefix} goal history {goal_id} --json",
        f"{prefix} plan show --episode {episode_id}",
        f"{prefix} progress {goal_id} --png progress.png",
        f"{prefix} reviews due --therapist therapist-7",
        f"{prefix} audit log --goal {goal_id}",
        f"{prefix} audit verify",
        f"{prefix} goal measure {goal_id} 1 --actor therapist-7",
        f'{prefix} smart "I want to sleep better"',
    ]


@click.command("demo")
@click.option(
    "--db",
    "db",
    default=DEFAULT_DEMO_DB,
    show_default=True,
    metavar="PATH",
    help="SQLite file to build the demo in (replaced on each run, if the demo made it).",
)
@json_option
@refusals
def demo(db: str, as_json: bool) -> None:
    """Build a realistic episode in a fresh SQLite file and show what goalpath records."""
    path = Path(db)
    if path.is_dir():
        raise click.BadParameter(f"{db} is a folder; give a file path", param_hint="--db")
    _check_replaceable(path)
    remove_store(path)
    today = local_today()
    with GoalpathApp(path) as app:
        built = build_demo(app, today)
        Path(f"{path}{_MARKER_SUFFIX}").write_text(
            "made by goalpath demo, which may replace this store\n", encoding="utf-8"
        )
        if as_json:
            emit(
                {
                    "db": str(path),
                    "episode_id": built["episode_id"],
                    "goal_ids": built["goal_ids"],
                    "next_commands": _next_commands(
                        path, built["episode_id"], built["goal_ids"][0]
                    ),
                }
            )
            return
        _print_story(make_console(), app, built, path)


def register(cli: click.Group) -> None:
    """Add ``goalpath demo`` to the root group."""
    cli.add_command(demo)
