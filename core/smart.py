"""SMART evaluation: a pure function from a goal definition to a report.

Each of the five letters gets a verdict, the reason for it, and (when it
fails) a suggestion a clinician can act on. Nothing here touches storage.

The statement is read by :func:`goalpath.core.statement_reader.read_statement`;
what the definition gives explicitly (measure, target, due date) wins over
what is read. Each letter is judged on its own parts only, so that adding a
due date changes Time-bound and nothing else. The checks are explainable
rules rather than a model: a clinician must be able to see why a goal was
judged as it was, and each reason quotes the words it was read from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Final, Literal

import attrs

from goalpath.core.errors import GoalpathError
from goalpath.core.statement_reader import (
    InstrumentFacts,
    ReadNumber,
    StatementReading,
    read_statement,
)
from goalpath.core.values import GOAL_AREAS, Direction, GoalArea, GoalDefinition, Measure, Target

__all__ = [
    "MAX_INSTRUMENT_WEEKLY_SHARE",
    "MAX_WEEKLY_RELATIVE_CHANGE",
    "MAX_WEEKLY_TARGET_SHARE",
    "MIN_WEEKLY_STEP",
    "InstrumentFacts",
    "SmartReport",
    "SmartVerdict",
    "draft_definition",
    "evaluate_smart",
    "evaluate_statement",
    "infer_area",
]

Letter = Literal["specific", "measurable", "achievable", "relevant", "time-bound"]

MAX_WEEKLY_RELATIVE_CHANGE: Final = 0.5
"""A count may change by up to half its baseline a week (or :data:`MIN_WEEKLY_STEP`)."""

MAX_WEEKLY_TARGET_SHARE: Final = 0.25
"""A new behaviour may build up by a quarter of its target a week (four weeks from zero)."""

MIN_WEEKLY_STEP: Final = 1.0
"""One more (or one fewer) a week is always a plausible step, even from a baseline of zero."""

MAX_INSTRUMENT_WEEKLY_SHARE: Final = 0.1
"""An instrument or rating score may change by up to a tenth of its range a week."""

MAX_HORIZON_DAYS: Final = 366
"""A due date more than a year away is too far for a therapy goal to steer by."""

MIN_HORIZON_DAYS: Final = 7
"""A goal needs at least a week for change to be observed."""

_AREA_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
    "symptom-relief": (
        "anx", "panic", "depress", "mood", "worry", "worri", "stress", "sleep", "insomnia",
        "anger", "angry", "emotion", "ruminat", "intrusive", "flashback", "craving", "symptom",
        "phq", "gad", "low", "fear", "obsess", "compuls", "nightmare", "trauma", "grief",
        "griev", "bereave", "self-harm", "harming", "urge", "pain", "suds", "distress", "isi",
        "epworth", "y-bocs", "ies-r", "checking", "handwash", "intrusive", "calm", "tension",
        "relax", "check", "binge", "bingeing", "purg", "hair pulling", "body checking",
        "safety plan",
        "panick", "phobi", "nervous", "irritab", "bed", "wake", "waking", "flying",
    ),
    "behavioural-change": (
        "exercise", "walk", "avoid", "exposure", "habit", "routine", "drink", "alcohol",
        "smok", "cigarette", "cannabis", "activit", "schedul", "practis", "breathing",
        "meditat", "body scan", "thought record", "leave the house", "shop", "procrastinat",
        "deadline", "diazepam", "medication", "gaming", "screen time", "social media", "gym",
        "swim", "meal", "eat", "caffeine", "relapse", "reassurance", "diary", "return to work",
        "phased return", "couch to 5k", "work", "leaving the house", "going out",
        "physiotherapy", "planner", "school", "drive", "driving",
        "bus", "supermarket", "café", "cafe", "lift", "hierarchy", "grounding", "mindful",
        "journal", "weight", "kg", "calories", "dating app", "emails", "pleasant", "enjoyable",
        "achievement", "out of bed", "helpline", "coping", "aa meetings", "alcohol-free",
        "danc", "yoga", "class",
    ),
    "relationships": (
        "partner", "friend", "family", "conversation", "social", "relationship", "listen",
        "colleague", "parent", "child", "boundar", "assert", "intimacy", "connect", "son",
        "daughter", "kids", "husband", "wife", "sister", "brother", "mum", "mother", "father",
        "dad", "neighbour", "choir", "club", "date night", "manager", "say no", "group",
        "eye contact", "team meeting", "speak up", "hug", "praise", "argu", "shout",
    ),
    "personal-growth": (
        "value", "self-esteem", "confiden", "insight", "understand", "meaning", "purpose",
        "pattern", "self-compassion", "identity", "strength", "recognis", "aware",
        "happ", "wellbeing", "well-being", "wemwbs", "ffmq", "grateful", "gratitude",
        "self-critic", "kind thing", "kinder", "feelings", "feeling", "withdraw", "pleasing",
        "integrated", "present", "accept", "feel", "endings", "compassion", "belief",
        "fitter", "peace",
    ),
}  # fmt: skip
"""Words (or word beginnings) that tie a statement to one of the four goal areas."""

_AREA_PATTERNS: Final = {
    keyword: re.compile(r"(?<![a-z])" + re.escape(keyword))
    for keywords in _AREA_KEYWORDS.values()
    for keyword in keywords
}
"""Each keyword matched at the start of a word: 'pain' is not read in 'repaint'."""

_MEDICAL_SUPPORT: Final = re.compile(
    r"\b(?:detox|gp|doctor|medical(?:ly)?|prescriber|psychiatrist|nurse|supervised|clinic|"
    r"hospital|taper(?:ing)?|alcohol service|drug service|agreed with my (?:gp|doctor))\b"
)
_ALCOHOL: Final = re.compile(r"\b(?:alcohol|drink(?:s|ing)?|units|booze|wine|beer)\b")
_BENZODIAZEPINE: Final = re.compile(
    r"\b(?:diazepam|lorazepam|clonazepam|alprazolam|temazepam|chlordiazepoxide|oxazepam|"
    r"benzo(?:diazepine)?s?|valium|xanax)\b"
)
_LOW_CALORIES: Final = re.compile(r"\b(?P<calories>\d+)\s*(?:k?cal(?:orie)?s)\s+a\s+day\b")

HEAVY_DRINKING_UNITS_PER_DAY: Final = 15.0
"""From about 15 units a day, stopping abruptly risks withdrawal seizures: medical support first."""

SAFE_WEIGHT_CHANGE_KG_PER_WEEK: Final = 1.0
"""Weight loss faster than about 1 kg a week is not advised without medical supervision."""

MIN_DAILY_CALORIES: Final = 1000
"""A diet under about 1,000 kcal a day is not a safe self-directed plan."""


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


@attrs.frozen
class _Parts:
    """What one letter may look at: the definition's explicit values, else what was read."""

    reading: StatementReading
    start_on: date
    measure_name: str | None
    unit: str | None
    direction: Direction | None
    instrument: InstrumentFacts | None
    baseline: float | None
    baseline_quote: str | None
    target: float | None
    target_quote: str | None
    due_on: date | None
    due_quote: str | None
    explicit_target: bool


