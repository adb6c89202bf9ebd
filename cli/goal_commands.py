"""``goalpath goal ...``: the goal lifecycle from the command line.

Over 500 lines because it holds every ``goal`` subcommand that writes
(create, refine, activate, measure, import, correct, review, retire): one
noun of the command line, with the options each command documents. The
reads (show, measurements, history) are in :mod:`goalpath.cli.goal_reads`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, BinaryIO
from uuid import UUID

import attrs
import click

from goalpath.cli import goal_reads
from goalpath.cli.common import (
    actor_options,
    console,
    emit,
    idempotency_key_option,
    json_option,
    make_actor,
    open_app,
    parse_date,
    refusals,
)
from goalpath.cli.definition_options import (
    TemplateChoice,
    definition_options,
    due_from_options,
    measure_from_options,
    target_from_options,
    template_choice,
)
from goalpath.cli.input_types import NUMBER
from goalpath.cli.measurement_csv import read_measurement_rows
from goalpath.cli.record_ids import EPISODE_ID, GOAL_ID
from goalpath.cli.render import render_goal
from goalpath.cli.smart_command import instrument_facts
from goalpath.core.application import GoalpathApp
from goalpath.core.errors import NotSmartError
from goalpath.core.inputs import DEFAULT_MAX_IMPORT_ROWS
from goalpath.core.smart import draft_definition, evaluate_smart
from goalpath.core.values import (
    ACHIEVEMENT_STATUSES,
    RETIREMENT_REASONS,
    REVIEW_DECISIONS,
    Actor,
    GoalDefinition,
)
from goalpath.exports.documents import goal_document

__all__ = ["register"]

_expected_version = click.option(
    "--expected-version", type=int, help="Refuse (conflict) if the goal changed since this version."
)


def _show(app: GoalpathApp, goal_id: UUID, as_json: bool, message: str) -> None:
    goal = app.get_goal(goal_id)
    if as_json:
        emit(goal_document(goal))
    else:
        click.echo(message)
        render_goal(console(), goal, chart=False)


@click.group()
def goal() -> None:
    """Therapy goals: create, refine, activate, measure, correct, review, retire, show."""


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"--param takes key=value; got {pair!r}")
        params[key.strip()] = value.strip()
    return params


def _definition_from_options(
    statement: str | None, start: str | None, options: dict[str, Any], app: GoalpathApp
) -> GoalDefinition:
    if statement is None:
        raise click.UsageError("give the goal's --statement (or a --template)")
    start_on = parse_date(start, "--start") or app.today()
    measure = measure_from_options(options)
    target = target_from_options(options, start_on)
    definition = draft_definition(
        statement,
        start_on,
        measure=measure,
        target=target,
        area=options.get("area"),
        instruments=instrument_facts(),
    )
    changes: dict[str, Any] = {}
    if options.get("practices"):
        changes["practices"] = tuple(options["practices"])
    for name in (
        "focus",
        "priority",
        "review_every_days",
        "gas_levels",
        "gas_importance",
        "gas_difficulty",
    ):
        if options.get(name) is not None:
            changes[name] = options[name]
    return attrs.evolve(definition, **changes) if changes else definition


@goal.command("create")
@click.argument("episode_id", type=EPISODE_ID)
@click.option("--statement", help="The goal in the client's words, ideally SMART.")
@click.option("--start", metavar="DATE", help="Start date (default today).")
@definition_options
@click.option("--template", "template_id", help="Create from a modality template (see templates).")
@click.option("--param", "params", multiple=True, help="Template parameter key=value (repeatable).")
@click.option("--activate", is_flag=True, help="Start active (the goal must be SMART).")
@click.option("--id", "goal_id", type=click.UUID, help="Use this id instead of a new one.")
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def create_goal(
    ctx: click.Context,
    /,
    *,
    episode_id: UUID,
    statement: str | None,
    start: str | None,
    template_id: str | None,
    params: tuple[str, ...],
    activate: bool,
    goal_id: UUID | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
    **options: Any,
) -> None:
    """State a new goal in an episode.

    Numbers and time in the statement are read when no option gives them:
    "reduce my panic attacks from 3 to 1 per week within 6 weeks" sets the
    measure, baseline, target and due date.
    """
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        if template_id is not None:
            start_on = parse_date(start, "--start") or app.today()
            choice = _template_choice(
                template_id, _parse_params(params), statement, options, start_on
            )
            new_id = _create_from_template(
                app,
                episode_id,
                choice,
                actor=actor,
                activate=activate,
                goal_id=goal_id,
                idempotency_key=idempotency_key,
            )
            _show(app, new_id, as_json, f"created goal {new_id}")
            return
        if params:
            raise click.UsageError("--param goes with --template")
        definition = _definition_from_options(statement, start, options, app)
        new_id = app.create_goal(
            episode_id,
            definition,
            actor=actor,
            activate=activate,
            goal_id=goal_id,
            idempotency_key=idempotency_key,
        )
        _show(app, new_id, as_json, f"created goal {new_id}")


def _template_choice(
    template_id: str,
    params: dict[str, str],
    statement: str | None,
    options: dict[str, Any],
    start_on: date,
) -> TemplateChoice:
    from goalpath.modalities import load_plugins  # noqa: PLC0415  # plugins load on demand

    template = load_plugins().template(template_id)
    return template_choice(
        template, params, options, statement, start_on, instruments=instrument_facts()
    )


def _create_from_template(
    app: GoalpathApp,
    episode_id: UUID,
    choice: TemplateChoice,
    *,
    actor: Actor,
    activate: bool,
    goal_id: UUID | None,
    idempotency_key: str | None,
) -> UUID:
    """Create the goal as instantiated; options that change it are a refinement that says so.

    With an idempotency key, the refinement and activation that follow take
    keys made from it, so a repeat of the whole command writes nothing.
    """
    instance = choice.instance
    if choice.changes and activate:
        # Refused before anything is stored, as a goal created active would be.
        report = evaluate_smart(choice.definition, app.get_episode(episode_id).concerns)
        if not report.passed:
            raise NotSmartError(
                f"with {', '.join(choice.changed_by)} the goal is not SMART, so it cannot be "
                "active: "
                + "; ".join(f"{v.letter}: {v.reason}" for v in report.verdicts if not v.passed),
                report,
            )
    new_id = app.create_goal(
        episode_id,
        instance.definition,
        actor=actor,
        activate=activate and not choice.changes,
        goal_id=goal_id,
        template_id=instance.template_id,
        template_version=instance.template_version,
        idempotency_key=idempotency_key,
    )
    if choice.changes:
        then = None if idempotency_key is None else f"{idempotency_key}/"
        app.refine_goal(
            new_id,
            reason=choice.reason,
            actor=actor,
            idempotency_key=then and f"{then}refine",
            **dict(choice.changes),
        )
        if activate:
            app.activate_goal(new_id, actor=actor, idempotency_key=then and f"{then}activate")
    return new_id


@goal.command("refine")
@click.argument("goal_id", type=GOAL_ID)
@click.option("--reason", required=True, help="Why the goal changes (required).")
@click.option("--statement", help="New statement.")
@definition_options
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def refine_goal(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    reason: str,
    statement: str | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
    **options: Any,
) -> None:
    """Refine a goal's statement, target, practices, priority, cadence or GAS scale, for a reason.

    Numbers and time in a new statement are read when no option gives them,
    as in ``goal create``.
    """
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        current = app.get_goal(goal_id).definition
        start_on = current.start_on
        changes: dict[str, Any] = {}
        measure = measure_from_options(options)
        if statement is not None:
            changes["statement"] = statement
            drafted = draft_definition(statement, start_on, measure=measure or current.measure)
            if measure is None and current.measure is None and drafted.measure is not None:
                measure = drafted.measure
            if drafted.target is not None and _no_target_options(options):
                changes["target"] = drafted.target
            if drafted.practices and not options.get("practices"):
                changes["practices"] = drafted.practices
        if measure is not None:
            changes["measure"] = measure
        changes.update(_target_changes(options, current, start_on))
        if options.get("practices"):
            changes["practices"] = tuple(options["practices"])
        for name in (
            "area",
            "focus",
            "priority",
            "review_every_days",
            "gas_levels",
            "gas_importance",
            "gas_difficulty",
        ):
            if options.get(name) is not None:
                changes[name] = options[name]
        if not changes:
            raise click.UsageError(
                "say what changes: --statement, --target, --due, --practice, --priority..."
            )
        app.refine_goal(
            goal_id,
            reason=reason,
            actor=actor,
            expected_version=expected_version,
            **changes,
            idempotency_key=idempotency_key,
        )
        _show(app, goal_id, as_json, f"refined goal {goal_id}")


def _no_target_options(options: dict[str, Any]) -> bool:
    return all(options.get(name) is None for name in ("baseline", "target_value", "due", "weeks"))


def _target_changes(
    options: dict[str, Any], current: GoalDefinition, start_on: Any
) -> dict[str, Any]:
    if _no_target_options(options):
        return {}
    if current.target is None:
        return {"target": target_from_options(options, start_on)}
    # Options not given keep their current values: refining the due date alone is common.
    due_on = due_from_options(options, start_on) or current.target.due_on
    baseline = options.get("baseline")
    value = options.get("target_value")
    return {
        "target": attrs.evolve(
            current.target,
            baseline=current.target.baseline if baseline is None else baseline,
            value=current.target.value if value is None else value,
            due_on=due_on,
        )
    }


@goal.command("activate")
@click.argument("goal_id", type=GOAL_ID)
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def activate_goal(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Agree to pursue a goal; refused with the SMART reasons if it is not SMART."""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        app.activate_goal(
            goal_id, actor=actor, expected_version=expected_version, idempotency_key=idempotency_key
        )
        _show(app, goal_id, as_json, f"activated goal {goal_id}")


