"""The four goal areas and the words that tie a statement to one of them (Relevant).

:func:`infer_area` guesses a statement's primary area from keywords matched
at the start of a word; what the client will practise ("by practising
mindfulness") says how, not which area, unless nothing else does.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Final

from goalpath.core.values import GOAL_AREAS, GoalArea

__all__ = ["AREA_KEYWORDS", "area_words", "infer_area"]

AREA_KEYWORDS: Final[dict[str, tuple[str, ...]]] = {
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

_LETTERS: Final = frozenset(string.ascii_lowercase)


def _at_a_word_start(keyword: str, text: str) -> bool:
    """Whether ``keyword`` occurs in ``text`` where no letter precedes it ('pain' not in 'repaint').

    A plain substring search rather than a regular expression per keyword:
    the keyword lists are long and this runs for every statement.
    """
    found = text.find(keyword)
    while found != -1:
        if found == 0 or text[found - 1] not in _LETTERS:
            return True
        found = text.find(keyword, found + 1)
    return False


def infer_area(statement: str, extra: Iterable[str] = ()) -> GoalArea | None:
    """Guess the primary goal area a statement belongs to, or ``None`` if no keyword matches."""
    # What the client will practise says how, not which area the goal serves.
    aim = re.split(r"\bby\s+(?:practi|using|doing|going)", statement, maxsplit=1)[0]
    text = " ".join([aim, *extra]).lower()
    best: tuple[int, str] | None = None
    for area in GOAL_AREAS:
        hits = len(area_words(area, text))
        if hits and (best is None or hits > best[0]):
            best = (hits, area)
    if best is None:
        # A practice may be all that ties a goal to therapy ("... by practising mindfulness").
        if aim != statement:
            return infer_area(statement[len(aim) :], extra)
        return None
    area_name: GoalArea = best[1]  # type: ignore[assignment]  # one of GOAL_AREAS
    return area_name


def area_words(area: str, text: str) -> list[str]:
    """The keywords of ``area`` found in ``text`` (lower case), in the order they are listed."""
    return [keyword for keyword in AREA_KEYWORDS[area] if _at_a_word_start(keyword, text)]