def _parts(
    definition: GoalDefinition, instruments: tuple[InstrumentFacts, ...], session_interval_days: int
) -> _Parts:
    reading = read_statement(
        definition.statement,
        definition.start_on,
        instruments=instruments,
        session_interval_days=session_interval_days,
    )
    measure = definition.measure
    instrument = reading.instrument
    if measure is not None and measure.minimum is not None and measure.maximum is not None:
        known = [i for i in instruments if i.code == measure.instrument]
        instrument = known[0] if known else None
        if instrument is None and measure.instrument is not None:
            instrument = InstrumentFacts(
                code=measure.instrument,
                name=measure.name,
                unit=measure.unit,
                direction=measure.direction,
                minimum=measure.minimum,
                maximum=measure.maximum,
            )
    target = definition.target
    if target is not None:
        return _Parts(
            reading=reading,
            start_on=definition.start_on,
            measure_name=None if measure is None else measure.name,
            unit=None if measure is None else measure.unit,
            direction=None if measure is None else measure.direction,
            instrument=instrument,
            baseline=target.baseline,
            baseline_quote=_quote(reading.baseline, target.baseline, "a baseline of"),
            target=target.value,
            target_quote=_quote(reading.target, target.value, "a target of"),
            due_on=target.due_on,
            due_quote=(
                reading.time_frame.quote
                if reading.time_frame is not None and reading.time_frame.due_on == target.due_on
                else None
            ),
            explicit_target=True,
        )
    read_target = reading.target
    return _Parts(
        reading=reading,
        start_on=definition.start_on,
        measure_name=measure.name if measure is not None else reading.measure,
        unit=measure.unit if measure is not None else reading.unit,
        direction=measure.direction if measure is not None else reading.direction,
        instrument=instrument,
        baseline=None if reading.baseline is None else reading.baseline.value,
        baseline_quote=None if reading.baseline is None else reading.baseline.quote,
        target=None if read_target is None else read_target.value,
        target_quote=None if read_target is None else read_target.quote,
        due_on=None if reading.time_frame is None else reading.time_frame.due_on,
        due_quote=None if reading.time_frame is None else reading.time_frame.quote,
        explicit_target=False,
    )


