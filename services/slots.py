"""The slot engine: pure functions from a schedule, the bookings and the clock to free times.

Nothing here touches the database or the clock; callers pass both in. The same functions decide
what the client is shown and what a booking accepts (services/placement.py), so the two can never
disagree.

Time rules: candidate starts are laid on the local wall clock every ``step`` minutes from the
start of each working interval. A wall time the clocks skip (spring-forward gap) does not exist
and is never offered. An ambiguous wall time (the repeated hour in autumn) is offered once, as
its first occurrence; the second pass through that hour is not offered. A service must end, in
real elapsed time, by the end of its working interval; the buffer after it may run past closing.
"""

from __future__ import annotations

import bisect
import calendar
import collections
import functools
import itertools
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

from pytz.tzinfo import BaseTzInfo

from domain.bookings import BusyInterval
from domain.catalog import Service
from domain.rules import Rules
from domain.schedule import ScheduleException
from utils.hours import Interval, WeeklyHours
from utils.timeutil import localize_boundary, localize_strict, to_ts


def hours_for_day(
    day: date,
    specialist_id: int,
    weekly: WeeklyHours,
    exceptions: Sequence[ScheduleException],
) -> list[Interval]:
    """Working intervals of one specialist on one local date.

    A day off (the business's or the specialist's) closes the day. Otherwise custom hours for
    the date replace the weekly ones; the specialist's own custom hours win over the business's.
    """
    relevant = [e for e in exceptions if e.day == day and e.specialist_id in (None, specialist_id)]
    if any(e.hours is None for e in relevant):
        return []
    own = sorted(e.hours for e in relevant if e.hours and e.specialist_id == specialist_id)
    if own:
        return own
    shared = sorted(e.hours for e in relevant if e.hours and e.specialist_id is None)
    if shared:
        return shared
    return list(weekly.get(day.weekday(), []))


def _wall(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(0, 0)) + timedelta(minutes=minute)


def is_candidate(
    start: datetime,
    day: date,
    tz: BaseTzInfo,
    hours: Sequence[Interval],
    duration_minutes: int,
    step: int,
) -> bool:
    return start in _candidate_set(day, tz, tuple(hours), duration_minutes, step)


# Localizing wall times through pytz is the engine's main cost, and the answer for a given day,
# zone, hours and service length never changes: compute it once per process.
@functools.lru_cache(maxsize=16384)
def _candidates(
    day: date, tz: BaseTzInfo, hours: tuple[Interval, ...], duration_minutes: int, step: int
) -> tuple[datetime, ...]:
    duration = timedelta(minutes=duration_minutes)
    found: list[datetime] = []
    for first, last in hours:
        closing = localize_boundary(tz, _wall(day, last))
        for minute in range(first, last, step):
            start = localize_strict(tz, _wall(day, minute))
            if start is None:
                continue
            if start + duration > closing:
                break
            found.append(start)
    return tuple(found)


@functools.lru_cache(maxsize=16384)
def _candidate_stamps(
    day: date, tz: BaseTzInfo, hours: tuple[Interval, ...], duration_minutes: int, step: int
) -> tuple[int, ...]:
    return tuple(to_ts(s) for s in _candidates(day, tz, hours, duration_minutes, step))


@functools.lru_cache(maxsize=16384)
def _candidate_set(
    day: date, tz: BaseTzInfo, hours: tuple[Interval, ...], duration_minutes: int, step: int
) -> frozenset[datetime]:
    return frozenset(_candidates(day, tz, hours, duration_minutes, step))


class BusyIndex:
    """Answers "is [start, end) free?" for one specialist in O(log n)."""

    def __init__(self, intervals: Sequence[BusyInterval]) -> None:
        ordered = sorted(intervals, key=operator.attrgetter("start"))
        self._starts = [b.start for b in ordered]
        # Running maximum of the ends: correct even if old data holds overlapping bookings.
        self._max_until = list(itertools.accumulate((b.until for b in ordered), max))

    def is_free(self, start: int, end: int) -> bool:
        before_end = bisect.bisect_left(self._starts, end)
        return before_end == 0 or self._max_until[before_end - 1] <= start

    def is_free_besides(self, start: int, end: int) -> bool:
        """is_free(), not counting the intervals that begin exactly at ``start``."""
        at = bisect.bisect_left(self._starts, start)
        after = bisect.bisect_right(self._starts, start)
        ended = at == 0 or self._max_until[at - 1] <= start
        return ended and bisect.bisect_left(self._starts, end) == after


