"""Working time: weekly hours (utils.hours) and the dates that differ from them; where a change
of hours may have left bookings outside them, and whether a booking fits a day's hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    specialist or (None) all of them. /dayoff and /hours_on: one date; /hours_set: that weekday
    within the booking horizon."""

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
        count = (self.last - self.first).days + 1
        every = (self.first + timedelta(days=n) for n in range(count))
        return [d for d in every if self.weekday is None or d.weekday() == self.weekday]


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
