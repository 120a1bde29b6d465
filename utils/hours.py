"""Parsing and formatting of weekly working hours, e.g. ``mon-fri 10:00-14:00,15:00-19:00``.

A day's hours are a list of (start_minute, end_minute) pairs on the local wall clock, minutes
counted from midnight; an end of 24:00 (1440) is allowed. Gaps between intervals are breaks.
"""

from __future__ import annotations

import itertools
import re

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Interval = tuple[int, int]
WeeklyHours = dict[int, list[Interval]]

_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-4]):([0-5][0-9])$")


class HoursFormatError(ValueError):
    """Raised with a human-readable explanation of what is wrong with an hours string."""


def parse_time(text: str) -> int:
    """``HH:MM`` -> minutes from midnight (24:00 allowed as the end of a day)."""
    match = _TIME_RE.match(text.strip())
    if not match:
        raise HoursFormatError(f"'{text.strip()}' is not a time HH:MM")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 24 * 60:
        raise HoursFormatError(f"'{text.strip()}' is past 24:00")
    return minutes


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_weekday(text: str) -> int:
    """mon ... sun, or the full English name; nothing else ("monkey" is not Monday)."""
    key = text.strip().lower()
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    if key in FULL_WEEKDAYS:
        return FULL_WEEKDAYS.index(key)
    raise HoursFormatError(f"'{text.strip()}' is not a weekday (mon, tue, ... sun)")


def parse_intervals(text: str) -> list[Interval]:
    """``10:00-14:00,15:00-19:00`` -> sorted, non-overlapping intervals; ``off`` -> []."""
    text = text.strip().lower()
    if text in ("off", "closed", "-"):
        return []
    intervals: list[Interval] = []
    for part in text.split(","):
        bounds = part.strip().split("-")
        if len(bounds) != 2:
            raise HoursFormatError(f"'{part.strip()}' is not an interval HH:MM-HH:MM")
        start, end = parse_time(bounds[0]), parse_time(bounds[1])
        if start >= end:
            raise HoursFormatError(f"'{part.strip()}' ends before it starts")
        intervals.append((start, end))
    intervals.sort()
    for (_, prev_end), (next_start, _) in itertools.pairwise(intervals):
        if next_start < prev_end:
            raise HoursFormatError(f"intervals overlap in '{text}'")
    return intervals


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = (parse_weekday(p) for p in part.split("-", 1))
            if last < first:
                raise HoursFormatError(f"day range '{part}' runs backwards")
            days.extend(range(first, last + 1))
        else:
            days.append(parse_weekday(part))
    return days


def parse_weekly(text: str) -> WeeklyHours:
    """``mon-fri 10:00-14:00,15:00-19:00; sat 11:00-16:00`` -> {weekday: intervals}.

    Days not named are days off. A day named twice is an error, not a silent override.
    """
    weekly: WeeklyHours = {}
    for clause in text.split(";"):
        clause = clause.strip()
        if not clause:
            continue
        pieces = clause.split(None, 1)
        if len(pieces) != 2:
            raise HoursFormatError(f"'{clause}' needs days and hours, e.g. 'mon-fri 10:00-19:00'")
        days, intervals = _parse_days(pieces[0]), parse_intervals(pieces[1])
        for day in days:
            if day in weekly:
                raise HoursFormatError(f"{WEEKDAYS[day]} is given twice")
            weekly[day] = intervals
    return weekly


def format_intervals(intervals: list[Interval]) -> str:
    if not intervals:
        return "off"
    return ",".join(f"{format_time(s)}-{format_time(e)}" for s, e in intervals)