class Busy(Protocol):
    """What the engine asks of a specialist's time: can a booking take [start, end)?"""

    def is_free(self, start: int, end: int) -> bool: ...


class SessionIndex:
    """One specialist's time as a group service sees it (capacity > 1).

    A session is this specialist, this service, one start; its seats are its bookings. A start
    can take one more client when nothing else is there (exactly BusyIndex's answer), or when a
    session of the service is there with a seat left and nothing but that session overlaps the
    time the new booking takes: no other service, no session of the service at another start.
    """

    def __init__(self, intervals: Sequence[BusyInterval], service_id: int, capacity: int) -> None:
        own = [b for b in intervals if b.service_id == service_id]
        self.capacity = capacity
        self._all = BusyIndex(intervals)
        self._others = BusyIndex([b for b in intervals if b.service_id != service_id])
        self._own = BusyIndex(own)
        self._taken = collections.Counter(b.start for b in own)

    def taken(self, start: int) -> int:
        """Seats taken in the session at ``start`` (0: no session there)."""
        return self._taken.get(start, 0)

    def is_free(self, start: int, end: int) -> bool:
        taken = self._taken.get(start, 0)
        if not taken:
            return self._all.is_free(start, end)
        return (
            taken < self.capacity
            and self._others.is_free(start, end)
            and self._own.is_free_besides(start, end)
        )


@dataclass(frozen=True)
class SlotQuery:
    """What is being looked for: a service's length, as of now, under the business's rules."""

    rules: Rules
    duration_minutes: int
    buffer_minutes: int
    now: datetime
    service_id: int = 0
    capacity: int = 1  # more than 1: a group service, whose sessions take clients seat by seat

    @classmethod
    def of(cls, rules: Rules, service: Service, now: datetime) -> SlotQuery:
        return cls(
            rules,
            service.duration_minutes,
            service.buffer_minutes,
            now,
            service.id,
            service.capacity,
        )

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    @property
    def tz(self) -> BaseTzInfo:
        return self.rules.tz

    @functools.cached_property
    def bookable(self) -> tuple[date, date]:
        return self.rules.bookable_days(self.now)

    @functools.cached_property
    def earliest(self) -> datetime:
        return self.rules.earliest_start(self.now)

    @functools.cached_property
    def taken_seconds(self) -> int:
        """How long a booking keeps the specialist: the service plus its buffer."""
        return (self.duration_minutes + self.buffer_minutes) * 60

    def is_free(self, start: datetime, busy: Busy) -> bool:
        ts = to_ts(start)
        return busy.is_free(ts, ts + self.taken_seconds)


@dataclass(frozen=True)
class SpecialistSchedule:
    """What the engine needs to know about one specialist for a range of days."""

    specialist_id: int
    weekly: WeeklyHours
    busy: Busy


def iter_free_starts(
    day: date, hours: Sequence[Interval], busy: Busy, q: SlotQuery
) -> Iterator[datetime]:
    first, last = q.bookable
    if not first <= day <= last:
        return
    # Rounded up, as Confirm compares exact instants: a start half a second too soon is not
    # offered.
    earliest, taken = math.ceil(q.earliest.timestamp()), q.taken_seconds
    key = (day, q.tz, tuple(hours), q.duration_minutes, q.rules.step_minutes)
    for start, ts in zip(_candidates(*key), _candidate_stamps(*key), strict=True):
        if ts >= earliest and busy.is_free(ts, ts + taken):
            yield start