def _quote(read: ReadNumber | None, value: float, lead: str) -> str:
    """The words a value was read from, or a description when it was given explicitly."""
    if read is not None and read.value == value:
        return read.quote
    return f"{lead} {value:g}"


def _check_specific(definition: GoalDefinition, parts: _Parts) -> SmartVerdict:
    reading = parts.reading
    situation = reading.situation or (
        f"by {definition.practices[0]}" if definition.practices else None
    )
    suggestion_example = (
        "for example 'walk to the shop alone 3 times a week' or 'use the breathing space "
        "when I notice worry'"
    )
    if reading.behaviour and situation and not _only_a_wish(reading):
        return SmartVerdict(
            "specific",
            passed=True,
            reason=f"read a behaviour ('{reading.behaviour}') and when or how ('{situation}')",
        )
    if reading.behaviour is None or _only_a_wish(reading):
        wish = f"states a wish or a feeling ('{reading.wish}')" if reading.wish else "states"
        reason = (
            f"{wish} but no behaviour the client will do"
            if reading.wish
            else ("read no behaviour the client will do")
        )
        suggestion = "say what the client will do differently and in which situation, " + (
            suggestion_example
        )
    else:
        reason = f"read a behaviour ('{reading.behaviour}') but not when, where, how often or how"
        suggestion = (
            f"say when, where, how often or by what means the client will "
            f"{reading.behaviour.split()[0]}, {suggestion_example}"
        )
    return SmartVerdict("specific", passed=False, reason=reason, suggestion=suggestion)


def _only_a_wish(reading: StatementReading) -> bool:
    """A wish that comes before any behaviour, or global words, is a wish, not a behaviour."""
    if reading.wish is None:
        return False
    if any(word in ("everything",) for word in reading.absolutes):
        return True
    if reading.behaviour is None:
        return True
    return reading.text.find(reading.wish) <= reading.text.find(reading.behaviour.split()[0])


