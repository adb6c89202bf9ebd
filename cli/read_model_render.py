"""How the read models look: plans, progress, reviews, outcomes and audit rows.

Terminal tables (rich) and the JSON documents that ``--json`` prints, for
``plan show``, ``progress``, ``reviews due``, ``outcomes``, ``audit log`` and
``projections status``, and for ``goalpath demo``.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from goalpath.exports.charts import text_chart
from goalpath.projections import (
    CaseloadOutcomes,
    OutcomeCounts,
    Plan,
    ProgressReport,
)
from goalpath.projections.gas import GasScore

__all__ = [
    "render_counts",
    "render_outcomes",
    "render_plan",
    "render_progress",
]

_STATUS_STYLE = {
    "achieved": "cyan",
    "on-track": "green",
    "at-risk": "yellow",
    "off-track": "red",
    "not-assessable": "dim",
}


def _gas_line(gas: GasScore) -> str:
    weighted = ", weighted by importance x difficulty" if gas.weighted else ""
    if gas.t_score is None:
        return f"none ({gas.coverage}{weighted})"
    return f"{gas.t_score:.2f} ({gas.coverage}{weighted})"


# -- rendering ----------------------------------------------------------------------


def render_plan(out: Console, plan: Plan) -> None:
    """Print a plan: the episode's facts, its goals, the GAS T-score and plan warnings."""
    episode = plan.episode
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("episode", str(episode.episode_id))
    facts.add_row("client", episode.client_id)
    facts.add_row("therapists", ", ".join(episode.therapist_ids))
    facts.add_row("sessions", str(episode.sessions_recorded))
    if episode.closed_on is not None:
        facts.add_row("closed", episode.closed_on.isoformat())
    if plan.gas.goals:
        facts.add_row("GAS T-score", _gas_line(plan.gas))
    # One block per goal (its facts, then its statement), so that nothing is cut at 80 columns.
    goals: list[Any] = [Text(f"\nplan on {plan.on.isoformat()}", style="bold")]
    for goal in plan.goals:
        latest = goal.latest
        target = goal.record.definition.target
        facts_line = [
            str(goal.goal_id)[:8],
            goal.record.status,
            f"SMART {goal.smart.summary()}",
            f"due {'-' if target is None else target.due_on.isoformat()}",
        ]
        if goal.next_review_due is not None:
            facts_line.append(f"review {goal.next_review_due.isoformat()}")
        facts_line.append(
            "latest none yet"
            if latest is None or latest.value is None
            else f"latest {latest.value:g} on {latest.observed_on.isoformat()}"
        )
        goals.append(Text("  ".join(facts_line), style="bold"))
        goals.append(Padding(Text(goal.record.definition.statement), (0, 0, 0, 4)))
    parts: list[Any] = [facts, *goals]
    if plan.ended:
        parts.append(
            Text(
                "ended: "
                + "; ".join(f"{str(g.goal_id)[:8]} ({g.record.status})" for g in plan.ended),
                style="dim",
            )
        )
    for warning in plan.warnings:
        which = f" [goal {str(warning.goal_id)[:8]}]" if warning.goal_id else ""
        parts.append(Text(f"⚠ {warning.code}{which}: {warning.message}", style="yellow"))
    if not plan.warnings:
        parts.append(Text("no plan warnings", style="green"))
    out.print(Panel(Group(*parts), title="plan", expand=False))


def _trend_text(trend: float, unit: str) -> str:
    """The trend in the measure's words: ``down 0.42 per week each week``, never ``(per week)``."""
    direction = "up" if trend > 0 else "down" if trend < 0 else "flat,"
    amount = f"{abs(trend):.2f}"
    if unit.startswith("per "):
        return f"{direction} {amount} {unit} each week"
    return f"{direction} {amount} {unit} a week".replace("  ", " ")


def render_progress(out: Console, report: ProgressReport) -> None:
    """Print a goal's progress with a chart of measurements against the expected trajectory."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("goal", str(report.goal_id))
    facts.add_row("statement", report.statement)
    facts.add_row(
        "progress",
        Text(report.status, style=_STATUS_STYLE.get(report.status, "")).append(
            "  (against the target; not the goal's status)", style="dim"
        ),
    )
    facts.add_row("why", report.reason)
    if report.percent is not None:
        facts.add_row("of the way", f"{report.percent:.0f}% from baseline to target")
    if report.trend_per_week is not None:
        unit = report.measure.unit if report.measure else ""
        facts.add_row("trend", _trend_text(report.trend_per_week, unit))
    if report.outcome is not None:
        outcome = report.outcome
        flags = [
            name.replace("_", " ")
            for name in (
                "reliable_improvement",
                "reliable_deterioration",
                "recovery",
                "reliable_recovery",
            )
            if getattr(outcome, name)
        ]
        facts.add_row(
            outcome.instrument.upper(),
            f"{outcome.first:g} → {outcome.last:g}; case at start: "
            f"{'yes' if outcome.case_at_start else 'no'}; "
            f"{', '.join(flags) or 'no reliable change'}",
        )
    parts: list[Any] = [facts]
    chart = text_chart(report)
    if chart:
        parts.append(Text("\n" + chart))
    out.print(Panel(Group(*parts), title="progress", expand=False))


def render_counts(table: Table, who: str, counts: OutcomeCounts) -> None:
    """Add one row of outcome counts (a therapist's, or overall) to an outcomes table."""
    rates = counts.rates

    def cell(count: int, rate: float | None) -> str:
        return f"{count}" if rate is None else f"{count} ({rate:.0%})"

    table.add_row(
        who,
        str(counts.finished_paired),
        str(counts.cases_at_start),
        cell(counts.reliable_improvement, rates["reliable_improvement"]),
        cell(counts.reliable_deterioration, rates["reliable_deterioration"]),
        cell(counts.recovery, rates["recovery"]),
        cell(counts.reliable_recovery, rates["reliable_recovery"]),
        str(counts.interim),
        str(counts.not_finished),
        str(counts.unpaired),
    )


def render_outcomes(out: Console, outcomes: CaseloadOutcomes, *, overall: bool = True) -> None:
    """Print caseload outcomes per therapist (and ``overall``), titled with the rule and version.

    Rates are over finished courses with paired scores (recovery: over those
    that were a case at the start); interim, not-finished and unpaired
    episodes are counted beside them.
    """
    table = Table(
        title=f"caseload outcomes: {outcomes.rule.title}",
        caption="rates over finished courses with paired PHQ-9 and anxiety scores; "
        "recovery over cases at start",
    )
    for column in (
        "therapist",
        "finished, paired",
        "cases at start",
        "reliable improvement",
        "reliable deterioration",
        "recovery",
        "reliable recovery",
        "interim",
        "not finished",
        "unpaired",
    ):
        table.add_column(column)
    for therapist, counts in outcomes.by_therapist.items():
        render_counts(table, therapist, counts)
    if overall:
        render_counts(table, "overall", outcomes.overall)
    out.print(table)


# -- commands -------------------------------------------------------------------------