def specialist_free_starts(
    day: date,
    schedule: SpecialistSchedule,
    exceptions: Sequence[ScheduleException],
    q: SlotQuery,
) -> Iterator[datetime]:
    hours = hours_for_day(day, schedule.specialist_id, schedule.weekly, exceptions)
    return iter_free_starts(day, hours, schedule.busy, q)


def free_starts(
    day: date,
    schedules: Sequence[SpecialistSchedule],
    exceptions: Sequence[ScheduleException],
    q: SlotQuery,
) -> dict[datetime, list[int]]:
    """Free starts of the day (any of the given specialists), each with who is free then."""
    result: dict[datetime, list[int]] = {}
    for schedule in schedules:
        for start in specialist_free_starts(day, schedule, exceptions, q):
            result.setdefault(start, []).append(schedule.specialist_id)
    return dict(sorted(result.items()))


def month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def last_free_start(day: date, hours: Sequence[Interval], busy: Busy, q: SlotQuery) -> int | None:
    """The day's latest free start (a Unix time) whatever the clock says; None if none.

    The day can be offered at ``q.now`` exactly when it is bookable and this start is not
    before the earliest one (``open_days``): what a month of these depends on changes only
    with the bookings and hours, never with the clock, so it can be kept (services/calendar.py).
    """
    taken = q.taken_seconds
    key = (day, q.tz, tuple(hours), q.duration_minutes, q.rules.step_minutes)
    for ts in reversed(_candidate_stamps(*key)):
        if busy.is_free(ts, ts + taken):
            return ts
    return None


def last_free_starts(
    days: Sequence[date],
    schedule: SpecialistSchedule,
    exceptions: Sequence[ScheduleException],
    q: SlotQuery,
) -> dict[date, int]:
    """last_free_start() of one specialist for each of the days that has one."""
    by_day: dict[date, list[ScheduleException]] = {}
    for exception in exceptions:
        by_day.setdefault(exception.day, []).append(exception)
    found: dict[date, int] = {}
    for day in days:
        hours = hours_for_day(day, schedule.specialist_id, schedule.weekly, by_day.get(day, ()))
        ts = last_free_start(day, hours, schedule.busy, q)
        if ts is not None:
            found[day] = ts
    return found


def open_days(days: Sequence[date], lasts: Sequence[Mapping[date, int]], q: SlotQuery) -> set[date]:
    """The days someone (one mapping of last_free_starts per specialist) can still take at
    ``q.now``: within the bookable range, with a free start at or after the earliest one."""
    first, last = q.bookable
    # Rounded up like iter_free_starts, which lists the times of the day.
    earliest = math.ceil(q.earliest.timestamp())
    return {
        day
        for day in days
        if first <= day <= last and any(found.get(day, earliest - 1) >= earliest for found in lasts)
    }


def available_days(
    year: int,
    month: int,
    schedules: Sequence[SpecialistSchedule],
    exceptions: Sequence[ScheduleException],
    q: SlotQuery,
) -> set[date]:
    """Days of the month with at least one free start for any of the specialists."""
    days = month_days(year, month)
    return open_days(days, [last_free_starts(days, s, exceptions, q) for s in schedules], q)


def busy_by_specialist(
    intervals: Sequence[BusyInterval], specialist_ids: Sequence[int], q: SlotQuery | None = None
) -> Mapping[int, Busy]:
    """Each specialist's time; for a group service (``q``), as its sessions see it."""
    grouped: dict[int, list[BusyInterval]] = {sid: [] for sid in specialist_ids}
    for interval in intervals:
        if interval.specialist_id in grouped:
            grouped[interval.specialist_id].append(interval)
    if q is not None and q.is_group:
        return {
            sid: SessionIndex(items, q.service_id, q.capacity) for sid, items in grouped.items()
        }
    return {sid: BusyIndex(items) for sid, items in grouped.items()}


def seats_taken(start: datetime, busy: Busy) -> int | None:
    """Seats taken in the session at ``start`` of one specialist (0: none yet); None for a
    one-client service."""
    return busy.taken(to_ts(start)) if isinstance(busy, SessionIndex) else None
