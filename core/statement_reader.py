"""Reading a goal statement: behaviour, situation, measure, numbers and time frame.

:func:`read_statement` is a pure function from a statement (and the start
date, the known instruments and the session cadence) to a typed
:class:`StatementReading`. Every part it reads keeps the words it was read
from (``quote``), so that SMART reasons can say what was read.

Number words are turned into digits with text2num (``eleven`` becomes 11);
dates are read by a few cheap patterns first (ISO, ``15/03``, ``15 March``,
``March 15th``, month names, holidays, relative spans, session counts) and
only a ``by ...`` phrase that none of them reads is handed to dateparser,
which is thorough but about a millisecond a call.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Final, Literal

import attrs
from dateutil.easter import easter  # type: ignore[import-untyped]  # no stubs installed
from text_to_num import text2num  # type: ignore[import-untyped]  # the package ships no types

from goalpath.core.values import Direction

__all__ = [
    "InstrumentFacts",
    "ReadNumber",
    "ReadTimeFrame",
    "StatementReading",
    "TargetForm",
    "clear_caches",
    "normalise",
    "read_statement",
]

TargetForm = Literal["to", "at least", "no more than", "under", "keep below", "exactly"]
"""How a target is stated: a value to reach, a floor, or a ceiling (kept, or to get under)."""


@attrs.frozen
class InstrumentFacts:
    """What the reader and SMART need to know of a standard instrument, passed in as data.

    The caller (application or command line) builds these from the plugin
    registry; the domain never imports plugins. ``aliases`` are other names
    the instrument is written as (``Patient Health Questionnaire``).
    """

    code: str
    name: str
    unit: str
    direction: Direction
    minimum: float
    maximum: float
    reliable_change: float | None = None
    aliases: tuple[str, ...] = ()


@attrs.frozen
class ReadNumber:
    """A number read from the statement, with the words it was read from."""

    value: float
    quote: str


@attrs.frozen
class ReadTimeFrame:
    """A due date read from the statement: the date and the words it was resolved from."""

    due_on: date
    quote: str


@attrs.frozen
class StatementReading:
    """Everything :func:`read_statement` found in one statement; ``None`` where nothing was read.

    ``behaviour`` and ``situation`` quote the action and when, where, how
    often or by what means it happens; ``wish`` quotes a wish or feeling
    stated instead of a behaviour. ``measure`` and ``unit`` say what is
    counted or rated, ``instrument`` the standard instrument recognised.
    ``baseline`` and ``target`` are the numbers read, ``target_form`` how the
    target is stated, ``maintenance`` whether the goal keeps a level already
    reached. ``time_frame`` is the due date; ``vague_time`` quotes words
    about time that give no date (``eventually``). ``absolutes`` quotes
    all-or-nothing aims (``never ... again``, ``all the time``).
    """

    statement: str
    behaviour: str | None = None
    situation: str | None = None
    wish: str | None = None
    measure: str | None = None
    unit: str | None = None
    instrument: InstrumentFacts | None = None
    direction: Direction | None = None
    baseline: ReadNumber | None = None
    target: ReadNumber | None = None
    target_form: TargetForm | None = None
    maintenance: bool = False
    time_frame: ReadTimeFrame | None = None
    vague_time: str | None = None
    absolutes: tuple[str, ...] = ()
    text: str = ""
    """The statement as read: lower case, spelling and number words normalised."""


# -- normalising -------------------------------------------------------------------

_NUMBER_WORDS: Final = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
]
_NUMBER_RUN: Final = re.compile(
    r"\b(?:"
    + "|".join(_NUMBER_WORDS)
    + r")(?:[\s-]+(?:and\s+)?(?:"
    + "|".join(_NUMBER_WORDS)
    + r"))*\b"
)
_TYPOS: Final = {
    "teh": "the", "wihtin": "within", "withing": "within", "whithin": "within",
    "panick": "panic", "anxeity": "anxiety", "anxiousness": "anxiety", "freinds": "friends",
    "practisng": "practising", "practicing": "practising", "wks": "weeks", "wk": "week",
    "mins": "minutes", "hrs": "hours", "hr": "hour", "w/": "with", "x/week": "times a week",
}  # fmt: skip
"""Common slips in typed statements, read as the word meant."""

_SPELLING: Final = (
    (re.compile(r"\b([a-z]{3,}?)iz(e|ed|es|ing|ation|ations)\b"), r"\1is\2"),
    (re.compile(r"\b(behavi|fav|col|hum|neighb|harb|hon)or(s|ed|ite|ites|al)?\b"), r"\1our\2"),
    (re.compile(r"\bcent(er)(s)?\b"), r"centre\2"),
    (re.compile(r"\bcounselor"), "counsellor"),
    (re.compile(r"\bpractic(e|es|ed|ing)\b"), r"practis\1"),
    (re.compile(r"\b(anal|paral|catal)yz(e|ed|es|ing)\b"), r"\1ys\2"),
    (re.compile(r"\bprogram(s)?\b"), r"programme\1"),
    (re.compile(r"\b(travel|cancel|model|label|counsel|fuel|signal)(ed|ing|er|ers)\b"), r"\1l\2"),
    (re.compile(r"\bjudgment(s)?\b"), r"judgement\1"),
    (re.compile(r"\bdefense(s)?\b"), r"defence\1"),
    (re.compile(r"\bgray\b"), "grey"),
    (re.compile(r"\bmom(s)?\b"), r"mum\1"),
    (re.compile(r"\b(\d+)x\b"), r"\1 times"),
    (re.compile(r"\b(\d+(?:\.\d+)?)\s*-+>\s*(\d+(?:\.\d+)?)"), r"from \1 to \2"),
)
"""American spellings read as British ones, so that both get the same verdicts."""


def _to_digits(match: re.Match[str]) -> str:
    words = match.group(0)
    try:
        return str(text2num(words.replace("-", " "), "en"))
    except ValueError:
        return words


@lru_cache(maxsize=4096)
def normalise(statement: str) -> str:
    """The statement in lower case, with number words as digits and spellings unified."""
    text = statement.lower().replace("\u2019", "'")  # a typographic apostrophe
    text = re.sub(r"[a-z/]+", lambda m: _TYPOS.get(m.group(0), m.group(0)), text)
    for pattern, replacement in _SPELLING:
        text = pattern.sub(replacement, text)
    text = _NUMBER_RUN.sub(_to_digits, text)
    text = re.sub(r"\bonce\b", "1 time", text)
    return re.sub(r"\btwice\b", "2 times", text)


def clear_caches() -> None:
    """Forget every statement read so far (for benchmarks that time a first reading)."""
    normalise.cache_clear()
    _read.cache_clear()


# -- numbers -----------------------------------------------------------------------

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
_MAINTAIN: Final = re.compile(r"\b(?:keep|stay|maintain|carry on|continue)\b")
_RATING: Final = re.compile(rf"\b(?:{_NUM})\s*(?:out of|/)\s*(?P<scale>10|100)\b|\b{_NUM}\s*%")


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


def _unit_of(text: str) -> str | None:
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


# -- time --------------------------------------------------------------------------

_MONTHS: Final = (
    {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
    | {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)
_MONTH: Final = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b\.?"
_LEAD: Final = r"\b(?:by|before|until|till|on or before|no later than|for)\s+(?:the\s+)?"
_DAY: Final = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR: Final = r"(?:,?\s+(?P<year>\d{4}))?"
_DATE_PATTERNS: Final = (
    re.compile(_LEAD + r"(?P<iso>\d{4}-\d{2}-\d{2})\b"),
    re.compile(_LEAD + r"(?P<first>\d{1,2})/(?P<second>\d{1,2})(?:/(?P<year>\d{2,4}))?\b"),
    re.compile(_LEAD + _DAY + r"(?:\s+of)?\s+" + _MONTH + _YEAR),
    re.compile(_LEAD + _MONTH + r"\s+" + _DAY + r"\b" + _YEAR),
    re.compile(_LEAD + r"(?P<part>end of|middle of|mid-|start of|beginning of)?\s*(?:the\s+)?"
               + _MONTH + r"(?:\s+(?P<year>\d{4}))?"),
)  # fmt: skip
_SPAN: Final = re.compile(
    r"\b(?:within|in|over|for|during|after|across)\s+(?:the\s+)?(?:next\s+|coming\s+|following\s+)?"
    r"(?:(?P<count>\d+(?:\.\d+)?)\s*-?\s*|an?\s+|(?<=next )|(?<=coming )|(?<=following ))"
    r"(?P<span>day|week|fortnight|month|year)s?\b"
    r"|\b(?P<count2>\d+)-(?P<span2>day|week|month)\s+(?:course|programme|block|plan|group)\b"
)
_SESSIONS: Final = re.compile(
    r"\b(?:(?:over|in|within|for|during|across|of|by the end of)\s+)?"
    r"(?:the\s+next\s+|our\s+|the\s+|next\s+)"
    r"(?P<count>\d+)\s+(?:weekly\s+|more\s+)?sessions\b"
    r"|\bby\s+session\s+(?P<number>\d+)\b"
)
_NAMED_TIMES: Final = re.compile(
    _LEAD + r"(?P<name>christmas eve|christmas|xmas|new year'?s? eve|new year|the new year|easter|"
    r"halloween|valentine'?s day|bonfire night|thanksgiving|the summer holidays|summer holidays|"
    r"the summer term|summer term|the summer|summer|the autumn|autumn|the spring|spring|"
    r"the end of (?:the )?(?:school )?(?:term|school year|academic year)|end of (?:the )?term|"
    r"the end of (?:this |the )?year|end of (?:this |the )?year|the end of (?:this |the )?month|"
    r"end of (?:this |the )?month|the end of (?:this |next )?week|next week|this year|"
    r"my review in \d+ weeks)\b"
    r"|\b(?P<bare>this year)\b"
)
_VAGUE_TIME: Final = re.compile(
    r"\b(eventually|as soon as possible|asap|one day|some ?day|someday|in the future|soon|"
    r"before (?:our|my|the) (?:sessions|therapy|treatment) (?:end|ends|finish|finishes)|"
    r"when (?:therapy|treatment) ends|in the long run|at some point)\b"
)
_DATEPARSER_CANDIDATE: Final = re.compile(
    r"\b(?:by|before|until)\s+(?P<phrase>(?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|\d{1,2}\.\d{1,2}(?:\.\d{2,4})?)[^,;]{0,20})"
)
_SPAN_DAYS: Final = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}


def _next_on_or_after(start_on: date, month: int, day: int) -> date | None:
    for year in (start_on.year, start_on.year + 1):
        try:
            candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
        except ValueError:
            return None
        if candidate > start_on:
            return candidate
    return None


def _named_time(name: str, start_on: date) -> date | None:  # noqa: PLR0911  # one return per kind of name
    name = name.removeprefix("the ")
    review = re.search(r"(\d+) weeks", name)
    if review:
        return start_on + timedelta(weeks=int(review.group(1)))
    if name in _FIXED_DAYS:
        return _next_on_or_after(start_on, *_FIXED_DAYS[name])
    if name in ("new year", "new years"):
        return date(start_on.year + 1, 1, 1)
    if name == "easter":
        this_year: date = easter(start_on.year)
        next_year: date = easter(start_on.year + 1)
        return this_year if this_year > start_on else next_year
    if name == "thanksgiving":
        return _thanksgiving(start_on)
    if "month" in name:
        return date(
            start_on.year, start_on.month, calendar.monthrange(start_on.year, start_on.month)[1]
        )
    if "week" in name:
        return start_on + timedelta(days=(6 - start_on.weekday()) + (7 if "next" in name else 0))
    if "school year" in name or "academic year" in name:
        return _next_on_or_after(start_on, 7, 20)
    if "term" in name:
        ends = [_next_on_or_after(start_on, month, day) for month, day in _TERM_ENDS]
        return min((end for end in ends if end is not None), default=None)
    if "year" in name:
        return date(start_on.year, 12, 31)
    return None


_FIXED_DAYS: Final = {
    "christmas": (12, 25), "xmas": (12, 25), "christmas eve": (12, 24), "halloween": (10, 31),
    "new year's eve": (12, 31), "new years eve": (12, 31), "new year eve": (12, 31),
    "valentine's day": (2, 14), "valentines day": (2, 14), "bonfire night": (11, 5),
    "summer holidays": (7, 20), "summer term": (4, 20), "summer": (6, 21), "autumn": (9, 22),
    "spring": (3, 20),
}  # fmt: skip
"""Named days and seasons, resolved to their next date after the start (UK school dates)."""

_TERM_ENDS: Final = ((3, 31), (7, 20), (12, 18))
"""Approximate ends of the UK school terms, for 'by the end of term'."""


def _thanksgiving(start_on: date) -> date | None:
    for year in (start_on.year, start_on.year + 1):
        thursdays = [week[3] for week in calendar.monthcalendar(year, 11) if week[3]]
        candidate = date(year, 11, thursdays[3])
        if candidate > start_on:
            return candidate
    return None


def _absolute_date(match: re.Match[str], start_on: date) -> date | None:
    groups = match.groupdict()
    try:
        if groups.get("iso"):
            return date.fromisoformat(groups["iso"])
        year_text = groups.get("year")
        year = None if not year_text else int(year_text) + (2000 if len(year_text) == 2 else 0)
        if groups.get("first"):
            first, second = int(groups["first"]), int(groups["second"])
            # British order (day first) unless only the American one is a date.
            day, month = (second, first) if first <= 12 < second else (first, second)
        elif groups.get("month"):
            month = _MONTHS[groups["month"].rstrip(".")]
            part = groups.get("part")
            if groups.get("day"):
                day = int(groups["day"])
            elif part in ("middle of", "mid-"):
                day = 15
            elif part in ("start of", "beginning of"):
                day = 1
            else:
                day = 31  # a month named alone, or its end
        else:
            return None
        if year is not None:
            return date(year, month, min(day, calendar.monthrange(year, month)[1]))
        return _next_on_or_after(start_on, month, day)
    except (ValueError, KeyError, OverflowError):
        return None


def _read_time(  # noqa: PLR0912  # one loop per kind of time frame
    text: str, start_on: date, session_interval_days: int
) -> tuple[ReadTimeFrame | None, str | None]:
    found: list[tuple[int, ReadTimeFrame]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            due = _absolute_date(match, start_on)
            if due is not None:
                found.append((match.start(), ReadTimeFrame(due, match.group(0).strip())))
    for match in _NAMED_TIMES.finditer(text):
        name = match.group("name") or match.group("bare")
        named = _named_time(name, start_on)
        if named is not None:
            found.append((match.start(), ReadTimeFrame(named, match.group(0).strip())))
    for match in _SESSIONS.finditer(text):
        count = int(match.group("count") or match.group("number"))
        due = _shift(start_on, count * session_interval_days)
        if due is not None:
            found.append((match.start(), ReadTimeFrame(due, match.group(0).strip())))
    for match in _SPAN.finditer(text):
        count_text = match.group("count") or match.group("count2")
        spans = float(count_text) if count_text else 1.0
        span = match.group("span") or match.group("span2")
        due = _shift(start_on, round(spans * _SPAN_DAYS[span]))
        if due is not None:
            found.append((match.start(), ReadTimeFrame(due, match.group(0).strip())))
    if not found:
        for match in _DATEPARSER_CANDIDATE.finditer(text):
            parsed = _parse_with_dateparser(match.group("phrase"), start_on)
            if parsed is not None:
                found.append((match.start(), ReadTimeFrame(parsed, match.group(0).strip())))
    vague = _VAGUE_TIME.search(text)
    if found:
        return min(found, key=lambda item: item[0])[1], None
    return None, vague.group(0) if vague else None


def _shift(start_on: date, days: int) -> date | None:
    try:
        return start_on + timedelta(days=days)
    except OverflowError:
        return None


def _parse_with_dateparser(phrase: str, start_on: date) -> date | None:
    import datetime  # noqa: PLC0415  # only for dateparser's base time

    import dateparser  # type: ignore[import-untyped]  # noqa: PLC0415  # slow to import and to call: only when no pattern reads

    parsed = dateparser.parse(
        phrase,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            # A calendar day, not an instant: dateparser compares naive datetimes.
            "RELATIVE_BASE": datetime.datetime(  # noqa: DTZ001
                start_on.year, start_on.month, start_on.day
            ),
            "DATE_ORDER": "DMY",
        },
    )
    return None if parsed is None else parsed.date()


# -- behaviour, situation, wish ----------------------------------------------------

_ACTION_STEMS: Final = (
    "analys", "priorit", "attend", "volunteer",
    "reduc", "increas", "practis", "attend", "complet", "walk", "call", "phone", "ring", "text",
    "record", "write", "writ", "use", "go", "going", "spend", "do", "meet", "exercis", "sleep",
    "limit", "stop", "start", "keep", "join", "express", "speak", "say", "ask", "notic",
    "recognis", "name", "identif", "schedul", "plan", "return", "apply", "read", "eat", "drink",
    "cut", "replac", "shar", "invit", "listen", "meditat", "rate", "log", "track", "fac",
    "approach", "enter", "visit", "travel", "work", "study", "finish", "climb", "describ",
    "socialis", "check", "prais", "rais", "lower", "decreas", "bring", "talk", "tell", "hug",
    "play", "cook", "swim", "run", "jog", "drive", "fly", "sit", "stay", "challeng", "argu",
    "shout", "argue", "spend", "lose", "challenge", "label", "organis", "finalis", "postpon",
    "take", "smok", "binge", "self-harm", "harm", "wash", "tidy", "repaint", "learn", "sav",
    "breath", "explor", "accept", "commun", "leav", "eat", "get out", "bed", "help", "mov",
    "reconnect", "connect", "wake", "rid", "breastfe", "look", "pull", "switch", "tak",
    "limit", "delay", "ris", "stand", "greet", "volunteer", "dance", "sing", "pray", "draw",
    "paint", "garden", "clean", "shop", "queue", "present", "contribut", "assert", "refus",
    "decline", "apologis", "forgiv", "grieve", "journal", "tally", "count", "carry", "maintain",
    "follow", "sort", "collect", "pick", "send", "post", "open", "answer", "respond", "wait",
)  # fmt: skip
_NOT_ACTIONS: Final = frozenset(
    {"feel", "feeling", "be", "become", "want", "wish", "hope", "get", "have", "make", "find",
     "deal", "improve", "develop", "understand", "try", "sort", "goal", "good", "better"}
)  # fmt: skip
_DETERMINERS: Final = frozenset(
    {"at", "my", "the", "a", "an", "of", "for", "from", "in", "your", "our", "his", "her", "their"}
)
"""A word after these is a noun ('at work', 'my walk'), not the behaviour."""

_MEANS: Final = re.compile(
    r"\b(?:through|using|with|via|by doing|weeks? of|sessions? of|course of)\s+"
    r"(?:my\s+|the\s+|a\s+|weekly\s+|daily\s+)?[a-z-]+(?:\s+[a-z-]+){0,3}"
)
"""A treatment or practice named as the means ('through behavioural activation')."""

_WISH: Final = re.compile(
    r"\b(?:want(?:s|ed)? to (?:be|feel)|wish|hope|feel(?:ing)?|be (?:more|less|a|an|"
    r"happier|happy|calmer|calm|kinder|better|normal|ok|okay|confident|present|mindful|"
    r"completely)|become|get (?:better|on better)|sort (?:my|out)|deal with|work (?:on|through)|"
    r"find some|everything|better relationships)\b[^,;.]{0,40}"
)
_SITUATION: Final = re.compile(
    r"\b(?:when(?:ever)?|if|after|before (?!the end|our sessions|my review)|during (?!the next)|"
    r"instead of|using|use|with (?:my|a|an|the|friends|nicotine|interoceptive|weekly|paced|"
    r"grounding|regular|exposure)|through|by (?:practis|using|doing|going|keeping|planning|"
    r"walking|eating|leaving|switching|talking|riding|postponing|following|not|cutting|"
    r"scheduling|continuing|joining)\w*|by (?!(?:spring|morning|evening|nothing|something)\b)"
    r"[a-z]+ing\b|via|following|as part of|at (?:work|home|school|the|my|"
    r"night|\d)|in (?:the|my|each|every|our|session|shops|conversations)\b|on (?:my own|weekends|"
    r"saturday|sunday|monday|tuesday|wednesday|thursday|friday|\d+ (?:days|evenings|nights|"
    r"mornings))|alone|outside|outdoors|each (?:time|evening|morning|night|session|day)|every "
    r"(?:time|evening|morning|night|day|session|lunchtime)|daily|each day|to (?:the|town|a|my)|"
    r"from (?:school|work)|out with|for \d+ minutes|\d+ minutes|"
    r"(?<!within )(?<!in )(?<!for )(?:each|every|per|a) (?:week|month|fortnight))\b[^,;.]{0,40}"
)
_ABSOLUTES: Final = re.compile(
    r"\bnever (?:\w+ )?(?:again|another)\b|\bnever feel\b|\ball the time\b|\bcompletely happy\b|"
    r"\bno (?:anxiety|worry|worries|stress|sadness|fear) at all\b|\bperfect(?:ly)?\b|"
    r"\beverything\b|\b100 ?%|\balways\b"
)


def _first_action(words: list[str]) -> int | None:
    for index, word in enumerate(words):
        if word in _NOT_ACTIONS or (index and words[index - 1] in _DETERMINERS):
            continue
        if word.startswith(_ACTION_STEMS):
            return index
    return None


# -- the reader ----------------------------------------------------------------------


def _instrument(
    text: str, instruments: Iterable[InstrumentFacts]
) -> tuple[InstrumentFacts, str] | None:
    for instrument in instruments:
        names = (instrument.code, instrument.name, *instrument.aliases)
        for name in names:
            loose = re.escape(name.lower().removesuffix(" total score"))
            loose = loose.replace(r"\-", r"[\s-]?").replace(r"\ ", r"[\s-]?")
            match = re.search(rf"(?<![a-z]){loose}(?![a-z])", text)
            if match:
                return instrument, match.group(0)
    return None


def read_statement(
    statement: str,
    start_on: date,
    *,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> StatementReading:
    """Read what ``statement`` says about behaviour, measure, numbers and time.

    ``start_on`` resolves relative and named times (``within 6 weeks``, ``by
    Christmas``, ``by 15 March``); ``session_interval_days`` turns session
    counts (``over the next 8 sessions``) into days; ``instruments`` are the
    instruments that may be named (by code or name).

    Raises:
        TypeError: ``statement`` is not a text or ``start_on`` not a date.
    """
    if not isinstance(statement, str):
        raise TypeError(f"a statement must be a text; got {statement!r}")
    if not isinstance(start_on, date):
        raise TypeError(f"the start date must be a date; got {start_on!r}")
    return _read(statement, start_on, tuple(instruments), session_interval_days)


@lru_cache(maxsize=2048)
def _read(
    statement: str,
    start_on: date,
    instruments: tuple[InstrumentFacts, ...],
    session_interval_days: int,
) -> StatementReading:
    text = normalise(statement)
    words = re.findall(r"[a-z][a-z'\-]*", text)
    action = _first_action(words)
    behaviour = None if action is None else " ".join(words[action : action + 4])
    situation_match = _SITUATION.search(text)
    situation = situation_match.group(0).strip() if situation_match else None
    means = _MEANS.search(text)
    if behaviour is None and means is not None:
        behaviour = situation = means.group(0).strip()
    wish_match = _WISH.search(text)
    found_instrument = _instrument(text, instruments)
    instrument = found_instrument[0] if found_instrument else None
    numbers = _read_numbers(text)
    frequency = numbers.frequency
    if situation is None and frequency is not None and not frequency["of"]:
        situation = frequency.group(0).strip()
    unit, measure = numbers.unit, numbers.measure
    if instrument is not None:
        unit = unit if unit and unit.startswith("out of") else instrument.name
        measure = instrument.name
    elif unit is None and numbers.target is not None:
        unit = _unit_of(text)
    if measure is None and numbers.target is not None:
        measure = _measured_thing(text)
    maintenance = (
        bool(_MAINTAIN.search(text)) and numbers.baseline is None and numbers.target is not None
    )
    form = numbers.form
    if maintenance and form in ("under", "no more than"):
        form = "keep below"
    baseline, target = numbers.baseline, numbers.target
    direction = _direction(baseline, target, form, instrument)
    time_frame, vague_time = _read_time(text, start_on, session_interval_days)
    if situation and time_frame and time_frame.quote in situation:
        # The situation says when or how, not by when: the time frame is quoted on its own.
        situation = situation[: situation.index(time_frame.quote)].strip(" ,") or situation
    return StatementReading(
        statement=statement,
        behaviour=behaviour,
        situation=situation,
        wish=None if wish_match is None else wish_match.group(0).strip(),
        measure=measure,
        unit=unit,
        instrument=instrument,
        direction=direction,
        baseline=baseline,
        target=target,
        target_form=form,
        maintenance=maintenance,
        time_frame=time_frame,
        vague_time=vague_time,
        absolutes=tuple(match.group(0) for match in _ABSOLUTES.finditer(text)),
        text=text,
    )


@attrs.frozen
class _Numbers:
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


def _from_to_numbers(from_to: re.Match[str], text: str) -> _Numbers:
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
        target = ReadNumber(value, from_to.group(0).strip())
    raw_form = (from_to["form"] or "").strip()
    measure = None
    stripped = middle.strip()
    if stripped and not re.match(r"^(?:a|per|each|every)\b", stripped):
        measure = re.sub(r"\s+(?:a|per|each|every)\s+\w+$", "", stripped)
    return _Numbers(
        baseline=baseline,
        target=target,
        form=_form(raw_form) if raw_form else "to",
        unit=_unit_of(middle + " " + after) or _unit_of(text),
        measure=measure,
        frequency=_frequency(text),
    )


def _read_numbers(text: str) -> _Numbers:
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
        unit = _unit_of(threshold["rest"]) or _unit_of(text)
    elif to_value:
        unit_words = _UNIT_WORDS.match(to_value["rest"])
        quote = f"to {to_value['value']}" + (unit_words.group(0) if unit_words else "")
        target = ReadNumber(float(to_value["value"]), quote)
        form = "to"
        unit = _unit_of(to_value["rest"]) or _unit_of(text)
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
        unit = _unit_of(frequency.group(0)) or "times per day"
    if baseline is None:
        baseline = _baseline(text, target)
    return _Numbers(baseline, target, form, unit, measure, frequency)


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


def _direction(
    baseline: ReadNumber | None,
    target: ReadNumber | None,
    form: TargetForm | None,
    instrument: InstrumentFacts | None,
) -> Direction | None:
    if instrument is not None:
        return instrument.direction
    if form == "at least":
        return "increase"
    if form in ("no more than", "under", "keep below"):
        return "decrease"
    if (
        baseline is not None
        and target is not None
        and not math.isnan(target.value)
        and target.value != baseline.value
    ):
        return "increase" if target.value > baseline.value else "decrease"
    return None


_THING: Final = re.compile(
    r"\b(?:reduce|decrease|increase|cut|lower|raise|bring|get|improve|limit|keep)\s+(?:down\s+)?"
    r"(?:my\s+|the\s+|his\s+|her\s+|their\s+|our\s+)?(?P<thing>[a-z][a-z\- ']{2,40}?)\s+"
    r"(?:from|to|by|below|under|within|in|at|no)\b"
    r"|\b\d+\s+(?P<counted>(?:[a-z-]+\s+){0,2}?(?:[a-z-]+?s))\s+(?:a|per|each|every)\b"
)


def _measured_thing(text: str) -> str | None:
    match = _THING.search(text)
    if match is None:
        return None
    thing = match.group("thing") or match.group("counted")
    return thing.strip() if thing else None
