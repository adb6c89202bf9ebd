"""Hypothesis strategies for goal statements built from parts, for the SMART laws.

A statement is assembled from a behaviour, a situation, a measure with its
target, and optionally a baseline and a time frame; every part has a
British and an American spelling, so one drawn goal gives both texts. The
parts are chosen so that the goal is realistic (a plausible pace over at
least four weeks, relevant to therapy): a statement without a due date
lacks only that, and one without a baseline lacks only that.

(These live beside the SMART tests rather than in ``tests/strategies.py``
because they describe statements, not stored goals.)
"""

from __future__ import annotations

from datetime import date
from typing import Final, Literal

import attrs
from hypothesis import strategies as st

__all__ = [
    "START",
    "Spelling",
    "StatementGoal",
    "due_phrases",
    "statement_goals",
]

START: Final = date(2026, 3, 16)
"""Every generated statement is read as said on this day (a Monday)."""

Spelling = Literal["british", "american"]

Part = tuple[str, str]
"""One phrase as (British, American) spelling; the same text when they agree."""


def _same(text: str) -> Part:
    return (text, text)


_INCREASE_BEHAVIOURS: Final[tuple[Part, ...]] = (
    _same("walk to the shop alone"),
    ("practise slow breathing", "practice slow breathing"),
    ("socialise with my neighbours", "socialize with my neighbors"),
    _same("go to the gym"),
    _same("phone a friend"),
    ("organise a pleasant activity", "organize a pleasant activity"),
    ("complete a thought record about my behaviour", "complete a thought record about my behavior"),
    (
        "attend a support group at the community centre",
        "attend a support group at the community center",
    ),
    _same("meditate for 10 minutes"),
    _same("play with my children"),
    ("recognise and name my feelings", "recognize and name my feelings"),
    (
        "write in my journal about my favourite moments",
        "write in my journal about my favorite moments",
    ),
    ("analyse my worries in a worry diary", "analyze my worries in a worry diary"),
    ("go to my dance programme", "go to my dance program"),
    ("travel on the bus to the town centre", "travel on the bus to the town center"),
    ("prioritise an enjoyable activity", "prioritize an enjoyable activity"),
)  # fmt: skip
"""Things a client does more of, counted per week."""

_SITUATIONS: Final[tuple[Part, ...]] = (
    _same(""),
    _same("after work"),
    _same("in the evening"),
    _same("when I notice worry"),
    _same("with my partner"),
    _same("on my own"),
    ("at the leisure centre", "at the leisure center"),
    ("with my neighbour", "with my neighbor"),
    ("when I notice anxious behaviour", "when I notice anxious behavior"),
)

_DECREASE_MEASURES: Final[tuple[tuple[Part, str], ...]] = (
    (_same("reduce my panic attacks"), "a week"),
    (_same("cut down my drinking"), "units a week"),
    (_same("reduce my worry episodes"), "a day"),
    (("cut back on checking behaviour", "cut back on checking behavior"), "times a day"),
    (_same("reduce my arguments with my partner"), "a week"),
)
"""Things a client does less of: what is reduced and how it is counted."""

_DECREASE_MEANS: Final[tuple[Part, ...]] = (
    ("by practising slow breathing", "by practicing slow breathing"),
    _same("using the skills from our sessions"),
    ("by using a behavioural experiment each week", "by using a behavioral experiment each week"),
    ("with my counsellor's coping plan", "with my counselor's coping plan"),
    ("by socialising more", "by socializing more"),
)

_NUMBER_WORDS: Final = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip

_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@st.composite
def _count(draw: st.DrawFn, value: int) -> str:
    """A count as digits or as a number word."""
    if value <= 20 and draw(st.booleans()):
        return _NUMBER_WORDS[value]
    return str(value)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


@st.composite
def _spans(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["weeks", "sessions", "months"]))
    if kind == "weeks":
        lead = draw(st.sampled_from(["within", "in", "over the next", "for the next"]))
        return f"{lead} {draw(_count(draw(st.integers(4, 40))))} weeks"
    if kind == "sessions":
        lead = draw(st.sampled_from(["over the next", "within the next", "by the end of our"]))
        return f"{lead} {draw(st.integers(4, 40))} sessions"
    months = draw(st.integers(1, 11))
    return "within a month" if months == 1 else f"within {draw(_count(months))} months"


@st.composite
def _dates(draw: st.DrawFn) -> str:
    month = draw(st.integers(1, 12))
    # At least four weeks ahead: a day in March after the start is next year's, too far.
    low, high = {3: (1, 15), 4: (13, 28)}.get(month, (1, 28))
    day = draw(st.integers(low, high))
    written = draw(st.sampled_from(["{d} {month}", "{month} {nth}", "{d:02d}/{m:02d}"]))
    return "by " + written.format(d=day, m=month, month=_MONTHS[month - 1], nth=_ordinal(day))