def _check_measurable(parts: _Parts) -> SmartVerdict:
    missing: list[str] = []
    what = parts.measure_name or parts.unit or (parts.instrument.name if parts.instrument else None)
    has_target = parts.target is not None
    if what is None and not has_target:
        missing.append("a measure (what is counted or rated)")
    if not has_target:
        missing.append("a target (where the client wants to be)")
    if parts.baseline is None and not parts.reading.maintenance:
        missing.append("a baseline (where the client is now)")
    if missing:
        read = f"read {parts.target_quote!r}; " if parts.target_quote else ""
        examples = {
            "a measure (what is counted or rated)": "what will be counted or rated "
            "(panic attacks a week, "
            "a PHQ-9 total)",
            "a target (where the client wants to be)": "the number aimed for ('to 1 a week', "
            "'at least 3 times a week')",
            "a baseline (where the client is now)": "where the client is now ('up from 0', "
            "'from 3 a week')",
        }
        return SmartVerdict(
            "measurable",
            passed=False,
            reason=f"{read}missing " + "; ".join(missing),
            suggestion="add " + "; and ".join(examples[item] for item in missing),
        )
    direction = parts.direction
    if (
        parts.baseline is not None
        and parts.target is not None
        and not math.isnan(parts.target)
        and direction is not None
        and (parts.target - parts.baseline) * (1 if direction == "increase" else -1) <= 0
        and parts.explicit_target
    ):
        return SmartVerdict(
            "measurable",
            passed=False,
            reason=(
                f"the target {parts.target:g} is not an improvement on the baseline "
                f"{parts.baseline:g} for a measure that should {direction}"
            ),
            suggestion=(
                f"set a target {'above' if direction == 'increase' else 'below'} "
                f"the baseline, or check the measure's direction"
            ),
        )
    quotes = [q for q in (parts.baseline_quote, parts.target_quote) if q]
    if parts.reading.maintenance and parts.baseline is None:
        quotes.append("a level to keep")
    measured = what or "the count"
    return SmartVerdict(
        "measurable",
        passed=True,
        reason=f"read {measured}"
        + (f" ({parts.unit})" if parts.unit and parts.unit != measured else "")
        + ": "
        + "; ".join(dict.fromkeys(f"'{q}'" for q in quotes)),
    )


def _check_achievable(definition: GoalDefinition, parts: _Parts) -> SmartVerdict:
    text = parts.reading.text
    failure = (
        _safety_problem(text, parts)
        or _range_problem(parts)
        or _absolute_problem(parts)
        or _pace_problem(definition, parts)
    )
    if failure is not None:
        reason, suggestion = failure
        return SmartVerdict("achievable", passed=False, reason=reason, suggestion=suggestion)
    checked = ["no safety rule applies"]
    if parts.instrument is not None:
        checked.append(f"inside the {parts.instrument.name} range")
    if parts.baseline is not None and parts.target is not None and parts.due_on is not None:
        days = (parts.due_on - definition.start_on).days
        checked.append(
            f"{parts.baseline:g} to {parts.target:g} over {days} days is a plausible pace"
        )
    return SmartVerdict("achievable", passed=True, reason="; ".join(checked))


