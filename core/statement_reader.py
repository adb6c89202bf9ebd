"""Reading a goal statement: behaviour, situation, measure, numbers and time frame.

:func:`read_statement` is a pure function from a statement (and the start
date, the known instruments and the session cadence) to a typed
:class:`StatementReading`. Every part it reads keeps the words it was read
from (``quote``), so that SMART reasons can say what was read.

Number words are turned into digits with text2num (``eleven`` becomes 11)
and spellings unified here (:func:`normalise`); the numbers are read by
:mod:`goalpath.core.statement_numbers` and the time frame by
:mod:`goalpath.core.time_frames`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from typing import Final

import attrs
from text_to_num import text2num  # type: ignore[import-untyped]  # the package ships no types

from goalpath.core.statement_numbers import (
    ReadNumber,
    TargetForm,
    measured_thing,
    read_numbers,
    unit_of,
)
from goalpath.core.time_frames import ReadTimeFrame, read_time_frame
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
_TYPO: Final = re.compile(
    r"(?<![a-z/])(?:"
    + "|".join(map(re.escape, sorted(_TYPOS, key=len, reverse=True)))
    + r")(?![a-z/])"
)
"""A slip of :data:`_TYPOS` as a whole word (a run of letters and slashes)."""

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
    text = _TYPO.sub(lambda match: _TYPOS[match.group(0)], text)
    for pattern, replacement in _SPELLING:
        text = pattern.sub(replacement, text)
    text = _NUMBER_RUN.sub(_to_digits, text)
    text = re.sub(r"\bonce\b", "1 time", text)
    return re.sub(r"\btwice\b", "2 times", text)


def clear_caches() -> None:
    """Forget every statement read so far (for benchmarks that time a first reading)."""
    normalise.cache_clear()
    _read.cache_clear()


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


_MAINTAIN: Final = re.compile(r"\b(?:keep|stay|maintain|carry on|continue)\b")
"""Words of a goal that keeps a level already reached ('keep my drinking under 14 units')."""


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
    words = re.findall(r"[a-z][a-z0-9'\-]*", text)
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
    numbers = read_numbers(text)
    frequency = numbers.frequency
    if situation is None and frequency is not None and not frequency["of"]:
        situation = frequency.group(0).strip()
    unit, measure = numbers.unit, numbers.measure
    if instrument is not None:
        unit = unit if unit and unit.startswith("out of") else instrument.name
        measure = instrument.name
    elif unit is None and numbers.target is not None:
        unit = unit_of(text)
    if measure is None and numbers.target is not None:
        measure = measured_thing(text)
    maintenance = (
        bool(_MAINTAIN.search(text)) and numbers.baseline is None and numbers.target is not None
    )
    form = numbers.form
    if maintenance and form in ("under", "no more than"):
        form = "keep below"
    baseline, target = numbers.baseline, numbers.target
    direction = _direction(baseline, target, form, instrument)
    time_frame, vague_time = read_time_frame(text, start_on, session_interval_days)
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