_NAMED_TIMES: Final = (
    "by Christmas", "by the end of June", "by the summer holidays", "by the end of the year",
    "by the end of September", "before the end of October",
)  # fmt: skip


def due_phrases() -> st.SearchStrategy[str]:
    """A time frame from four weeks to under a year after :data:`START`, as clinicians say it."""
    return st.one_of(_spans(), _dates(), st.sampled_from(_NAMED_TIMES))


@attrs.frozen
class StatementGoal:
    """A goal drawn from parts, that can be written with or without its baseline and due date.

    ``lead`` opens the statement ("I will "), ``action`` and ``situation``
    say what and when or by what means (after the numbers when
    ``situation_last``), ``target`` is the measured aim; ``baseline`` says
    where the client is now and ``due`` when the goal is due (written first
    when ``due_first``).
    """

    lead: str
    action: Part
    situation: Part
    target: Part
    baseline: Part
    due: str
    due_first: bool
    situation_last: bool

    def text(
        self, spelling: Spelling = "british", *, baseline: bool = True, due: bool = True
    ) -> str:
        """The statement in ``spelling``, with or without the baseline and the due date."""
        side = 0 if spelling == "british" else 1
        before = "" if self.situation_last else self.situation[side]
        words = [self.lead + self.action[side], before, self.target[side]]
        body = " ".join(word for word in words if word)
        if baseline:
            body += self.baseline[side]
        if self.situation_last:
            body += (", " if baseline else " ") + self.situation[side]
        if not due:
            return body[0].upper() + body[1:]
        if self.due_first:
            return f"{self.due[0].upper()}{self.due[1:]}, {body[0].lower()}{body[1:]}"
        return f"{body[0].upper()}{body[1:]} {self.due}"


@st.composite
def _increase_goal(draw: st.DrawFn) -> tuple[Part, Part, Part, Part, bool]:
    action = draw(st.sampled_from(_INCREASE_BEHAVIOURS))
    situation = draw(st.sampled_from(_SITUATIONS))
    target = draw(st.integers(1, 7))
    baseline = draw(st.integers(0, target - 1))
    count = draw(_count(target))
    forms = ["{n} times a week", "at least {n} times a week", "on {n} days each week",
             "{n} times per week"]  # fmt: skip
    if target == 1:
        forms = ["once a week", "at least once a week", "on 1 day each week", "1 time per week"]
    target_part = _same(draw(st.sampled_from(forms)).format(n=count))
    lead = draw(st.sampled_from([", up from {b}", " (currently {b})", ", up from {b} a week"]))
    baseline_part = _same(lead.format(b=draw(_count(baseline))))
    return action, situation, target_part, baseline_part, False


@st.composite
def _decrease_goal(draw: st.DrawFn) -> tuple[Part, Part, Part, Part, bool]:
    action, per = draw(st.sampled_from(_DECREASE_MEASURES))
    means = draw(st.sampled_from(_DECREASE_MEANS))
    baseline = draw(st.integers(2, 20))
    target = draw(st.integers(1, baseline - 1))
    forms = ["to {n} {per}", "to no more than {n} {per}", "to under {n} {per}"]
    form = draw(st.sampled_from(forms))
    target_part = _same(form.format(n=draw(_count(target)), per=per))
    lead = draw(st.sampled_from([", down from {b}", " (currently {b})", ", down from {b} {per}"]))
    baseline_part = _same(lead.format(b=draw(_count(baseline)), per=per))
    return action, means, target_part, baseline_part, True


@st.composite
def _instrument_goal(draw: st.DrawFn) -> tuple[Part, Part, Part, Part, bool]:
    # The largest change is what four weeks allow: a tenth of the scale's range a week.
    name, high, largest = draw(st.sampled_from([("PHQ-9", 27, 10), ("GAD-7", 21, 8)]))
    action = _same(draw(st.sampled_from([f"reduce my {name} score", f"bring my {name} down"])))
    means = draw(st.sampled_from(_DECREASE_MEANS))
    baseline = draw(st.integers(10, high))
    target = draw(st.integers(max(0, baseline - largest), baseline - 1))
    form = draw(st.sampled_from(["to {n}", "to below {n}", "to under {n}"]))
    baseline_part = _same(draw(st.sampled_from([", down from {b}", " (currently {b})"])).format(
        b=baseline
    ))  # fmt: skip
    return action, means, _same(form.format(n=target)), baseline_part, True


@st.composite
def statement_goals(draw: st.DrawFn) -> StatementGoal:
    """A realistic goal: a counted behaviour to increase or decrease, or an instrument score."""
    action, situation, target, baseline, situation_last = draw(
        st.one_of(_increase_goal(), _decrease_goal(), _instrument_goal())
    )
    return StatementGoal(
        lead=draw(st.sampled_from(["", "I will ", "I am going to "])),
        action=action,
        situation=situation,
        target=target,
        baseline=baseline,
        due=draw(due_phrases()),
        due_first=draw(st.booleans()),
        situation_last=situation_last,
    )