def _safety_problem(text: str, parts: _Parts) -> tuple[str, str] | None:
    supported = bool(_MEDICAL_SUPPORT.search(text))
    stopping = parts.target == 0 or bool(re.search(r"\b(?:stop|quit|completely|-free)\b", text))
    if _ALCOHOL.search(text) and stopping and not supported and parts.baseline is not None:
        per_day = parts.baseline
        unit = (parts.unit or "") + " " + (parts.baseline_quote or "")
        if "week" in unit:
            per_day = parts.baseline / 7
        if per_day >= HEAVY_DRINKING_UNITS_PER_DAY:
            return (
                (
                    f"stopping from {parts.baseline_quote!r} abruptly is unsafe: after heavy "
                    f"drinking (about {HEAVY_DRINKING_UNITS_PER_DAY:g} units a day or more) "
                    "sudden cessation risks withdrawal seizures and delirium"
                ),
                (
                    "plan a medically supported reduction or detox with the GP or an alcohol "
                    "service, and set the goal around that plan"
                ),
            )
    if _BENZODIAZEPINE.search(text) and stopping and not supported:
        return (
            (
                "stopping a benzodiazepine quickly is unsafe: withdrawal can cause seizures; "
                "doses come down slowly on a taper agreed with the prescriber"
            ),
            (
                "set a gradual taper agreed with the GP or prescriber (for example a small "
                "reduction every two weeks)"
            ),
        )
    calories = _LOW_CALORIES.search(text)
    if calories and float(calories["calories"]) < MIN_DAILY_CALORIES:
        return (
            (
                f"'{calories.group(0)}' is below about {MIN_DAILY_CALORIES} kcal a day, a diet "
                "that is unsafe without medical supervision"
            ),
            "aim for regular, balanced meals and a slower change agreed with the GP",
        )
    weight_unit = (parts.unit or "").lower()
    if (
        parts.baseline is not None
        and parts.target is not None
        and parts.due_on is not None
        and weight_unit in _KG_PER_UNIT
    ):
        weeks = max((parts.due_on - parts.start_on).days / 7, 1 / 7)
        per_week = abs(parts.target - parts.baseline) * _KG_PER_UNIT[weight_unit] / weeks
        if per_week > SAFE_WEIGHT_CHANGE_KG_PER_WEEK:
            return (
                (
                    f"a weight change of {per_week:.1f} kg a week is faster than the "
                    f"{SAFE_WEIGHT_CHANGE_KG_PER_WEEK:g} kg a week that is safe without "
                    "medical supervision"
                ),
                "allow more time (about 0.5 to 1 kg a week), or agree the goal with the GP",
            )
    return None


_KG_PER_UNIT: Final = {
    "kg": 1.0, "kilo": 1.0, "kilos": 1.0, "lb": 0.454, "lbs": 0.454, "pounds": 0.454,
    "stone": 6.35,
}  # fmt: skip


def _range_problem(parts: _Parts) -> tuple[str, str] | None:
    low, high, name = _scale(parts)
    if low is None or high is None:
        return None
    for label, value in (("baseline", parts.baseline), ("target", parts.target)):
        if value is None or math.isnan(value):
            continue
        if value < low or value > high:
            side = "above the maximum" if value > high else "below the minimum"
            return (
                (
                    f"a {name} {label} of {value:g} is {side} of the scale "
                    f"({low:g} to {high:g}), so it cannot be a score"
                ),
                f"check the {label}: {name} scores run from {low:g} to {high:g}",
            )
    return None


def _scale(parts: _Parts) -> tuple[float | None, float | None, str]:
    if parts.instrument is not None:
        return parts.instrument.minimum, parts.instrument.maximum, parts.instrument.name
    unit = parts.unit or ""
    if unit.startswith("out of "):
        return 0.0, float(unit.removeprefix("out of ")), "rating"
    if unit == "%":
        return 0.0, 100.0, "percentage"
    return None, None, ""


def _absolute_problem(parts: _Parts) -> tuple[str, str] | None:
    # "Everything" makes a wish unspecific, not unrealistic.
    absolutes = [word for word in parts.reading.absolutes if word != "everything"]
    if not absolutes:
        return None
    return (
        (
            f"'{absolutes[0]}' is an all-or-nothing aim: setbacks are expected, and one "
            "lapse would count as failure"
        ),
        "aim for less often, or for coping better when it happens, rather than never or always",
    )


