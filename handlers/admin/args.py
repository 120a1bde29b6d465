"""Reading admin command arguments. Pure: None means "malformed", and the usage line is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from utils.hours import HoursFormatError, Interval, parse_intervals, parse_weekday

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ID_RE = re.compile(r"^[0-9]{1,15}$")
MAX_NAME = 64
MAX_TEXT = 500
MAX_RANGE_DAYS = 366
MIN_YEAR, MAX_YEAR = 2000, 2100


def words(args: str | None) -> list[str]:
    return (args or "").split()


def parse_id(text: str) -> int | None:
    return int(text) if _ID_RE.match(text) and int(text) > 0 else None


def parse_ids(text: str) -> list[int] | None:
    ids = [parse_id(part.strip()) for part in text.split(",") if part.strip()]
    if not ids or any(i is None for i in ids):
        return None
    return [i for i in ids if i is not None]


def parse_day(text: str, today: date) -> date | None:
    """YYYY-MM-DD, today or tomorrow; an impossible date (2026-02-30) is None."""
    word = text.strip().lower()
    if word in ("today", "сегодня"):
        return today
    if word in ("tomorrow", "завтра"):
        return today + timedelta(days=1)
    if not _DATE_RE.match(word):
        return None
    try:
        day = date.fromisoformat(word)
    except ValueError:
        return None
    # Far-off years overflow the time arithmetic; no business plans in them.
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def parse_range(args: list[str], today: date) -> tuple[date, date] | None:
    """[] -> the current month; [FROM, TO] -> those days (FROM <= TO, at most a year)."""
    if not args:
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if len(args) != 2:
        return None
    start, end = parse_day(args[0], today), parse_day(args[1], today)
    if start is None or end is None or end < start:
        return None
    if (end - start).days >= MAX_RANGE_DAYS:
        return None
    return start, end


class SpanProblem(StrEnum):
    BACKWARDS = "backwards"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class BadSpan:
    """A well-formed range that cannot be: named in the answer, not just the usage line."""

    problem: SpanProblem
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def parse_span(text: str, today: date) -> tuple[date, date] | BadSpan | None:
    """DATE or DATE..DATE (both included, at most MAX_RANGE_DAYS days); None if malformed."""
    head, dots, tail = text.partition("..")
    first = parse_day(head, today)
    last = parse_day(tail, today) if dots else first
    if first is None or last is None:
        return None
    if last < first:
        return BadSpan(SpanProblem.BACKWARDS, first, last)
    if (last - first).days >= MAX_RANGE_DAYS:
        return BadSpan(SpanProblem.TOO_LONG, first, last)
    return first, last


@dataclass(frozen=True)
class TimeOffArgs:
    """``[SPECIALIST_ID] DATE[..DATE] REST...`` of /dayoff, /dayon and /hours_on."""

    specialist_id: int | None
    first: date
    last: date
    rest: list[str]


def parse_time_off(args: list[str], today: date) -> TimeOffArgs | BadSpan | None:
    specialist_id = parse_id(args[0]) if args else None
    if specialist_id is not None:
        args = args[1:]
    if not args:
        return None
    span = parse_span(args[0], today)
    if span is None or isinstance(span, BadSpan):
        return span
    return TimeOffArgs(specialist_id, span[0], span[1], args[1:])


def parse_intervals_arg(text: str) -> list[Interval] | None:
    try:
        return parse_intervals(text)
    except HoursFormatError:
        return None


def parse_weekday_arg(text: str) -> int | None:
    if len(text) < 3:
        return None
    try:
        return parse_weekday(text)
    except HoursFormatError:
        return None


def clean_text(text: str, limit: int) -> str | None:
    cleaned = " ".join("".join(ch for ch in text if ch.isprintable()).split())
    return cleaned if cleaned and len(cleaned) <= limit else None


def parse_minutes(text: str, low: int, high: int) -> int | None:
    if not re.match(r"^[0-9]{1,5}$", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_whole(text: str, low: int, high: int) -> int | None:
    """A whole number from ``low`` to ``high`` written in plain digits (no sign, no spaces)."""
    if not re.match(r"^[0-9]{1,9}$", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_price(text: str) -> int | None:
    return int(text) if re.match(r"^[0-9]{1,9}$", text) else None
