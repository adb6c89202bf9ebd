"""Achievable: the named rules a goal's planned change must keep, and a plausible pace.

Safety rules say why (abrupt cessation after heavy drinking or of a
benzodiazepine without medical support, weight change over a kilogram a
week, a diet under 1,000 kcal a day); a score must lie inside its
instrument's or rating's scale; all-or-nothing aims (``never ... again``)
fail; and the pace is judged on absolute and relative steps a week.
"""

from __future__ import annotations

import math
import re
from typing import Final

from goalpath.core.smart_parts import SmartParts

__all__ = [
    "HEAVY_DRINKING_UNITS_PER_DAY",
    "MAX_HORIZON_DAYS",
    "MAX_INSTRUMENT_WEEKLY_SHARE",
    "MAX_WEEKLY_RELATIVE_CHANGE",
    "MAX_WEEKLY_TARGET_SHARE",
    "MIN_DAILY_CALORIES",
    "MIN_HORIZON_DAYS",
    "MIN_WEEKLY_STEP",
    "SAFE_WEIGHT_CHANGE_KG_PER_WEEK",
    "achievability_problem",
    "achievable_checks",
]

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


def achievability_problem(parts: SmartParts) -> tuple[str, str] | None:
    """The reason and the suggestion of the first rule the goal breaks, or ``None``.

    The rules, in order: the named safety rules (abrupt cessation after heavy
    drinking or of a benzodiazepine without medical support, weight change
    too fast, a diet too low), a score outside its scale, an all-or-nothing
    aim, and a pace faster than is usually sustained.
    """
    text = parts.reading.text
    return (
        _safety_problem(text, parts)
        or _range_problem(parts)
        or _absolute_problem(parts)
        or _pace_problem(parts)
    )


def achievable_checks(parts: SmartParts) -> str:
    """What was checked of a goal that breaks no rule, for Achievable's reason."""
    checked = ["no safety rule applies"]
    if parts.instrument is not None:
        checked.append(f"inside the {parts.instrument.name} range")
    if parts.baseline is not None and parts.target is not None and parts.due_on is not None:
        days = (parts.due_on - parts.start_on).days
        checked.append(
            f"{parts.baseline:g} to {parts.target:g} over {days} days is a plausible pace"
        )
    return "; ".join(checked)


def _safety_problem(text: str, parts: SmartParts) -> tuple[str, str] | None:
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


def _range_problem(parts: SmartParts) -> tuple[str, str] | None:
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


def _scale(parts: SmartParts) -> tuple[float | None, float | None, str]:
    if parts.instrument is not None:
        return parts.instrument.minimum, parts.instrument.maximum, parts.instrument.name
    unit = parts.unit or ""
    if unit.startswith("out of "):
        return 0.0, float(unit.removeprefix("out of ")), "rating"
    if unit == "%":
        return 0.0, 100.0, "percentage"
    return None, None, ""


def _absolute_problem(parts: SmartParts) -> tuple[str, str] | None:
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


def _pace_problem(parts: SmartParts) -> tuple[str, str] | None:
    baseline, target, due_on = parts.baseline, parts.target, parts.due_on
    if baseline is None or target is None or math.isnan(target) or due_on is None:
        return None
    days = (due_on - parts.start_on).days
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