def _pace_problem(definition: GoalDefinition, parts: _Parts) -> tuple[str, str] | None:
    baseline, target, due_on = parts.baseline, parts.target, parts.due_on
    if baseline is None or target is None or math.isnan(target) or due_on is None:
        return None
    days = (due_on - definition.start_on).days
    if not MIN_HORIZON_DAYS <= days <= MAX_HORIZON_DAYS:
        return None  # Time-bound says the date is wrong; the pace would be judged on it
    weeks = max(days / 7, 1 / 7)
    change = abs(target - baseline)
    low, high, name = _scale(parts)
    if low is not None and high is not None:
        allowed = (high - low) * MAX_INSTRUMENT_WEEKLY_SHARE
        what = f"a tenth of the {name} range"
    else:
        allowed = max(
            MIN_WEEKLY_STEP,
            MAX_WEEKLY_RELATIVE_CHANGE * abs(baseline),
            MAX_WEEKLY_TARGET_SHARE * abs(target),
        )
        what = (
            f"{MAX_WEEKLY_RELATIVE_CHANGE:.0%} of the baseline, {MAX_WEEKLY_TARGET_SHARE:.0%} "
            f"of the target or {MIN_WEEKLY_STEP:g} a week"
        )
    weekly = change / weeks
    if weekly <= allowed + 1e-9:
        return None
    sign = 1 if target > baseline else -1
    step = baseline + sign * allowed * weeks
    return (
        (
            f"a change from {baseline:g} to {target:g} in {days} days is {weekly:.2g} per week; "
            f"more than {what} ({allowed:.2g}) is rarely sustained"
        ),
        (
            f"aim for a smaller step first, or allow more time: for example a target of "
            f"{round(step, 1):g} by the same date, or about {change / allowed:.0f} weeks for "
            "the whole change"
        ),
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
        hits = len(_area_words(area, text))
        if hits and (best is None or hits > best[0]):
            best = (hits, area)
    if best is None:
        # A practice may be all that ties a goal to therapy ("... by practising mindfulness").
        if aim != statement:
            return infer_area(statement[len(aim) :], extra)
        return None
    area_name: GoalArea = best[1]  # type: ignore[assignment]  # one of GOAL_AREAS
    return area_name


def _area_words(area: str, text: str) -> list[str]:
    return [keyword for keyword in _AREA_KEYWORDS[area] if _AREA_PATTERNS[keyword].search(text)]


def _check_relevant(
    definition: GoalDefinition, parts: _Parts, concerns: tuple[str, ...]
) -> SmartVerdict:
    text = parts.reading.text
    area = definition.area or infer_area(text)
    if area is None:
        return SmartVerdict(
            "relevant",
            passed=False,
            reason="read nothing that ties it to one of the four goal areas (symptom relief, "
            "behavioural change, relationships, personal growth)",
            suggestion="say which area the goal serves or what it is for (for example 'to lift "
            "my mood'), or link it to a presenting concern",
        )
    if concerns:
        statement_words = {word for word in _words(text) if len(word) >= 4}
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
    words = _area_words(area, text)
    read = f" (read '{words[0]}')" if words and definition.area is None else ""
    return SmartVerdict("relevant", passed=True, reason=f"serves the goal area {area}{read}")


def _stems(words: set[str]) -> set[str]:
    return {word[:4] for word in words}


def _check_time_bound(definition: GoalDefinition, parts: _Parts) -> SmartVerdict:
    if parts.due_on is None:
        vague = parts.reading.vague_time
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"read '{vague}', which is not a date" if vague else "read no due date",
            suggestion="agree when the goal should be reached, for example 'within 6 weeks', "
            "'over the next 8 sessions' or 'by 30 June'",
        )
    days = (parts.due_on - definition.start_on).days
    read = f"read '{parts.due_quote}': " if parts.due_quote else ""
    if days < MIN_HORIZON_DAYS:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"{read}due in {days} days: too soon for change to be observed",
            suggestion="allow at least a week, so that more than one measurement is possible",
        )
    if days > MAX_HORIZON_DAYS:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"{read}due in {days} days: too far away to steer therapy by",
            suggestion="set an intermediate goal due within a year, and review it on the way",
        )
    return SmartVerdict(
        "time-bound",
        passed=True,
        reason=f"{read}due on {parts.due_on.isoformat()} ({days} days)",
    )


