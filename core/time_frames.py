"""Reading the time frame of a goal statement: dates, spans, holidays and session counts.

:func:`read_time_frame` reads a statement already normalised by
:func:`goalpath.core.statement_reader.normalise`. A few cheap patterns come
first (ISO, ``15/03``, ``15 March``, ``March 15th``, month names, holidays
and seasons resolved against the start date, relative spans, session
counts at the episode's cadence); only a ``by ...`` phrase that none of
them reads is handed to dateparser, which is thorough but about a
millisecond a call. python-dateutil gives Easter's date.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Final

import attrs
from dateutil.easter import easter  # type: ignore[import-untyped]  # no stubs installed

__all__ = ["ReadTimeFrame", "read_time_frame"]


@attrs.frozen
class ReadTimeFrame:
    """A due date read from the statement: the date and the words it was resolved from."""

    due_on: date
    quote: str


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


def read_time_frame(  # noqa: PLR0912  # one loop per kind of time frame
    text: str, start_on: date, session_interval_days: int
) -> tuple[ReadTimeFrame | None, str | None]:
    """The first time frame of a normalised statement, and vague words about time if none.

    ``start_on`` resolves relative and named times; ``session_interval_days``
    turns session counts into days.
    """
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
