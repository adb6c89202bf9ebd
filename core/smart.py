"""SMART evaluation: a pure function from a goal definition to a report.

Each of the five letters gets a verdict, the reason for it, and (when it
fails) a suggestion a clinician can act on. Nothing here touches storage.

The checks are deliberately explainable rules rather than a model: a
clinician must be able to see why a goal was judged as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final, Literal

import attrs

from goalpath.core.values import GOAL_AREAS, Direction, GoalArea, GoalDefinition, Measure, Target

__all__ = [
    "SmartReport",
    "SmartVerdict",
    "draft_definition",
    "evaluate_smart",
    "infer_area",
]

Letter = Literal["specific", "measurable", "achievable", "relevant", "time-bound"]

MAX_WEEKLY_RELATIVE_CHANGE: Final = 0.5
"""Above half the baseline per week, a target is judged implausible for its time frame."""

MAX_HORIZON_DAYS: Final = 366
"""A due date more than a year away is too far for a therapy goal to steer by."""

MIN_HORIZON_DAYS: Final = 7
"""A goal needs at least a week for change to be observed."""

_FEELING_WORDS: Final = frozenset(
    {
        "anxious", "happy", "happier", "better", "calmer", "calm", "sad", "depressed",
        "stressed", "worried", "okay", "ok", "normal", "good", "fine", "confident",
        "less", "more", "feel", "feeling",
    }
)  # fmt: skip

_ACTION_WORDS: Final = frozenset(
    {
        "reduce", "increase", "practise", "practice", "practising", "practicing", "attend",
        "complete", "walk", "call", "have", "record", "write", "use", "go", "spend",
        "do", "meet", "exercise", "sleep", "limit", "stop", "start", "keep", "join",
        "express", "speak", "say", "ask", "notice", "recognise", "recognize", "name",
        "identify", "schedule", "plan", "return", "apply", "read", "eat", "drink",
        "cut", "replace", "share", "invite", "listen", "meditate", "rate", "log", "track",
        "face", "approach", "enter", "visit", "travel", "work", "study", "finish",
    }
)  # fmt: skip

_SITUATION_HINT: Final = re.compile(
    r"\b(per|each|every|daily|weekly|when|at|in|with|during|before|after|by)\b", re.IGNORECASE
)

_AREA_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "symptom-relief": (
        "anx", "panic", "depress", "mood", "worry", "worri", "stress", "sleep", "insomnia",
        "anger", "emotion", "ruminat", "intrusive", "flashback", "craving", "symptom",
        "phq", "gad", "low", "fear", "obsess", "compuls",
    ),
    "behavioural-change": (
        "exercise", "walk", "avoid", "exposure", "habit", "routine", "drink", "alcohol",
        "smok", "activit", "schedule", "practis", "practic", "breathing", "meditat",
        "body scan", "thought record", "leave the house", "shop", "work",
    ),
    "relationships": (
        "partner", "friend", "family", "conversation", "social", "relationship", "listen",
        "colleague", "parent", "child", "boundar", "assert", "intimacy", "connect",
    ),
    "personal-growth": (
        "value", "self-esteem", "confiden", "insight", "understand", "meaning", "purpose",
        "pattern", "self-compassion", "identity", "strength", "recognis", "recogniz",
        "aware",
    ),
}  # fmt: skip

_FROM_TO: Final = re.compile(
    r"\bfrom\s+(?P<baseline>\d+(?:\.\d+)?)\s+(?:to|down to|up to)\s+(?P<target>\d+(?:\.\d+)?)"
    r"(?:\s+(?P<unit>(?:per|a|each)\s+(?:day|week|month|session)))?",
    re.IGNORECASE,
)
_WITHIN: Final = re.compile(
    r"\b(?:within|in|over|for|by)\s+(?:the\s+next\s+)?(?P<count>\d+|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|twelve)\s+(?P<span>day|week|month)s?\b",
    re.IGNORECASE,
)
_BY_DATE: Final = re.compile(r"\bby\s+(?P<date>\d{4}-\d{2}-\d{2})\b")
_NUMBER_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
}  # fmt: skip
_MEASURED_THING: Final = re.compile(
    r"\b(?:reduce|decrease|increase|cut|lower|raise)\s+(?:my\s+|the\s+|his\s+|her\s+|their\s+)?"
    r"(?P<thing>[a-z][a-z\- ]{2,60}?)\s+from\b",
    re.IGNORECASE,
)


@attrs.frozen
class SmartVerdict:
    """The verdict on one SMART letter."""

    letter: Letter
    passed: bool
    reason: str
    suggestion: str | None = None


@attrs.frozen
class SmartReport:
    """One verdict per SMART letter."""

    specific: SmartVerdict
    measurable: SmartVerdict
    achievable: SmartVerdict
    relevant: SmartVerdict
    time_bound: SmartVerdict

    @property
    def verdicts(self) -> tuple[SmartVerdict, ...]:
        """The five verdicts in S, M, A, R, T order."""
        return (self.specific, self.measurable, self.achievable, self.relevant, self.time_bound)

    @property
    def passed(self) -> bool:
        """Whether every letter passed."""
        return all(verdict.passed for verdict in self.verdicts)

    @property
    def failed_letters(self) -> tuple[Letter, ...]:
        """The letters that did not pass."""
        return tuple(verdict.letter for verdict in self.verdicts if not verdict.passed)

    def summary(self) -> str:
        """A short one-line verdict such as ``S M A R T`` with failed letters in lower case."""
        letters = ("S", "M", "A", "R", "T")
        return " ".join(
            letter if verdict.passed else letter.lower() + "?"
            for letter, verdict in zip(letters, self.verdicts, strict=True)
        )


def _words(statement: str) -> list[str]:
    return re.findall(r"[a-z][a-z'\-]*", statement.lower())


def infer_area(statement: str, extra: Iterable[str] = ()) -> GoalArea | None:
    """Guess the primary goal area a statement belongs to, or ``None`` if no keyword matches."""
    # What the client will practise says how, not which area the goal serves.
    aim = re.split(r"\bby\s+(?:practi|using|doing|going)", statement, maxsplit=1)[0]
    text = " ".join([aim, *extra]).lower()
    best: tuple[int, str] | None = None
    for area in GOAL_AREAS:
        hits = sum(1 for keyword in _AREA_KEYWORDS[area] if keyword in text)
        if hits and (best is None or hits > best[0]):
            best = (hits, area)
    if best is None:
        return None
    area_name: GoalArea = best[1]  # type: ignore[assignment]  # one of GOAL_AREAS
    return area_name


def _check_specific(definition: GoalDefinition) -> SmartVerdict:
    words = _words(definition.statement)
    actions = [word for word in words if word in _ACTION_WORDS]
    feelings = [word for word in words if word in _FEELING_WORDS]
    has_situation = bool(_SITUATION_HINT.search(definition.statement)) or bool(definition.practices)
    if actions and has_situation and len(words) >= 6:
        return SmartVerdict(
            "specific",
            passed=True,
            reason=f"names a behaviour ({actions[0]}) and when or how it happens",
        )
    if not actions:
        feeling = f" ({', '.join(dict.fromkeys(feelings))})" if feelings else ""
        reason = f"states a wish or a feeling{feeling} but no behaviour or situation"
    elif len(words) < 6:
        reason = "too short to say what will be done, where or when"
    else:
        reason = f"names a behaviour ({actions[0]}) but not when, where or how often"
    return SmartVerdict(
        "specific",
        passed=False,
        reason=reason,
        suggestion=(
            "say what the client will do differently and in which situation, for example "
            "'reduce my panic attacks from 3 to 1 per week by practising daily breathing "
            "exercises'"
        ),
    )


def _check_measurable(definition: GoalDefinition) -> SmartVerdict:
    missing = []
    if definition.measure is None:
        missing.append("a measure (what is counted or rated, and its unit)")
    if definition.target is None:
        missing.append("a baseline and a target value")
    if not missing:
        measure = definition.measure
        target = definition.target
        assert measure is not None  # noqa: S101  # checked just above
        assert target is not None  # noqa: S101
        if measure.improvement(target.baseline, target.value) <= 0:
            return SmartVerdict(
                "measurable",
                passed=False,
                reason=(
                    f"the target {target.value:g} is not an improvement on the baseline "
                    f"{target.baseline:g} for a measure that should {measure.direction}"
                ),
                suggestion=(
                    f"set a target {'above' if measure.direction == 'increase' else 'below'} "
                    f"the baseline, or check the measure's direction"
                ),
            )
        return SmartVerdict(
            "measurable",
            passed=True,
            reason=(
                f"{measure.name} ({measure.unit}), from {target.baseline:g} to {target.value:g}"
            ),
        )
    return SmartVerdict(
        "measurable",
        passed=False,
        reason="missing " + "; and ".join(missing),
        suggestion=(
            "choose how progress will be counted or rated (for example panic attacks "
            "per week, or a PHQ-9 total), record where the client is now and where "
            "they want to be"
        ),
    )


def _check_achievable(definition: GoalDefinition) -> SmartVerdict:
    target = definition.target
    measure = definition.measure
    if target is None or measure is None:
        return SmartVerdict(
            "achievable",
            passed=False,
            reason="cannot judge whether the goal is achievable without a baseline, "
            "target and due date",
            suggestion="add a baseline, a target and a due date first",
        )
    days = (target.due_on - definition.start_on).days
    weeks = max(days / 7, 1 / 7)
    change = abs(target.value - target.baseline)
    # From a baseline of zero, the step is judged against the target itself: going
    # from 0 to 50 outings a week within a week is no more plausible than from 1.
    scale = abs(target.baseline) or abs(target.value)
    if scale > 0:
        weekly = change / scale / weeks
        if weekly > MAX_WEEKLY_RELATIVE_CHANGE:
            return SmartVerdict(
                "achievable",
                passed=False,
                reason=(
                    f"a change from {target.baseline:g} to {target.value:g} in {days} days "
                    f"is {weekly:.0%} of the baseline per week; more than "
                    f"{MAX_WEEKLY_RELATIVE_CHANGE:.0%} per week is rarely sustained"
                ),
                suggestion=(
                    "aim for a smaller step first, or allow more time: for example "
                    f"{_suggest_step(target, measure, weeks)}"
                ),
            )
    return SmartVerdict(
        "achievable",
        passed=True,
        reason=f"a change of {change:g} {measure.unit} over {days} days is a plausible pace",
    )


def _suggest_step(target: Target, measure: Measure, weeks: float) -> str:
    step = abs(target.baseline) * MAX_WEEKLY_RELATIVE_CHANGE * weeks
    sign = 1 if measure.direction == "increase" else -1
    value = target.baseline + sign * step
    if measure.minimum is not None:
        value = max(value, measure.minimum)
    if measure.maximum is not None:
        value = min(value, measure.maximum)
    return f"a target of {round(value, 1):g} {measure.unit} by the same date"


def _check_relevant(definition: GoalDefinition, concerns: tuple[str, ...]) -> SmartVerdict:
    area = definition.area or infer_area(definition.statement)
    if area is None:
        return SmartVerdict(
            "relevant",
            passed=False,
            reason="not tied to one of the four goal areas (symptom relief, behavioural "
            "change, relationships, personal growth)",
            suggestion="say which area the goal serves, or link it to a presenting concern",
        )
    if concerns:
        statement_words = {word for word in _words(definition.statement) if len(word) >= 4}
        concern_words = {word for concern in concerns for word in _words(concern) if len(word) >= 4}
        overlap = _stems(statement_words) & _stems(concern_words)
        if not overlap and definition.area is None:
            return SmartVerdict(
                "relevant",
                passed=False,
                reason=(
                    f"belongs to {area}, but does not mention any presenting concern "
                    f"({'; '.join(concerns)})"
                ),
                suggestion="link the goal to what brought the client to therapy, or set "
                "its goal area explicitly if it serves a concern in another way",
            )
    return SmartVerdict("relevant", passed=True, reason=f"serves the goal area {area}")


def _stems(words: set[str]) -> set[str]:
    return {word[:4] for word in words}


def _check_time_bound(definition: GoalDefinition) -> SmartVerdict:
    target = definition.target
    if target is None:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason="no due date",
            suggestion="agree when the goal should be reached, for example 'within 6 weeks'",
        )
    days = (target.due_on - definition.start_on).days
    if days < MIN_HORIZON_DAYS:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"due in {days} days: too soon for change to be observed",
            suggestion="allow at least a week, so that more than one measurement is possible",
        )
    if days > MAX_HORIZON_DAYS:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"due in {days} days: too far away to steer therapy by",
            suggestion="set an intermediate goal due within a year, and review it on the way",
        )
    return SmartVerdict(
        "time-bound", passed=True, reason=f"due on {target.due_on.isoformat()} ({days} days)"
    )


def evaluate_smart(definition: GoalDefinition, concerns: Iterable[str] = ()) -> SmartReport:
    """Evaluate a goal definition against the five SMART letters.

    ``concerns`` are the episode's presenting concerns; when given, a goal
    whose area is not set explicitly must mention one of them to be Relevant.
    """
    concern_tuple = tuple(concerns)
    return SmartReport(
        specific=_check_specific(definition),
        measurable=_check_measurable(definition),
        achievable=_check_achievable(definition),
        relevant=_check_relevant(definition, concern_tuple),
        time_bound=_check_time_bound(definition),
    )


def draft_definition(
    statement: str,
    start_on: date,
    *,
    measure: Measure | None = None,
    target: Target | None = None,
    area: GoalArea | None = None,
) -> GoalDefinition:
    """Build a goal definition from a statement, reading what it says about numbers and time.

    A statement such as "reduce my panic attacks from 3 to 1 per week within 6
    weeks" gives a measure (panic attacks, per week, decrease), a baseline of
    3, a target of 1 and a due date six weeks after ``start_on``. Anything
    given explicitly wins over what is read from the text.
    """
    found_from_to = _FROM_TO.search(statement)
    if measure is None and found_from_to is not None:
        baseline = float(found_from_to["baseline"])
        target_value = float(found_from_to["target"])
        direction: Direction = "decrease" if target_value < baseline else "increase"
        thing = _MEASURED_THING.search(statement)
        unit = found_from_to["unit"] or "count"
        measure = Measure(
            name=thing["thing"].strip() if thing else "count",
            unit=unit.lower().replace("a ", "per ").replace("each ", "per "),
            direction=direction,
            minimum=0.0,
        )
    if target is None and found_from_to is not None:
        due_on = _read_due_date(statement, start_on)
        if due_on is not None and due_on > start_on:
            target = Target(
                baseline=float(found_from_to["baseline"]),
                value=float(found_from_to["target"]),
                due_on=due_on,
            )
    practices: tuple[str, ...] = ()
    by_practice = re.search(r"\bby\s+(practi[sc]ing\s+[^.,;]+)", statement, re.IGNORECASE)
    if by_practice:
        practices = (by_practice.group(1).strip(),)
    return GoalDefinition(
        statement=statement,
        start_on=start_on,
        measure=measure,
        target=target,
        area=area,
        practices=practices,
    )


def _read_due_date(statement: str, start_on: date) -> date | None:
    by_date = _BY_DATE.search(statement)
    if by_date:
        try:
            return date.fromisoformat(by_date["date"])
        except ValueError:
            return None
    within = _WITHIN.search(statement)
    if within is None:
        return None
    count_text = within["count"].lower()
    count = _NUMBER_WORDS.get(count_text) or int(count_text)
    span = within["span"].lower()
    days = {"day": 1, "week": 7, "month": 30}[span] * count
    try:
        return start_on + timedelta(days=days)
    except OverflowError:
        return None  # beyond the calendar: read as no due date, which Time-bound reports