def evaluate_smart(
    definition: GoalDefinition,
    concerns: Iterable[str] = (),
    *,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> SmartReport:
    """Evaluate a goal definition against the five SMART letters.

    ``concerns`` are the episode's presenting concerns; when given, a goal
    whose area is not set explicitly must mention one of them to be Relevant.
    ``instruments`` are the instruments a statement may name (from the plugin
    registry, passed in by the caller); ``session_interval_days`` is the
    episode's session cadence, for time frames counted in sessions.
    """
    concern_tuple = tuple(concerns)
    parts = _parts(definition, tuple(instruments), session_interval_days)
    return SmartReport(
        specific=_check_specific(definition, parts),
        measurable=_check_measurable(parts),
        achievable=_check_achievable(definition, parts),
        relevant=_check_relevant(definition, parts, concern_tuple),
        time_bound=_check_time_bound(definition, parts),
    )


def evaluate_statement(
    statement: str,
    start_on: date,
    concerns: Iterable[str] = (),
    *,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> SmartReport:
    """Evaluate a statement on its own: :func:`draft_definition`, then :func:`evaluate_smart`."""
    instrument_tuple = tuple(instruments)
    definition = draft_definition(
        statement,
        start_on,
        instruments=instrument_tuple,
        session_interval_days=session_interval_days,
    )
    return evaluate_smart(
        definition,
        concerns,
        instruments=instrument_tuple,
        session_interval_days=session_interval_days,
    )


def draft_definition(
    statement: str,
    start_on: date,
    *,
    measure: Measure | None = None,
    target: Target | None = None,
    area: GoalArea | None = None,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> GoalDefinition:
    """Build a goal definition from a statement, reading what it says about numbers and time.

    A statement such as "reduce my panic attacks from 3 to 1 per week within 6
    weeks" gives a measure (panic attacks, per week, decrease), a baseline of
    3, a target of 1 and a due date six weeks after ``start_on``. Anything
    given explicitly wins over what is read from the text. A target is drafted
    only when a baseline, a target and a due date are all read and valid for
    the measure; otherwise SMART feedback says what is missing.
    """
    reading = read_statement(
        statement,
        start_on,
        instruments=instruments,
        session_interval_days=session_interval_days,
    )
    if measure is None:
        measure = _drafted_measure(reading)
    if target is None and measure is not None:
        target = _drafted_target(reading, start_on, measure)
    practices: tuple[str, ...] = ()
    by_practice = re.search(r"\bby\s+(practi[sc]ing\s+[^.,;]+)", statement, re.IGNORECASE)
    if by_practice:
        practices = (by_practice.group(1).strip(),)
    return GoalDefinition(
        statement=statement,
        start_on=start_on,
        measure=measure,
        target=target if measure is not None else None,
        area=area,
        practices=practices,
    )


def _drafted_measure(reading: StatementReading) -> Measure | None:
    if reading.target is None or reading.direction is None:
        return None
    instrument = reading.instrument
    if instrument is not None:
        return Measure(
            name=instrument.name,
            unit=instrument.unit,
            direction=instrument.direction,
            instrument=instrument.code,
            minimum=instrument.minimum,
            maximum=instrument.maximum,
        )
    name = reading.measure or "count"
    unit = reading.unit or "count"
    if name == unit:
        name = f"{name} recorded"
    return Measure(name=name[:200], unit=unit[:100], direction=reading.direction, minimum=0.0)


def _drafted_target(reading: StatementReading, start_on: date, measure: Measure) -> Target | None:
    if reading.baseline is None or reading.target is None or reading.time_frame is None:
        return None
    baseline, value = reading.baseline.value, reading.target.value
    if math.isnan(value) or reading.time_frame.due_on <= start_on:
        return None
    try:
        measure.check_value(baseline)
        measure.check_value(value)
    except GoalpathError:
        return None  # out of the measure's range: Achievable says why
    return Target(baseline=baseline, value=value, due_on=reading.time_frame.due_on)
