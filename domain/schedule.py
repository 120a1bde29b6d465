"""Working time: weekly hours (utils.hours) and the dates that differ from them; where a change
of hours may have left bookings outside them, and whether a booking fits a day's hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from pytz.tzinfo import BaseTzInfo

from utils.hours import Interval
from utils.timeutil import localize_boundary


@dataclass(frozen=True)
class ScheduleException:
    """A date's override. ``hours`` None means closed; otherwise one custom interval.

    ``specialist_id`` None means the whole business.
    """

    id: int
    specialist_id: int | None
    day: date
    hours: Interval | None
    reason: str


def closure(
    exceptions: Sequence[ScheduleException], day: date, specialist_id: int
) -> ScheduleException | None:
    """What closes the date for the specialist (the whole business's day off first, then
    their own), or None when it is not closed."""
    closed = [
        e
        for e in exceptions
        if e.day == day and e.hours is None and e.specialist_id in (None, specialist_id)
    ]
    closed.sort(key=lambda e: e.specialist_id is not None)
    return closed[0] if closed else None


@dataclass(frozen=True)
class HoursScope:
    """Where a change of hours may have left bookings outside them: the local dates
    first..last (only those falling on ``weekday``, 0 = Monday, when one is given), for one
    specialist or (None) all of them. /dayoff and /hours_on: a date or a range of dates;
    /hours_set: that weekday within the booking horizon."""

    first: date
    last: date
    weekday: int | None = None
    specialist_id: int | None = None

    @classmethod
    def day(cls, day: date) -> HoursScope:
        return cls(day, day)

    def covers(self, day: date, specialist_id: int) -> bool:
        return (
            self.first <= day <= self.last
            and (self.weekday is None or day.weekday() == self.weekday)
            and self.specialist_id in (None, specialist_id)
        )

    def days(self) -> list[date]:
        """The dates covered, in order."""
        every = dates(self.first, self.last)
        return [d for d in every if self.weekday is None or d.weekday() == self.weekday]


def dates(first: date, last: date) -> list[date]:
    """The dates first..last, in order."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dataclass(frozen=True)
class TimeOff:
    """Consecutive dates with the same override for the same scope: a vacation, a holiday, a
    week of short hours. ``hours`` empty means closed."""

    first: date
    last: date
    specialist_id: int | None
    specialist_name: str | None
    hours: tuple[Interval, ...]
    reason: str


def group_time_off(
    exceptions: Sequence[ScheduleException], names: Mapping[int, str]
) -> list[TimeOff]:
    """The overrides as ranges: the business's first, then each specialist's, by date.
    ``exceptions`` come ordered by scope, then date (one row per custom interval)."""
    by_day: dict[tuple[int | None, date], list[ScheduleException]] = {}
    for e in exceptions:
        by_day.setdefault((e.specialist_id, e.day), []).append(e)
    found: list[TimeOff] = []
    for (sid, day), rows in by_day.items():
        hours = tuple(sorted(e.hours for e in rows if e.hours is not None))
        reason = rows[0].reason
        last = found[-1] if found else None
        if (
            last is not None
            and (last.specialist_id, last.hours, last.reason) == (sid, hours, reason)
            and last.last + timedelta(days=1) == day
        ):
            found[-1] = replace(last, last=day)
        else:
            name = None if sid is None else names.get(sid)
            found.append(TimeOff(day, day, sid, name, hours, reason))
    return found


def fits_hours(
    start: datetime, end: datetime, day: date, tz: BaseTzInfo, hours: Sequence[Interval]
) -> bool:
    """Whether [start, end) lies inside one of the working intervals of the local ``day``.

    Only the visit counts (a buffer after it may run past closing, as when it was booked), and
    not the step grid: a booking that still fits is kept, whatever starts are offered now.
    """
    midnight = datetime.combine(day, time(0, 0))
    return any(
        localize_boundary(tz, midnight + timedelta(minutes=first)) <= start
        and end <= localize_boundary(tz, midnight + timedelta(minutes=last))
        for first, last in hours
    )
