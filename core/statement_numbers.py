"""Reading the numbers of a goal statement: baseline, target and threshold forms, and unit.

:func:`read_numbers` reads a statement already normalised by
:func:`goalpath.core.statement_reader.normalise` (lower case, number words
as digits): "from X to Y", "up from", "at least", "no more than", "under",
"below", frequencies ("3 times a week", "daily"), weight changes and
stopping. Every number keeps the words it was read from.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import attrs

__all__ = [
    "ReadNumber",
    "ReadNumbers",
    "TargetForm",
    "measured_thing",
    "read_numbers",
    "unit_of",
]

TargetForm = Literal["to", "at least", "no more than", "under", "keep below", "exactly"]
"""How a target is stated: a value to reach, a floor, or a ceiling (kept, or to get under)."""


@attrs.frozen
class ReadNumber:
    """A number read from the statement, with the words it was read from."""

    value: float
    quote: str


_NUM: Final = r"-?\d+(?:\.\d+)?"
_PERIOD: Final = (
    r"(?:a|per|each|every|an|in a|out of the)\s+(?:day|week|month|fortnight|evening|night|"
    r"morning|session|term|year|meeting)"
)
_ZERO_WORDS: Final = r"never|none|nothing|no|zero|0"
_FREQUENCY_WORDS: Final = {"daily": 7.0, "weekly": 1.0, "fortnightly": 0.5, "monthly": 0.25}

_FROM_TO: Final = re.compile(
    rf"\bfrom\s+(?P<baseline>{_NUM}|{_ZERO_WORDS}|daily|weekly)\b(?P<middle>[^,;()]{{0,60}}?)"
    rf"\s+(?:down\s+|up\s+)?to\s+(?P<form>no more than\s+|under\s+|below\s+|less than\s+|"
    rf"fewer than\s+|at least\s+)?(?P<target>{_NUM}|{_ZERO_WORDS}|1 time|once|full-time|"
    rf"weekends only|half the time|(?:going|running|being)\b[^,;]{{0,40}})"
    rf"(?P<after>[^,;()]{{0,40}})",
)
_UP_DOWN_FROM: Final = re.compile(
    rf"(?:\b(?:up|down|reduced|increased)\s+from|\(currently)\s+(?P<baseline>{_NUM}|{_ZERO_WORDS}|"
    rf"daily|weekly|rarely|1 time|2 times)(?P<rest>[^,;)]{{0,30}})"
)
_THRESHOLD: Final = re.compile(
    rf"\b(?P<form>at least|no more than|not more than|a maximum of|fewer than|less than|under|"
    rf"below|at most)\s+(?P<value>{_NUM})(?P<rest>[^,;]{{0,40}})"
)
_FREQUENCY: Final = re.compile(
    rf"\b(?P<value>{_NUM})\s+(?P<what>(?:[a-z-]+\s+){{0,3}}?)(?P<period>{_PERIOD})\b"
    rf"|\b(?P<value2>{_NUM})\s+(?:[a-z]+\s+){{0,2}}?(?:out\s+)?of\s+(?:the\s+)?(?P<of>\d+)\b"
    r"|\b(?:every|each|on)\s+(?P<weekday>(?:mon|tues|wednes|thurs|fri|satur|sun)day)s?\b"
    r"|\b(?:after|before)\s+(?P<event>each|every)\s+[a-z]+\b"
    rf"|\b(?P<every>every|each)\s+(?P<when>day|morning|evening|night|lunchtime|session|week)\b"
    rf"|\b(?P<daily>daily|twice daily)\b"
)
_TO_VALUE: Final = re.compile(
    r"\b(?:reduce|decrease|lower|bring|get|cut|increase|raise|improve)\b[^,;.()]{0,40}?"
    rf"\b(?:down\s+|up\s+)?to\s+(?P<value>{_NUM})\b(?!\s*(?:%|/|out of))(?P<rest>[^,;]{{0,40}})"
)
_UNIT_WORDS: Final = re.compile(
    r"(?:\s+(?:units?|points?|times?|hours?|minutes?|days?|nights?|kg|"
    r"(?:a|per|each|every)\s+(?:day|week|month|fortnight|evening|night|morning|session)))*"
)
"""The unit words that follow a value ('14 units a week'), to quote a value with its unit."""
"""A value to reach after a verb of change, with no baseline ('reduce my PHQ-9 score to 8')."""
_CHANGE: Final = re.compile(
    rf"\b(?P<verb>lose|gain|put on)\s+(?P<value>{_NUM})\s*(?P<unit>kg|kilos?|lbs?|pounds|stone)\b"
)
_STOP: Final = re.compile(
    r"\b(?:stop|quit|give up|come off|stopping|quitting)\b(?P<what>[^,;]{0,40})"
    r"|\b(?:alcohol|drink|smoke|cannabis|drug)-free\b|\bcompletely\b"
)


def _number(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(_ZERO_WORDS, text):
        return 0.0
    if text in _FREQUENCY_WORDS:
        return _FREQUENCY_WORDS[text]
    if text in ("1 time", "once", "rarely"):
        return 1.0 if text != "rarely" else 0.0
    if text == "2 times":
        return 2.0
    try:
        return float(text)
    except ValueError:
        return None


def unit_of(text: str) -> str | None:
    """The unit of what is counted ('units per week', 'out of 10'), or ``None``."""
    period = re.search(
        r"\b(?:a|per|each|every|in a|an)\s+(day|week|month|fortnight|evening|night|session|term)\b",
        text,
    )
    scale = re.search(r"\bout of (10|100)\b", text)
    for word, unit in (
        (r"units?", "units"), (r"hours?", "hours"), (r"minutes?", "minutes"), (r"kg|kilos?", "kg"),
        (r"mg", "mg"), (r"cups?", "cups"), (r"cigarettes?", "cigarettes"), (r"%", "%"),
        (r"days?", "days"), (r"nights?", "nights"), (r"times?", "times"),
    ):  # fmt: skip
        if re.search(rf"(?:\d|\b)(?:{word})(?:\b|$)", text):
            base = unit
            break
    else:
        base = None
    if scale:
        return f"out of {scale.group(1)}"
    if period:
        return f"{base or 'times'} per {period.group(1)}"
    return base


@attrs.frozen
class ReadNumbers:
    """The numbers of a statement: baseline, target, how the target is stated, unit, measure.

    ``frequency`` is the first frequency read ('3 times a week'), which may
    also say how often the behaviour happens.
    """

    baseline: ReadNumber | None = None
    target: ReadNumber | None = None
    form: TargetForm | None = None
    unit: str | None = None
    measure: str | None = None
    frequency: re.Match[str] | None = None


_PER_WEEK: Final = {
    "day": 7.0, "evening": 7.0, "night": 7.0, "morning": 7.0, "week": 1.0, "fortnight": 0.5,
    "month": 12 / 52, "term": 1 / 13, "year": 1 / 52,
}  # fmt: skip
"""How many of each period there are in a week, to compare a baseline and a target."""


def _period(text: str) -> str | None:
    if re.search(r"\b(?:daily|every day|each day)\b", text):
        return "day"
    if re.search(r"\bweekly\b", text):
        return "week"
    found = re.search(r"\b(?:a|per|each|every|in a|an)\s+(" + "|".join(_PER_WEEK) + r")\b", text)
    return found.group(1) if found else None


def _frequency(text: str) -> re.Match[str] | None:
    """The first frequency that counts occurrences rather than a duration ('15 minutes a day')."""
    first = None
    for match in _FREQUENCY.finditer(text):
        first = first or match
        if not re.search(r"\b(?:minutes?|hours?)\b", match["what"] or ""):
            return match
    return first


def _frequency_value(match: re.Match[str]) -> float:
    value = match["value"] or match["value2"]
    if value is None or re.search(r"\b(?:minutes?|hours?)\b", match["what"] or ""):
        return 1.0  # 'each evening', 'every saturday', '10 minutes a day': once a period
    return float(value)


def _from_to_numbers(from_to: re.Match[str], text: str) -> ReadNumbers:
    base_value = _number(from_to["baseline"])
    target_text = from_to["target"]
    target_value = _number(target_text)
    named = {"full-time": 37.5, "weekends only": 2.0, "half the time": 50.0}
    if target_text in named:
        target_value = named[target_text]
    elif re.search(r"\b(?:every day|daily)\b", target_text):
        target_value = 7.0
    middle, after = from_to["middle"], from_to["after"]
    # "from 3 hours to 30 minutes": both in minutes.
    if (
        base_value is not None
        and re.search(r"\bhours?\b", middle)
        and re.search(r"\bminutes?\b", after)
    ):
        base_value *= 60
    if from_to["baseline"] == "daily" and "week" in (after or ""):
        base_value = 7.0
    baseline = None
    if base_value is not None:
        baseline = ReadNumber(base_value, from_to.group(0).split(" to ")[0].strip())
    target = None
    if target_value is not None or target_text.startswith(("going", "running", "being")):
        value = target_value if target_value is not None else float("nan")
        said = from_to.string[from_to.start() : from_to.end("target")]
        unit_words = _UNIT_WORDS.match(after or "")
        target = ReadNumber(value, (said + (unit_words.group(0) if unit_words else "")).strip())
    raw_form = (from_to["form"] or "").strip()
    measure = None
    stripped = middle.strip()
    if stripped and not re.match(r"^(?:a|per|each|every)\b", stripped):
        measure = re.sub(r"\s+(?:a|per|each|every)\s+\w+$", "", stripped)
    return ReadNumbers(
        baseline=baseline,
        target=target,
        form=_form(raw_form) if raw_form else "to",
        unit=unit_of(middle + " " + after) or unit_of(text),
        measure=measure,
        frequency=_frequency(text),
    )


def read_numbers(text: str) -> ReadNumbers:
    """Read the baseline, target and threshold forms of a normalised statement."""
    from_to = _FROM_TO.search(text)
    if from_to:
        found = _from_to_numbers(from_to, text)
        if found.target is not None:
            return found
    frequency = _frequency(text)
    target: ReadNumber | None = None
    form: TargetForm | None = None
    unit: str | None = None
    measure: str | None = None
    baseline: ReadNumber | None = None
    threshold = _THRESHOLD.search(text)
    to_value = _TO_VALUE.search(text)
    change = _CHANGE.search(text)
    stop = _STOP.search(text)
    if threshold:
        target = ReadNumber(float(threshold["value"]), threshold.group(0).strip())
        form = _form(threshold["form"])
        unit = unit_of(threshold["rest"]) or unit_of(text)
    elif to_value:
        unit_words = _UNIT_WORDS.match(to_value["rest"])
        quote = f"to {to_value['value']}" + (unit_words.group(0) if unit_words else "")
        target = ReadNumber(float(to_value["value"]), quote)
        form = "to"
        unit = unit_of(to_value["rest"]) or unit_of(text)
    elif change:
        target = ReadNumber(float(change["value"]), change.group(0))
        baseline = ReadNumber(0.0, change.group(0))
        form, unit = "to", change["unit"]
        measure = f"weight {'lost' if change['verb'] == 'lose' else 'gained'}"
    elif stop:
        target, form = ReadNumber(0.0, stop.group(0).strip()), "to"
    elif frequency:
        target = ReadNumber(_frequency_value(frequency), frequency.group(0).strip())
        form = "to"
        unit = unit_of(frequency.group(0)) or "times per day"
    if baseline is None:
        baseline = _baseline(text, target)
    return ReadNumbers(baseline, target, form, unit, measure, frequency)


_LONE_FROM: Final = re.compile(rf"\bfrom\s+(?P<baseline>{_NUM})\b(?!\s*(?:to|-))")


def _baseline(text: str, target: ReadNumber | None) -> ReadNumber | None:
    up_down = _UP_DOWN_FROM.search(text)
    if up_down is None:
        lone = _LONE_FROM.search(text)
        return None if lone is None else ReadNumber(float(lone["baseline"]), lone.group(0))
    value = _number(up_down["baseline"])
    if value is None:
        return None
    if target is not None:
        # "at least 1 a week, up from 1 a month": both per week.
        target_period = _period(target.quote)
        base_period = _period(up_down["baseline"] + up_down["rest"])
        if target_period and base_period and target_period != base_period:
            value = value * _PER_WEEK[base_period] / _PER_WEEK[target_period]
    rest = up_down["rest"]
    unit_words = _UNIT_WORDS.match(rest)
    said = up_down.group(0)[: len(up_down.group(0)) - len(rest)]
    return ReadNumber(value, (said + (unit_words.group(0) if unit_words else "")).strip(" ("))


def _form(text: str) -> TargetForm:
    text = text.strip()
    if text in ("at least",):
        return "at least"
    if text in ("no more than", "not more than", "a maximum of", "at most"):
        return "no more than"
    return "under"


_THING: Final = re.compile(
    r"\b(?:reduce|decrease|increase|cut|lower|raise|bring|get|improve|limit|keep)\s+(?:down\s+)?"
    r"(?:my\s+|the\s+|his\s+|her\s+|their\s+|our\s+)?(?P<thing>[a-z][a-z\- ']{2,40}?)\s+"
    r"(?:from|to|by|below|under|within|in|at|no)\b"
    r"|\b\d+\s+(?P<counted>(?:[a-z-]+\s+){0,2}?(?:[a-z-]+?s))\s+(?:a|per|each|every)\b"
)


def measured_thing(text: str) -> str | None:
    """What is counted or changed ('panic attacks', 'my drinking'), or ``None``."""
    match = _THING.search(text)
    if match is None:
        return None
    thing = match.group("thing") or match.group("counted")
    return thing.strip() if thing else None