@goal.command("measure", context_settings={"ignore_unknown_options": True})
@click.argument("goal_id", type=GOAL_ID)
@click.argument("value", type=NUMBER)  # a negative value (-1) is a value, not an option
@click.option("--on", "observed_on", metavar="DATE", help="Observation date (default today).")
@click.option("--note", help="A note about this measurement.")
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def measure_goal(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    value: float,
    observed_on: str | None,
    note: str | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Record a measurement against a goal's measure."""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        number = app.record_measurement(
            goal_id,
            value,
            observed_on=parse_date(observed_on, "--on"),
            note=note,
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        _show(app, goal_id, as_json, f"recorded measurement {number} of goal {goal_id}")


@goal.command("import")
@click.argument("goal_id", type=GOAL_ID)
@click.argument("csv_file", type=click.File("rb"))
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's text encoding, such as cp1252 or utf-16 (default UTF-8, with or without BOM).",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_IMPORT_ROWS,
    show_default=True,
    help="The most rows one import takes (a larger file is refused).",
)
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def import_measurements(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    csv_file: BinaryIO,
    encoding: str | None,
    max_rows: int,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Import measurements from CSV_FILE (columns value, observed_on, and optionally note).

    For history migrated from another system: every row is checked first, and
    one bad row (named by its line) refuses the whole file; nothing is written.
    The file is UTF-8 (a byte order mark is accepted) unless --encoding names
    another; docs/inputs.md says what else it must be.
    """
    actor = make_actor(actor_id, role)
    rows = read_measurement_rows(csv_file, csv_file.name, encoding=encoding, max_rows=max_rows)
    with open_app(ctx) as app:
        numbers = app.import_measurements(
            goal_id,
            rows,
            actor=actor,
            expected_version=expected_version,
            max_rows=max_rows,
            idempotency_key=idempotency_key,
        )
        if as_json:
            document = goal_document(app.get_goal(goal_id))
            document["imported"] = list(numbers)
            emit(document)
        else:
            click.echo(f"imported {len(numbers)} measurements into goal {goal_id}")


@goal.command("correct")
@click.argument("goal_id", type=GOAL_ID)
@click.argument("number", type=int)
@click.option("--value", type=NUMBER, help="The corrected value.")
@click.option("--void", is_flag=True, help="Void the measurement (entered in error).")
@click.option("--reason", required=True, help="Why it is corrected (required).")
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def correct_measurement(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    number: int,
    value: float | None,
    void: bool,
    reason: str,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Correct measurement NUMBER of a goal (--value), or void it (--void)."""
    if (value is None) == (not void):
        raise click.UsageError("give exactly one of --value or --void")
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        app.correct_measurement(
            goal_id,
            number,
            value=value,
            reason=reason,
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        said = (
            f"voided measurement {number} of goal {goal_id}"
            if value is None
            else f"corrected measurement {number} of goal {goal_id} to {value:g}"
        )
        _show(app, goal_id, as_json, said)


@goal.command("review")
@click.argument("goal_id", type=GOAL_ID)
@click.option("--achievement", type=click.Choice(ACHIEVEMENT_STATUSES), required=True)
@click.option("--decision", type=click.Choice(REVIEW_DECISIONS), required=True)
@click.option("--attainment", type=int, help="GAS attainment level, -2 to +2.")
@click.option("--on", "reviewed_on", metavar="DATE", help="Review date (default today).")
@click.option("--note", help="What was discussed.")
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def review_goal(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    achievement: str,
    decision: str,
    attainment: int | None,
    reviewed_on: str | None,
    note: str | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Record a progress review (pause puts a goal on hold, resume reactivates it)."""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        app.review_goal(
            goal_id,
            achievement=achievement,  # type: ignore[arg-type]  # click.Choice checked it
            decision=decision,  # type: ignore[arg-type]
            attainment=attainment,
            reviewed_on=parse_date(reviewed_on, "--on"),
            note=note,
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        _show(app, goal_id, as_json, f"reviewed goal {goal_id}")


@goal.command("retire")
@click.argument("goal_id", type=GOAL_ID)
@click.option("--reason-code", type=click.Choice(RETIREMENT_REASONS), required=True)
@click.option("--reason", required=True, help="Why the goal ends (required).")
@click.option("--replaced-by", type=GOAL_ID, help="The goal replacing this one.")
@click.option("--on", "retired_on", metavar="DATE", help="Date it ended (default today).")
@_expected_version
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def retire_goal(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    reason_code: str,
    reason: str,
    replaced_by: UUID | None,
    retired_on: str | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """End a goal: achieved, no longer relevant, replaced, client discharged or entered in error."""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        app.retire_goal(
            goal_id,
            reason_code=reason_code,  # type: ignore[arg-type]  # click.Choice checked it
            reason=reason,
            replaced_by=replaced_by,
            retired_on=parse_date(retired_on, "--on"),
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        _show(app, goal_id, as_json, f"retired goal {goal_id}")


def register(cli: click.Group) -> None:
    """Add ``goalpath goal`` to the root group."""
    cli.add_command(goal)
    goal_reads.register(goal)
